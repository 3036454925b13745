/**
 * The authentication interceptor of every RPC: the caller is whoever the request's
 * `Authorization: Bearer <token>` says after the token is verified (RFC 6750 §2.1), and nobody
 * otherwise. A missing or refused token is `unauthenticated` (the reason is told to the client and
 * logged; the token never is); an issuer that cannot be reached is `unavailable`. A server stream
 * ends with `unauthenticated` when its token expires: the client reconnects with a fresh one.
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { principalKey } from "./principal";
import { AuthError, type TokenVerifier } from "./verifier";

/** Longest Authorization header read, characters (an Entra ID access token is about 2-3 KB). */
export const MAX_AUTHORIZATION_LENGTH = 16_384;

/** The bearer token of an Authorization header value, or an AuthError saying what is wrong. */
export function bearerToken(header: string | null): string {
  if (!header) throw new AuthError("no access token: send Authorization: Bearer <token>");
  if (header.length > MAX_AUTHORIZATION_LENGTH) throw new AuthError(`the Authorization header is over ${MAX_AUTHORIZATION_LENGTH} characters`);
  const m = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)[ ]*$/i.exec(header);
  if (!m) throw new AuthError("the Authorization header is not `Bearer <token>`");
  return m[1];
}

/** The method's short name (`LatticeService/GetCells`) from a request URL, for logs. */
function rpcName(url: string): string {
  return url.replace(/^.*\/quantatom\.v1\./, "");
}

/**
 * Verifies every request's token and puts the caller on its context (`principalKey`).
 * @param log failed sign-ins are logged at `warn` with the reason and the RPC, never the token.
 */
export function authenticate(verifier: TokenVerifier, log: Logger): Interceptor {
  return (next) => async (req) => {
    let principal: Awaited<ReturnType<TokenVerifier["verify"]>>;
    try {
      principal = await verifier.verify(bearerToken(req.header.get("authorization")));
    } catch (err) {
      const e = err instanceof AuthError ? err : new AuthError("the token could not be checked", true);
      log.warn({ rpc: rpcName(req.url), reason: e.reason }, e.unavailable ? "sign-in could not be checked" : "sign-in refused");
      throw new ConnectError(e.unavailable ? `the sign-in service is unavailable: ${e.reason}` : `sign-in needed: ${e.reason}`, e.unavailable ? Code.Unavailable : Code.Unauthenticated);
    }
    req.contextValues.set(principalKey, principal);
    const res = await next(req);
    if (!res.stream) return res;
    const inner = res.message[Symbol.asyncIterator]();
    async function* untilExpiry() {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<"expired">((resolve) => {
        timer = setTimeout(() => resolve("expired"), Math.max(0, principal.expiresAt - Date.now()));
        timer.unref(); // the stream, not this timer, keeps the server busy
      });
      try {
        for (;;) {
          const r = await Promise.race([inner.next(), expired]);
          if (r === "expired") {
            log.info({ rpc: rpcName(req.url) }, "stream ended: its token expired");
            throw new ConnectError("the access token expired; reconnect with a fresh one", Code.Unauthenticated);
          }
          if (r.done) return;
          yield r.value;
        }
      } finally {
        clearTimeout(timer);
        // Not awaited: a pending next() (a stream waiting for a change) holds return() back until
        // the handler's signal aborts, which happens once this error has ended the call.
        inner.return?.().catch(() => undefined);
      }
    }
    return { ...res, message: untilExpiry() } as typeof res;
  };
}
