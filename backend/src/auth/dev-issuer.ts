/**
 * The development issuer: an OpenID Connect issuer inside the backend, so that `npm start` with no
 * configuration still signs every call. It keeps its own ES256 signing key under the data
 * directory (created on first use, readable by the owner only), publishes the public key as a JWKS
 * and its metadata as an OpenID Connect discovery document, and signs access tokens for a user the
 * caller names. Tokens are checked by the same verifier as a real issuer's (auth/verifier.ts).
 *
 * It trusts the local machine: whoever can reach it may sign in as anyone, which is why the server
 * refuses development mode unless it is bound to localhost (auth/index.ts) and answers token
 * requests from loopback addresses only (auth/routes.ts).
 */
import fs from "node:fs";
import path from "node:path";
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from "jose";
import { DEFAULT_TENANT } from "./principal";

/** The audience of development tokens. */
export const DEV_AUDIENCE = "quantatom";
/** Lifetime of a development token, seconds. */
export const DEV_TOKEN_TTL_SEC = 3600;
/** A user id the development issuer signs for: a letter, then letters, digits, `.`, `_`, `-` or `@` (at most 64). */
export const DEV_USER_ID = /^[A-Za-z][A-Za-z0-9._@-]{0,63}$/;

/** What a development token says about its user. */
export interface DevUser {
  /** The subject (`sub`). */
  id: string;
  /** The display name (`name`); default the id. */
  name?: string;
  /** The tenant (`tid`); default DEFAULT_TENANT. */
  tenant?: string;
}

/** The development issuer of one data directory. */
export class DevIssuer {
  private issuerUrl = "";

  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicJwk: JWK,
  ) {}

  /**
   * Loads the signing key from `<dataDir>/dev-issuer/signing-key.json`, or creates it there.
   * @throws Error when the key file exists but cannot be read as a private JWK.
   */
  static async open(dataDir: string): Promise<DevIssuer> {
    const file = path.join(dataDir, "dev-issuer", "signing-key.json");
    let jwk: JWK;
    if (fs.existsSync(file)) {
      jwk = JSON.parse(fs.readFileSync(file, "utf8")) as JWK;
      if (jwk.kty !== "EC" || !jwk.d) throw new Error(`${file} is not a private EC key; delete it to make a new one`);
    } else {
      const { privateKey } = await generateKeyPair("ES256", { extractable: true });
      jwk = { ...(await exportJWK(privateKey)), alg: "ES256", kid: `dev-${Date.now().toString(36)}` };
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
    }
    const { d: _d, ...pub } = jwk;
    const key = (await importJWK(jwk, "ES256")) as CryptoKey;
    return new DevIssuer(key, { ...pub, use: "sig" });
  }

  /** The issuer URL (`<server>/auth/dev`); set once the server listens. */
  get issuer(): string {
    if (!this.issuerUrl) throw new Error("the development issuer has no URL yet");
    return this.issuerUrl;
  }

  /** Sets the issuer URL from the server's base URL. */
  setServerUrl(serverUrl: string): void {
    this.issuerUrl = `${serverUrl.replace(/\/+$/, "")}/auth/dev`;
  }

  /** The public keys (RFC 7517 JWK Set). */
  jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  /** The discovery document (OpenID Connect Discovery 1.0 §3), the fields a verifier needs. */
  metadata(): Record<string, unknown> {
    return {
      issuer: this.issuer,
      jwks_uri: `${this.issuer}/jwks`,
      id_token_signing_alg_values_supported: ["ES256"],
      subject_types_supported: ["public"],
      response_types_supported: ["token"],
    };
  }

  /**
   * Signs an access token for `user`, valid DEV_TOKEN_TTL_SEC seconds.
   * @throws Error when the id does not match DEV_USER_ID.
   */
  async issue(user: DevUser, ttlSec = DEV_TOKEN_TTL_SEC): Promise<{ accessToken: string; expiresIn: number }> {
    if (!DEV_USER_ID.test(user.id)) throw new Error(`user must match ${DEV_USER_ID} (a letter, then up to 63 letters, digits, . _ - @)`);
    const accessToken = await new SignJWT({ name: user.name ?? user.id, tid: user.tenant ?? DEFAULT_TENANT })
      .setProtectedHeader({ alg: "ES256", kid: this.publicJwk.kid, typ: "at+jwt" })
      .setIssuer(this.issuer)
      .setAudience(DEV_AUDIENCE)
      .setSubject(user.id)
      .setIssuedAt()
      .setExpirationTime(`${ttlSec}s`)
      .sign(this.privateKey);
    return { accessToken, expiresIn: ttlSec };
  }

  /**
   * A fetch that answers this issuer's discovery and key URLs in process (for its verifier, which
   * then runs exactly the path a real issuer's does) and 404 for anything else.
   */
  readonly fetch: typeof fetch = async (input) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
    if (url === `${this.issuer}/.well-known/openid-configuration`) return json(this.metadata());
    if (url === `${this.issuer}/jwks`) return json(this.jwks());
    return new Response("not found", { status: 404 });
  };
}
