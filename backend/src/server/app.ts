import fs from "node:fs";
import path from "node:path";
import { createConnectRouter } from "@connectrpc/connect";
import { universalServerRequestFromFetch, universalServerResponseToFetch } from "@connectrpc/connect/protocol";
import { serveStatic } from "@hono/node-server/serve-static";
import { Hono } from "hono";
import type { Logger } from "pino";
import type { Auth } from "../auth";
import { addAuthRoutes, type SeededUser } from "../auth/routes";
import { projectRoot } from "../config";
import type { Backend } from "../domain";
import { routerOptions, routes, withRequestFaults } from "../services";
import { DEFAULT_MAX_BODY_BYTES, declaredTooLarge, limitBody } from "./body-limit";

/** What the HTTP app needs to know about the backend's state. */
export interface AppState {
  backend: Backend;
  /** True once every cube is loaded; /healthz answers 503 until then. */
  ready(): boolean;
  /** Why start-up failed, if it did. */
  failure(): string | null;
  log: Logger;
  /** Folder of the built add-in (`Config.addinDir`); default `<project>/dist/addin`. */
  addinDir?: string;
  /** How callers sign in: the RPCs' token verifier and the /auth routes. */
  auth: Auth;
  /** The users development sign-in offers; default none listed. */
  users?: () => SeededUser[];
  /**
   * Which executor serves each cube's scans and why (compute/gpu/executor.ts `describe`), shown
   * by /healthz; default none listed.
   */
  calc?: () => { cube: string; executor: "gpu" | "cpu"; reason: string }[];
  /** Largest request body of the API in bytes (`Config.maxBodyBytes`); default 32 MiB. */
  maxBodyBytes?: number;
}

/** The built add-in's folder when none is configured. */
export const defaultAddinDir = path.join(projectRoot, "dist", "addin");

/** Folders of static files, first match wins: the built add-in, then the source pages and icons. */
export function staticDirs(addinDir: string = defaultAddinDir): string[] {
  return [addinDir, path.join(projectRoot, "addin", "public")];
}

/**
 * The HTTP application: `GET /healthz` (status, cubes, and which executor serves each cube's scans and why), the Connect services at `POST /quantatom.v1.<Service>/<Method>`,
 * `GET /manifest.xml`, and the add-in's static files.
 */
export function createApp(state: AppState): Hono {
  const app = new Hono();
  const maxBodyBytes = state.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const router = createConnectRouter(routerOptions(state.log, state.auth.verifier, { maxBodyBytes }));
  routes(state.backend)(router);

  app.get("/healthz", (c) => {
    const failed = state.failure();
    if (failed) return c.json({ status: "failed", error: failed }, 503);
    if (!state.ready()) return c.json({ status: "starting" }, 503);
    return c.json({ status: "ok", cubes: state.backend.listCubes().map((s) => s.cube.name), calc: state.calc?.() ?? [] });
  });

  addAuthRoutes(app, state.auth, state.users ?? (() => []), state.log);

  // Connect's handlers over fetch (as createFetchHandler does), with the body limit applied while
  // the body streams in, and a malformed binary body answered invalid_argument (services/errors.ts).
  for (const h of router.handlers) {
    const handle = withRequestFaults(h);
    app.post(h.requestPath, async (c) => {
      if (!state.ready()) {
        return c.json({ code: "unavailable", message: "the backend is starting (loading its cubes); try again shortly" }, 503);
      }
      const tooLarge = declaredTooLarge(c.req.raw.headers, maxBodyBytes);
      if (tooLarge) return c.json(tooLarge.body, tooLarge.status);
      const req = universalServerRequestFromFetch(c.req.raw, {});
      const body = req.body as AsyncIterable<Uint8Array>;
      return universalServerResponseToFetch(await handle({ ...req, body: limitBody(body, maxBodyBytes) }));
    });
  }

  const addinDir = state.addinDir ?? defaultAddinDir;
  app.get("/manifest.xml", (c) => {
    const built = path.join(addinDir, "manifest.xml");
    const file = fs.existsSync(built) ? built : path.join(projectRoot, "manifest.xml");
    return c.body(fs.readFileSync(file, "utf8"), 200, { "content-type": "application/xml; charset=utf-8" });
  });

  // Excel on the web fetches the add-in's files (functions.json, icons) from its own origin, so
  // static files carry `Access-Control-Allow-Origin: *` (as Office's own dev server does). The
  // Connect API (POST) is not affected: the add-in calls it from its own origin.
  app.use("/*", async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") c.header("Access-Control-Allow-Origin", "*");
    await next();
  });
  for (const dir of staticDirs(addinDir).filter((d) => fs.existsSync(d))) {
    app.use("/*", serveStatic({ root: path.relative(process.cwd(), dir) || "." }));
  }

  app.notFound((c) => c.json({ code: "not_found", message: `no route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    state.log.error({ err, path: c.req.path }, "unhandled error");
    return c.json({ code: "internal", message: "internal error; the server log has the details" }, 500);
  });
  return app;
}
