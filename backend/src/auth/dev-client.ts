/**
 * The client side of development sign-in, for scripts, benches and tests: asks a server in
 * development mode for a token (`POST /auth/dev-token`) and keeps it until shortly before it expires.
 */

import type { Interceptor } from "@connectrpc/connect";

/** A development token as `POST /auth/dev-token` answers it. */
export interface DevToken {
  accessToken: string;
  /** Lifetime, seconds. */
  expiresIn: number;
}

/**
 * Asks `serverUrl` for a development token for `user` (optionally in `tenant`).
 * @throws Error with the server's message when it refuses (not in development mode, not from this
 *   machine, a bad user id).
 */
export async function fetchDevToken(serverUrl: string, user: string, tenant?: string): Promise<DevToken> {
  const res = await fetch(`${serverUrl.replace(/\/+$/, "")}/auth/dev-token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(tenant === undefined ? { user } : { user, tenant }),
  });
  const body = (await res.json().catch(() => ({}))) as Partial<DevToken> & { message?: string };
  if (!res.ok || typeof body.accessToken !== "string") {
    throw new Error(`no development token for ${user} from ${serverUrl}: HTTP ${res.status} ${body.message ?? ""}`.trim());
  }
  return { accessToken: body.accessToken, expiresIn: Number(body.expiresIn) };
}

/**
 * A token source for one user: the first call fetches a token, later calls reuse it until a
 * minute before it expires.
 */
export function devTokenSource(serverUrl: string, user: string, tenant?: string): () => Promise<string> {
  let current: { token: Promise<string>; until: number } | null = null;
  return () => {
    if (!current || Date.now() >= current.until) {
      const asked = Date.now();
      const token = fetchDevToken(serverUrl, user, tenant).then((t) => {
        if (current?.token === token) current.until = asked + Math.max(0, t.expiresIn - 60) * 1000;
        return t.accessToken;
      });
      token.catch(() => {
        if (current?.token === token) current = null;
      });
      current = { token, until: Number.POSITIVE_INFINITY };
    }
    return current.token;
  };
}

/**
 * A Connect client interceptor that signs every call in as `user` on `serverUrl` through its
 * development issuer (`Authorization: Bearer`, the token from devTokenSource).
 */
export function devSignIn(serverUrl: string, user: string, tenant?: string): Interceptor {
  const token = devTokenSource(serverUrl, user, tenant);
  return (next) => async (req) => {
    req.header.set("Authorization", `Bearer ${await token()}`);
    return next(req);
  };
}
