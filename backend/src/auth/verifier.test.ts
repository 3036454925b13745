/**
 * Token verification against a real OpenID provider (oauth2-mock-server on 127.0.0.1, started
 * here): discovery, JWKS, every way a token can be wrong, and a key rotation at the issuer.
 */
import { generateKeyPair, SignJWT } from "jose";
import { OAuth2Server } from "oauth2-mock-server";
import { AuthError, createOidcVerifier, principalFromClaims, type TokenVerifier } from "./verifier";

const AUDIENCE = "api://quantatom-test";

type Claims = Record<string, unknown>;

describe("createOidcVerifier against a real OpenID provider", () => {
  let idp: OAuth2Server;
  let issuer: string;
  let verifier: TokenVerifier;
  let fetches: string[];

  /** A token from the provider with `claims` merged over its defaults (aud set to AUDIENCE). */
  function token(claims: Claims = {}, opts: { expiresIn?: number; kid?: string } = {}): Promise<string> {
    return idp.issuer.buildToken({
      ...opts,
      scopesOrTransform: (_header, payload) => {
        Object.assign(payload, { aud: AUDIENCE, sub: "user-1", name: "Ann Lee", ...claims });
      },
    });
  }

  async function refusal(t: string): Promise<string> {
    const err = await verifier.verify(t).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).unavailable).toBe(false);
    return (err as AuthError).reason;
  }

  beforeAll(async () => {
    idp = new OAuth2Server();
    await idp.issuer.keys.generate("RS256", { kid: "key-1" });
    await idp.start(0, "127.0.0.1");
    issuer = idp.issuer.url!;
  });

  afterAll(async () => {
    await idp.stop();
  });

  beforeEach(() => {
    fetches = [];
    verifier = createOidcVerifier({
      issuer,
      audience: AUDIENCE,
      keysCooldownMs: 0,
      fetch: (input, init) => {
        fetches.push(String(input instanceof Request ? input.url : input));
        return fetch(input, init);
      },
    });
  });

  it("accepts a valid token and names the caller by its claims, after discovering the keys once", async () => {
    const p = await verifier.verify(await token());
    expect(p).toMatchObject({ subject: "user-1", name: "Ann Lee", tenant: "default" });
    expect(p.expiresAt).toBeGreaterThan(Date.now());
    await verifier.verify(await token({ sub: "user-2" }));
    expect(fetches).toEqual([`${issuer}/.well-known/openid-configuration`, `${issuer}/jwks`]);
  });

  it("refuses expired, not-yet-valid, wrong-audience and wrong-issuer tokens, each with its reason", async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await refusal(await token({ exp: now - 120 }))).toBe("the token expired");
    expect(await refusal(await token({ nbf: now + 600 }))).toBe("the token is not valid yet");
    expect(await refusal(await token({ aud: "api://someone-else" }))).toBe("the token is for another audience");
    expect(await refusal(await token({ iss: "https://evil.example/" }))).toBe("the token is from another issuer");
    // Within the clock skew (30 s by default) a just-expired token still passes.
    await expect(verifier.verify(await token({ exp: now - 5 }))).resolves.toMatchObject({ subject: "user-1" });
  });

  it("refuses a badly signed token, an unsigned (alg none) one, a symmetric one and garbage", async () => {
    const good = await token();
    const [h, p, sig] = good.split(".");
    const flipped = `${h}.${p}.${sig.slice(0, -4)}${sig.slice(-4) === "AAAA" ? "BBBB" : "AAAA"}`;
    expect(await refusal(flipped)).toBe("the token's signature is not valid");
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const claims = { iss: issuer, aud: AUDIENCE, sub: "cfo", exp: Math.floor(Date.now() / 1000) + 600 };
    expect(await refusal(`${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`)).toMatch(/algorithm is not allowed|malformed/);
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid: "key-1" }).sign(new TextEncoder().encode("x".repeat(32)));
    expect(await refusal(hs)).toBe("the token's signing algorithm is not allowed");
    // A key the issuer does not publish, even under a published kid.
    const { privateKey } = await generateKeyPair("RS256");
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "key-1" }).sign(privateKey);
    expect(await refusal(forged)).toBe("the token's signature is not valid");
    expect(await refusal("not-a-token")).toBe("the token is malformed");
  });

  it("picks up a key rotation at the issuer without a restart", async () => {
    await verifier.verify(await token());
    await idp.issuer.keys.generate("RS256", { kid: "key-2" });
    const rotated = await token({}, { kid: "key-2" });
    await expect(verifier.verify(rotated)).resolves.toMatchObject({ subject: "user-1" });
    expect(fetches.filter((u) => u.endsWith("/jwks"))).toHaveLength(2);
  });

  it("says the issuer is unavailable (not the caller's fault) when its metadata cannot be fetched", async () => {
    const down = createOidcVerifier({ issuer: "http://127.0.0.1:9/nothing", audience: AUDIENCE });
    const err = await down.verify(await token()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthError);
    expect((err as AuthError).unavailable).toBe(true);
  });
});

describe("principalFromClaims", () => {
  it("takes Entra ID's oid over sub, its name and tid", () => {
    expect(principalFromClaims({ sub: "pairwise", oid: "0f1e", name: "Ann", tid: "t-1", exp: 100 })).toEqual({
      subject: "0f1e",
      name: "Ann",
      tenant: "t-1",
      expiresAt: 100_000,
    });
    expect(principalFromClaims({ sub: "bob", preferred_username: "bob@example.com" })).toMatchObject({ subject: "bob", name: "bob@example.com", tenant: "default" });
    expect(() => principalFromClaims({ name: "nobody" })).toThrow(AuthError);
    // A token that names its tenant badly is refused, never taken for the default tenant.
    expect(() => principalFromClaims({ sub: "eve", tid: "acme/../globex" })).toThrow(/tid is not a tenant id/);
    expect(() => principalFromClaims({ sub: "eve", tid: 42 })).toThrow(AuthError);
  });
});
