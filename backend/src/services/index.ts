/**
 * The Connect services (one module each) and how every router that serves them is set up: the
 * same routes and options serve HTTP (server/app.ts) and in-memory transports in tests
 * (`createRouterTransport(routes(backend), { router: routerOptions(log, verifier) })`).
 */
import type { ConnectRouter, ConnectRouterOptions } from "@connectrpc/connect";
import type { Logger } from "pino";
import { authenticate, type TokenVerifier } from "../auth";
import type { Backend } from "../domain";
import { registerCommentaryService } from "./commentary-service";
import { errorBoundary } from "./errors";
import { registerLatticeService } from "./lattice-service";

export { cellError, errorBoundary, toConnectError } from "./errors";

/** Registers every service of quantatom.v1 on a router. */
export function routes(backend: Backend): (router: ConnectRouter) => void {
  return (router) => {
    registerLatticeService(backend)(router);
    registerCommentaryService(backend)(router);
  };
}

/**
 * Router options: the error boundary (domain errors to Connect codes, nothing internal leaked),
 * then sign-in (every RPC needs a verified token, auth/interceptor.ts), and JSON that always emits
 * every field (e.g. `"version": "0"`), not only non-default ones.
 * @param verifier checks each request's access token.
 */
export function routerOptions(log: Logger, verifier: TokenVerifier): ConnectRouterOptions {
  return { interceptors: [errorBoundary(log), authenticate(verifier, log)], jsonOptions: { alwaysEmitImplicit: true } };
}
