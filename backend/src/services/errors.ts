/**
 * The one mapping from domain errors to the wire, at the RPC edge: a DomainError becomes a
 * ConnectError with the matching code; an engine address error becomes the protocol's per-cell
 * error; anything else is logged and answered `internal` without its details (STYLE.md: one
 * central error handler; known errors become responses, unknown ones are never leaked).
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { CellErrorCode } from "../../../proto/gen/quantatom/v1/lattice_pb";
import type { CellProblem } from "../domain/access";
import { DomainError, type DomainErrorCode } from "../domain/errors";

const CODES: Record<DomainErrorCode, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  resource_exhausted: Code.ResourceExhausted,
  permission_denied: Code.PermissionDenied,
};

/**
 * The ConnectError for anything a handler threw: ConnectErrors as they are, DomainErrors with their
 * code and message, anything else `internal` with a message that says to look at the server log.
 * @param log where an unexpected error is logged (with `rpc`), never the client.
 */
export function toConnectError(err: unknown, log: Logger, rpc: string): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof DomainError) return new ConnectError(err.message, CODES[err.code]);
  log.error({ err, rpc }, "unhandled error in RPC");
  return new ConnectError("internal error; the server log has the details", Code.Internal);
}

/**
 * Maps a per-cell problem onto the protocol's per-cell error (a bad cell in a good batch): an engine
 * address error, or NO_ACCESS for a cell the caller may not read.
 */
export function cellError(e: CellProblem): { code: CellErrorCode; message: string; candidates: string[] } {
  const code = {
    UNKNOWN_MEMBER: CellErrorCode.UNKNOWN_MEMBER,
    AMBIGUOUS_MEMBER: CellErrorCode.AMBIGUOUS_MEMBER,
    DUPLICATE_DIMENSION: CellErrorCode.DUPLICATE_DIMENSION,
    INVALID_ADDRESS: CellErrorCode.INVALID_ADDRESS,
    NO_ACCESS: CellErrorCode.NO_ACCESS,
  }[e.code];
  return { code, message: e.message, candidates: e.candidates };
}

/**
 * The interceptor that applies `toConnectError` to every RPC, unary and streaming (an error thrown
 * while a stream runs, e.g. before its first message, is mapped too).
 */
export function errorBoundary(log: Logger): Interceptor {
  return (next) => async (req) => {
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await next(req);
    } catch (err) {
      throw toConnectError(err, log, req.url);
    }
    if (!res.stream) return res;
    const inner = res.message;
    async function* mapped() {
      try {
        yield* inner;
      } catch (err) {
        throw toConnectError(err, log, req.url);
      }
    }
    return { ...res, message: mapped() } as typeof res;
  };
}
