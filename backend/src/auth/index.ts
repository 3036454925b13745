/**
 * Sign-in: how the backend knows who calls it. Two modes, one verification path:
 *
 * - **oidc** (`QATOM_OIDC_ISSUER` set): access tokens of that issuer (Entra ID in production) are
 *   the only way in.
 * - **development** (no issuer configured, the default of `npm start`): the backend runs its own
 *   issuer (auth/dev-issuer.ts) and signs tokens for whoever asks from this machine; refused unless
 *   the server is bound to localhost.
 *
 * In both, every RPC passes the interceptor of auth/interceptor.ts, whose verifier checks the
 * token against the issuer's published keys (auth/verifier.ts).
 */
import type { AuthConfig } from "../config";
import { DEV_AUDIENCE, DevIssuer } from "./dev-issuer";
import { createOidcVerifier, type TokenVerifier } from "./verifier";

export { DEV_AUDIENCE, DEV_TOKEN_TTL_SEC, DEV_USER_ID, DevIssuer, type DevUser } from "./dev-issuer";
export { authenticate, bearerToken } from "./interceptor";
export { DEFAULT_TENANT, type Principal, principalKey, principalOf } from "./principal";
export { AuthError, createOidcVerifier, DEFAULT_ALGORITHMS, principalFromClaims, type TokenVerifier } from "./verifier";

/** Hosts development mode may bind to. */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

/** How the server signs callers in. */
export interface Auth {
  mode: "development" | "oidc";
  /** Checks every RPC's token. */
  verifier: TokenVerifier;
  /** The development issuer (development mode only). */
  devIssuer?: DevIssuer;
  /** What the add-in needs to sign in (`GET /auth/config`), without the user list. */
  clientConfig(): Record<string, unknown>;
  /** Tells the development issuer the server's URL once it listens (its tokens' `iss`). */
  setServerUrl(url: string): void;
}

/**
 * Makes the sign-in of a server.
 * @param host the host the server binds to (development mode needs a loopback one).
 * @param dataDir where the development issuer keeps its signing key.
 * @throws Error when development mode is asked of a server bound beyond localhost.
 */
export async function createAuth(config: AuthConfig, host: string, dataDir: string): Promise<Auth> {
  if (config.issuer && config.audience) {
    const { issuer, audience } = config;
    return {
      mode: "oidc",
      verifier: createOidcVerifier({ issuer, audience, clockToleranceSec: config.clockSkewSec }),
      clientConfig: () => ({ mode: "oidc", issuer, audience, clientId: config.clientId ?? null, scopes: config.scopes, authority: config.authority }),
      setServerUrl: () => {},
    };
  }
  if (!LOOPBACK_HOSTS.has(host)) {
    throw new Error(
      `development sign-in (anyone on this machine may sign in as anyone) needs the server bound to localhost, but QATOM_HOST is ${JSON.stringify(host)}: ` +
        "set QATOM_OIDC_ISSUER and QATOM_OIDC_AUDIENCE to sign in with your organisation's identity provider (see docs/deploy.md)",
    );
  }
  const devIssuer = await DevIssuer.open(dataDir);
  return {
    mode: "development",
    devIssuer,
    verifier: createOidcVerifier({ issuer: () => devIssuer.issuer, audience: DEV_AUDIENCE, clockToleranceSec: config.clockSkewSec, fetch: devIssuer.fetch }),
    clientConfig: () => ({ mode: "development", issuer: devIssuer.issuer, audience: DEV_AUDIENCE }),
    setServerUrl: (url) => devIssuer.setServerUrl(url),
  };
}
