/**
 * Access-token verification against an OpenID Connect issuer, with jose: the issuer's metadata is
 * discovered from `<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4),
 * its signing keys fetched from the `jwks_uri` there, cached, and fetched again when a token names
 * a key id the cache lacks (a key rotation at the issuer is picked up without a restart). A token
 * is accepted only with a valid signature by one of those keys under an allowed algorithm (never
 * `none`, never a symmetric one), the configured `iss` and `aud`, and `exp` / `nbf` within a small
 * clock skew (RFC 7519 §4.1).
 */
import { createRemoteJWKSet, customFetch, errors, type JWTPayload, jwtVerify } from "jose";
import { TENANT_ID } from "../../../common/tenants";
import { DEFAULT_TENANT, type Principal } from "./principal";

/** Why a token was refused (for logs and the client's message; never holds the token). */
export class AuthError extends Error {
  override readonly name = "AuthError";
  /**
   * @param reason what is wrong, e.g. "the token expired", safe to show and log.
   * @param unavailable true when the server could not check the token (the issuer's metadata or
   *   keys could not be fetched): the caller is not at fault.
   */
  constructor(
    readonly reason: string,
    readonly unavailable = false,
  ) {
    super(reason);
  }
}

/** Turns an access token into the verified caller. */
export interface TokenVerifier {
  /**
   * @param token the compact JWS from `Authorization: Bearer <token>`.
   * @throws AuthError naming why the token is refused.
   */
  verify(token: string): Promise<Principal>;
}

/** Asymmetric JWS algorithms accepted by default (RFC 7518 §3.1); `none` and HMAC never are. */
export const DEFAULT_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

/** Options of createOidcVerifier. */
export interface OidcVerifierOptions {
  /** The issuer URL, exactly as the tokens' `iss` (a function when it is known only once the server listens). */
  issuer: string | (() => string);
  /** The expected `aud` (the backend's application id URI or client id). */
  audience: string;
  /** Allowed clock skew for `exp` and `nbf`, seconds; default 30. */
  clockToleranceSec?: number;
  /** Allowed algorithms; default DEFAULT_ALGORITHMS. */
  algorithms?: string[];
  /** Least time between two fetches of the keys, ms (jose's cooldown); default 30,000. */
  keysCooldownMs?: number;
  /** The fetch used for discovery and keys (default the global fetch; the development issuer answers in process). */
  fetch?: typeof fetch;
}

const CLAIM_MESSAGES: Record<string, string> = {
  iss: "the token is from another issuer",
  aud: "the token is for another audience",
  nbf: "the token is not valid yet",
  exp: "the token has no expiry",
  sub: "the token has no subject",
};

/** A safe, specific reason for a jose error (jose's codes: see its `errors` module). */
function reasonOf(err: unknown): AuthError {
  if (err instanceof AuthError) return err;
  if (err instanceof errors.JWTExpired) return new AuthError("the token expired");
  if (err instanceof errors.JWTClaimValidationFailed) return new AuthError(CLAIM_MESSAGES[err.claim] ?? `the token's ${err.claim} claim is not valid`);
  if (err instanceof errors.JOSEAlgNotAllowed) return new AuthError("the token's signing algorithm is not allowed");
  if (err instanceof errors.JWSSignatureVerificationFailed) return new AuthError("the token's signature is not valid");
  if (err instanceof errors.JWKSNoMatchingKey) return new AuthError("the token is signed with a key the issuer does not publish");
  if (err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid) return new AuthError("the issuer's keys could not be fetched", true);
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) {
    return new AuthError("the token is malformed");
  }
  if (err instanceof errors.JOSEError) return new AuthError(`the token is not valid (${err.code})`);
  return new AuthError("the issuer's keys could not be fetched", true);
}

/** The caller from a verified token's claims (Entra ID: `oid`, `name`, `tid`). */
export function principalFromClaims(payload: JWTPayload): Principal {
  const oid = typeof payload.oid === "string" && payload.oid ? payload.oid : undefined;
  const subject = oid ?? payload.sub;
  if (!subject) throw new AuthError(CLAIM_MESSAGES.sub);
  const name =
    (typeof payload.name === "string" && payload.name.trim()) || (typeof payload.preferred_username === "string" && payload.preferred_username) || subject;
  if (payload.tid !== undefined && (typeof payload.tid !== "string" || !TENANT_ID.test(payload.tid))) {
    // Never fall back to the default tenant for a token that names another one badly.
    throw new AuthError("the token's tid is not a tenant id (1 to 64 letters, digits or -)");
  }
  const tenant = payload.tid ?? DEFAULT_TENANT;
  return { subject, name: name.slice(0, 200), tenant, expiresAt: (payload.exp ?? 0) * 1000 };
}

/**
 * A verifier for one OpenID Connect issuer. Discovery happens on the first token (and again after
 * a failed attempt), so a server starts even while the issuer is unreachable.
 */
export function createOidcVerifier(opts: OidcVerifierOptions): TokenVerifier {
  const issuerOf = typeof opts.issuer === "function" ? opts.issuer : () => opts.issuer as string;
  const doFetch = opts.fetch ?? ((input, init) => fetch(input, init));
  const algorithms = opts.algorithms ?? DEFAULT_ALGORITHMS;
  if (algorithms.some((a) => a === "none" || a.startsWith("HS"))) throw new Error("only asymmetric algorithms may verify access tokens");
  let keys: Promise<ReturnType<typeof createRemoteJWKSet>> | null = null;

  async function discover(issuer: string): Promise<ReturnType<typeof createRemoteJWKSet>> {
    const res = await doFetch(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new AuthError(`the issuer's metadata answered HTTP ${res.status}`, true);
    const meta = (await res.json()) as { issuer?: unknown; jwks_uri?: unknown };
    // OpenID Connect Discovery 1.0 §4.3: the metadata's issuer must be the one it was fetched for.
    if (meta.issuer !== issuer) throw new AuthError("the issuer's metadata names another issuer", true);
    if (typeof meta.jwks_uri !== "string") throw new AuthError("the issuer's metadata has no jwks_uri", true);
    return createRemoteJWKSet(new URL(meta.jwks_uri), {
      cooldownDuration: opts.keysCooldownMs ?? 30_000,
      timeoutDuration: 10_000,
      [customFetch]: doFetch,
    });
  }

  return {
    async verify(token) {
      const issuer = issuerOf();
      if (!keys) {
        keys = discover(issuer).catch((err) => {
          keys = null;
          throw err instanceof AuthError ? err : new AuthError("the issuer's metadata could not be fetched", true);
        });
      }
      const jwks = await keys;
      try {
        const { payload } = await jwtVerify(token, jwks, {
          issuer,
          audience: opts.audience,
          algorithms,
          clockTolerance: opts.clockToleranceSec ?? 30,
          requiredClaims: ["exp"],
        });
        return principalFromClaims(payload);
      } catch (err) {
        throw reasonOf(err);
      }
    },
  };
}
