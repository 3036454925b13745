/**
 * TEMPORARY, until the backend serves sign-in itself (the lead's "Auth:" commit): an HTTP front for
 * a running backend that implements the sign-in contract the add-in is built against, so the
 * end-to-end tests drive the real add-in against the real backend through real HTTP:
 *
 * - `GET /auth/config`: development mode with the given seeded users;
 * - `POST /auth/dev-token` `{"user": id}`: `{accessToken, expiresIn}` (400 `{code, message}` for a
 *   bad body or an unknown user);
 * - every RPC needs `Authorization: Bearer <a token issued here, not expired>`, else 401
 *   `{"code": "unauthenticated", "message": ...}`; the caller is passed on to the backend as the
 *   old `X-Quantatom-User` header;
 * - everything else (the add-in's files) is passed through.
 *
 * Delete this file once the backend serves these routes.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { readClaims } from "../../addin/src/auth/claims";
import { unsignedJwt } from "./auth-stand-in";

/** A running proxy. */
export interface AuthProxy {
  /** Its base URL (`http://127.0.0.1:<port>`): the server the add-in talks to. */
  url: string;
  close(): Promise<void>;
}

/** Starts a proxy in front of `target` (a backend's base URL). */
export async function startAuthProxy(target: string, opts: { users: { id: string; name: string; groups?: string[]; admin?: boolean }[]; ttlSec?: number; port?: number }): Promise<AuthProxy> {
  const issued = new Map<string, { sub: string; exp: number }>();
  const ttl = opts.ttlSec ?? 3600;
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  let url = "";
  const server = http.createServer((req, res) => {
    const path = req.url ?? "/";
    if (req.method === "GET" && path === "/auth/config") {
      json(res, 200, { mode: "development", issuer: `${url}/auth/dev`, audience: "quantatom", users: opts.users });
      return;
    }
    if (req.method === "POST" && path === "/auth/dev-token") {
      let text = "";
      req.on("data", (c: Buffer) => {
        text += c.toString("utf8");
      });
      req.on("end", () => {
        let user: unknown;
        try {
          user = (JSON.parse(text) as { user?: unknown }).user;
        } catch {
          json(res, 400, { code: "invalid_argument", message: 'the body must be JSON: {"user": "<id>"}' });
          return;
        }
        const seeded = opts.users.find((u) => u.id === user);
        if (typeof user !== "string" || !/^[A-Za-z][A-Za-z0-9._@-]{0,63}$/.test(user)) {
          json(res, 400, { code: "invalid_argument", message: 'user is required: {"user": "<id>"}' });
          return;
        }
        const iat = Math.floor(Date.now() / 1000);
        const token = unsignedJwt({ iss: `${url}/auth/dev`, aud: "quantatom", sub: user, name: seeded?.name ?? user, tid: "default", iat, exp: iat + ttl, jti: `${issued.size}` });
        issued.set(token, { sub: user, exp: (iat + ttl) * 1000 });
        json(res, 200, { accessToken: token, expiresIn: ttl });
      });
      return;
    }
    const headers = { ...req.headers };
    delete headers.host;
    if (path.startsWith("/quantatom.v1.")) {
      // Stateless, as a signature check with a key kept in the data directory is: a token issued by
      // an earlier proxy (before a restart) is still good until it expires.
      const m = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ""));
      const claims = m ? readClaims(m[1]) : null;
      const who = m && (issued.get(m[1]) ?? (claims?.userId && claims.expiresAt ? { sub: claims.userId, exp: claims.expiresAt } : undefined));
      if (!who || who.exp <= Date.now()) {
        req.resume();
        json(res, 401, { code: "unauthenticated", message: `sign in again: ${m ? "the token is not valid" : "no access token: send Authorization: Bearer <token>"}` });
        return;
      }
      delete headers.authorization;
      headers["x-quantatom-user"] = who.sub;
    }
    const upstream = http.request(`${target}${path}`, { method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => {
      if (!res.headersSent) json(res, 502, { code: "unavailable", message: "the backend is not reachable" });
      else res.destroy();
    });
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", resolve);
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
