/**
 * The Connect services (one module each) and how every router that serves them is set up: the
 * same routes and options serve HTTP (server/app.ts) and in-memory transports in tests
 * (`createRouterTransport(routes(backend), { router: routerOptions(log, verifier) })`).
 */
import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, ConnectRouterOptions } from "@connectrpc/connect";
import type { Logger } from "pino";
import { authenticate, type TokenVerifier } from "../auth";
import type { Backend } from "../domain";
import { registerCommentaryService } from "./commentary-service";
import { errorBoundary } from "./errors";
import { fieldLimits } from "./field-limits";
import { registerLatticeService } from "./lattice-service";
import { registerSandboxService } from "./sandbox-service";
import { registerSecurityService } from "./security-service";
import { CommentaryService } from "../../../proto/gen/quantatom/v1/commentary_pb";
import { LatticeService } from "../../../proto/gen/quantatom/v1/lattice_pb";
import { SandboxService } from "../../../proto/gen/quantatom/v1/sandbox_pb";
import { SecurityService } from "../../../proto/gen/quantatom/v1/security_pb";

export { cellError, errorBoundary, RequestReader, toConnectError, withRequestFaults } from "./errors";
export { checkStringFields, fieldLimits, STRING_BOUNDS } from "./field-limits";

/** Every service `routes` serves: tests that must cover every RPC (sign-in, fuzzing) take them from here. */
export const SERVICES: readonly DescService[] = [LatticeService, CommentaryService, SecurityService, SandboxService];

/** Registers every service of quantatom.v1 on a router (each of SERVICES). */
export function routes(backend: Backend): (router: ConnectRouter) => void {
  return (router) => {
    registerLatticeService(backend)(router);
    registerCommentaryService(backend)(router);
    registerSecurityService(backend)(router);
    registerSandboxService(backend)(router);
  };
}

/** Limits of the router beyond the API's own (config.ts). */
export interface RouterLimits {
  /**
   * Largest request message, in bytes (connect's `readMaxBytes`, enforced while reading and after
   * decompression); default connect's (4 GiB). The HTTP app also refuses a larger body itself,
   * with a message naming QATOM_MAX_BODY_BYTES (server/body-limit.ts).
   */
  maxBodyBytes?: number;
}

/**
 * Router options: the error boundary first (domain errors to Connect codes, a malformed request
 * `invalid_argument`, nothing internal leaked), then sign-in (every RPC needs a verified token,
 * auth/interceptor.ts), then the bounds on every string field; JSON that always emits every field
 * (e.g. `"version": "0"`), not only non-default ones; and the body limit.
 * @param verifier checks each request's access token.
 */
export function routerOptions(log: Logger, verifier: TokenVerifier, limits: RouterLimits = {}): ConnectRouterOptions {
  return {
    interceptors: [errorBoundary(log), authenticate(verifier, log), fieldLimits()],
    jsonOptions: { alwaysEmitImplicit: true },
    readMaxBytes: limits.maxBodyBytes,
  };
}
