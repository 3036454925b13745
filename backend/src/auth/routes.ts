/**
 * The sign-in routes of the HTTP app (outside Connect: they run before a caller has a token):
 *
 * - `GET /auth/config`: what the add-in needs to sign in (mode, issuer, audience; for oidc the
 *   client id, scopes and authority; in development mode the users it may sign in as).
 * - `POST /auth/dev-token` with `{"user": "admin"}` (development mode only, from a loopback address
 *   only): `{"accessToken": "<JWT>", "expiresIn": <seconds>}`.
 * - `GET /auth/dev/.well-known/openid-configuration` and `GET /auth/dev/jwks`: the development
 *   issuer's metadata and public keys, as any OpenID Connect issuer publishes them.
 *
 * Errors are JSON `{code, message}` as the rest of the API's.
 */
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, Hono } from "hono";
import { TENANT_ID } from "../../../common/tenants";
import type { Logger } from "pino";
import type { Auth } from "./index";

/** A user the development sign-in offers (from the cubes' security sections). */
export interface SeededUser {
  id: string;
  name: string;
  groups?: string[];
  admin?: boolean;
}

/** Whether the request came from this machine (127.0.0.0/8, ::1, or IPv4-mapped loopback). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.replace(/^::ffff:/, "");
  return a === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/** Longest body of a dev-token request, bytes. */
const MAX_DEV_TOKEN_BODY = 4096;

/**
 * Adds the sign-in routes to `app`.
 * @param users the seeded users development sign-in offers (and whose display names it signs).
 */
export function addAuthRoutes(app: Hono, auth: Auth, users: () => SeededUser[], log: Logger): void {
  app.get("/auth/config", (c) => c.json({ ...auth.clientConfig(), ...(auth.mode === "development" ? { users: users() } : {}) }));

  const issuer = auth.devIssuer;
  if (!issuer) return;
  app.get("/auth/dev/.well-known/openid-configuration", (c) => c.json(issuer.metadata()));
  app.get("/auth/dev/jwks", (c) => c.json(issuer.jwks()));
  app.post("/auth/dev-token", async (c: Context) => {
    const remote = getConnInfo(c).remote.address;
    if (!isLoopback(remote)) {
      log.warn({ remote }, "development token refused: not from this machine");
      return c.json({ code: "permission_denied", message: "development tokens are issued to this machine only" }, 403);
    }
    const text = await c.req.text();
    if (text.length > MAX_DEV_TOKEN_BODY) return c.json({ code: "invalid_argument", message: `the body is over ${MAX_DEV_TOKEN_BODY} bytes` }, 400);
    let body: { user?: unknown; tenant?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return c.json({ code: "invalid_argument", message: 'the body must be JSON: {"user": "<id>"}' }, 400);
    }
    if (typeof body !== "object" || body === null || typeof body.user !== "string") {
      return c.json({ code: "invalid_argument", message: 'user is required: {"user": "<id>"}' }, 400);
    }
    if (body.tenant !== undefined && (typeof body.tenant !== "string" || !TENANT_ID.test(body.tenant))) {
      return c.json({ code: "invalid_argument", message: "tenant must be 1 to 64 letters, digits or -" }, 400);
    }
    const seeded = users().find((u) => u.id === body.user);
    try {
      const token = await issuer.issue({ id: body.user, name: seeded?.name, tenant: body.tenant as string | undefined });
      log.info("development token issued");
      return c.json(token);
    } catch (err) {
      return c.json({ code: "invalid_argument", message: (err as Error).message }, 400);
    }
  });
}
