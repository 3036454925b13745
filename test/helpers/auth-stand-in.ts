/**
 * Stand-ins for the backend's sign-in contract in unit tests (the real routes are tested with the
 * backend): unsigned JWTs with the claims the add-in reads, and a `fetch` that answers
 * `GET /auth/config` and `POST /auth/dev-token` as the contract says (development mode: 200
 * `{accessToken, expiresIn}`, 400 `{code, message}` for a bad body or unknown user; 404 for a
 * dev-token request to a server in oidc mode).
 */

/** base64url of a UTF-8 string (RFC 4648 §5). */
function b64url(s: string): string {
  return Buffer.from(s, "utf8").toString("base64url");
}

/** An unsigned JWT (`alg: none`) with `claims`: the add-in reads claims, it never verifies them. */
export function unsignedJwt(claims: Record<string, unknown>): string {
  return `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}.`;
}

/** A seeded user of the development configuration. */
export interface StandInUser {
  id: string;
  name: string;
  groups?: string[];
  admin?: boolean;
}

/** Options of {@link authFetch}. */
export interface AuthFetchOptions {
  /** The server's origin (the issuer is `<origin>/auth/dev` in development mode). */
  origin: string;
  /** `development` (default) or an oidc configuration to serve. */
  mode?: "development" | { clientId: string | null; scopes: string[]; authority: string; audience: string; issuer: string };
  users?: StandInUser[];
  /** Lifetime of issued tokens, seconds (default 3600). */
  ttlSec?: number;
  /** The clock, ms (default Date.now). */
  now?: () => number;
}

/** One request the stand-in answered. */
export interface AuthRequest {
  method: string;
  path: string;
  body?: unknown;
}

/**
 * A fetch answering the sign-in routes of one server (anything else: 404), and the requests it saw.
 * Tokens name the user (`sub`), their display name (`name`), `tid` "default", `iat` and `exp`.
 */
export function authFetch(o: AuthFetchOptions): { fetch: typeof fetch; requests: AuthRequest[]; available: { value: boolean } } {
  const requests: AuthRequest[] = [];
  const available = { value: true };
  const users = o.users ?? [];
  const now = o.now ?? Date.now;
  const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
  const f = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const method = init?.method ?? "GET";
    let body: unknown;
    if (typeof init?.body === "string") {
      try {
        body = JSON.parse(init.body);
      } catch {
        body = init.body;
      }
    }
    requests.push({ method, path: url.pathname, body });
    if (!available.value) throw new TypeError("fetch failed");
    if (method === "GET" && url.pathname === "/auth/config") {
      if (o.mode && o.mode !== "development") return json(200, { mode: "oidc", ...o.mode });
      return json(200, { mode: "development", issuer: `${o.origin}/auth/dev`, audience: "quantatom", users });
    }
    if (method === "POST" && url.pathname === "/auth/dev-token") {
      if (o.mode && o.mode !== "development") return json(404, { code: "not_found", message: "not found" });
      const user = (body as { user?: unknown } | undefined)?.user;
      if (typeof user !== "string" || !user) return json(400, { code: "invalid_argument", message: 'user is required: {"user": "<id>"}' });
      if (users.length > 0 && !users.some((u) => u.id === user)) return json(400, { code: "invalid_argument", message: `unknown user ${user}` });
      const ttl = o.ttlSec ?? 3600;
      const iat = Math.floor(now() / 1000);
      const name = users.find((u) => u.id === user)?.name ?? user;
      return json(200, { accessToken: unsignedJwt({ iss: `${o.origin}/auth/dev`, aud: "quantatom", sub: user, name, tid: "default", iat, exp: iat + ttl }), expiresIn: ttl });
    }
    return json(404, { code: "not_found", message: `no route ${method} ${url.pathname}` });
  };
  return { fetch: f as typeof fetch, requests, available };
}
