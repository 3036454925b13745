/**
 * The one mapping from domain errors to the wire, at the RPC edge: a DomainError becomes a
 * ConnectError with the matching code; an engine address error becomes the protocol's per-cell
 * error; anything else is logged and answered `internal` without its details (STYLE.md: one
 * central error handler; known errors become responses, unknown ones are never leaked).
 *
 * Request bytes that are not a valid message are the client's fault, but connect-es 2.1.2 raises
 * some of them as `internal` (HTTP 500): a binary body that does not parse (`parse binary: …`,
 * from `createBinarySerialization` in its protocol/serialization.js: a truncated message, an
 * illegal tag or wire type, invalid UTF-8, nesting too deep), a stream envelope flagged compressed
 * without an encoding (protocol/envelope.js `envelopeDecompress`), and, as `unimplemented`, a
 * server-streaming call with no request message or more than one (protocol/invoke-implementation.js
 * `ensureSingle`). They become `invalid_argument` here, and only they: errors raised while the
 * request body is read and parsed (streams: seen by {@link errorBoundary}, which reads the request
 * through {@link RequestReader}), and a unary call's parse failure, which happens before any
 * interceptor and is mapped on its response ({@link withRequestFaults}). Every other `internal`
 * error stays internal.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { createAsyncIterable, readAllBytes, type UniversalHandler, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import type { Logger } from "pino";
import { CellErrorCode } from "../../../proto/gen/quantatom/v1/lattice_pb";
import type { CellProblem } from "../domain/access";
import { DomainError, type DomainErrorCode } from "../domain/errors";

const CODES: Record<DomainErrorCode, Code> = {
  invalid_argument: Code.InvalidArgument,
  not_found: Code.NotFound,
  resource_exhausted: Code.ResourceExhausted,
  permission_denied: Code.PermissionDenied,
  aborted: Code.Aborted,
  failed_precondition: Code.FailedPrecondition,
  unimplemented: Code.Unimplemented,
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
 * A stream's request messages as the handler reads them, noting what reading saw: how many
 * messages, whether the stream ended, and the error reading or parsing raised, so that
 * {@link RequestReader.clientFault} can tell the client's malformed request from a server failure.
 */
export class RequestReader<T> implements AsyncIterable<T> {
  private count = 0;
  private ended = false;
  private failure: unknown = undefined;

  constructor(
    private readonly source: AsyncIterable<T>,
    private readonly method: DescMethod,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    const it = this.source[Symbol.asyncIterator]();
    for (;;) {
      let r: IteratorResult<T>;
      try {
        r = await it.next();
      } catch (err) {
        this.failure = err;
        throw err;
      }
      if (r.done) {
        this.ended = true;
        return;
      }
      this.count++;
      yield r.value;
    }
  }

  /**
   * `err` as `invalid_argument` when it is the client's fault: an `internal` ConnectError that
   * reading or parsing the request raised, or connect's `unimplemented` for a server-streaming
   * call that did not send exactly one message. Undefined for any other error.
   */
  clientFault(err: unknown): ConnectError | undefined {
    if (!(err instanceof ConnectError)) return undefined;
    if (err === this.failure && err.code === Code.Internal) {
      return new ConnectError(`the request is not a valid ${this.method.input.typeName} stream: ${err.rawMessage}`, Code.InvalidArgument);
    }
    const single = this.method.methodKind === "unary" || this.method.methodKind === "server_streaming";
    if (single && err.code === Code.Unimplemented && this.failure === undefined && ((this.ended && this.count === 0) || this.count > 1)) {
      return new ConnectError(`${this.method.name} takes exactly one request message; the request had ${this.count > 1 ? "more" : "none"}`, Code.InvalidArgument);
    }
    return undefined;
  }
}

/**
 * The interceptor that applies `toConnectError` to every RPC, unary and streaming (an error thrown
 * while a stream runs, e.g. before its first message, is mapped too), and answers a stream's
 * malformed request `invalid_argument` (see {@link RequestReader}). Put it first, so that it sees
 * what every later interceptor throws.
 */
export function errorBoundary(log: Logger): Interceptor {
  return (next) => async (req) => {
    const reader = req.stream ? new RequestReader(req.message, req.method) : undefined;
    const map = (err: unknown) => toConnectError(reader?.clientFault(err) ?? err, log, req.url);
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await next(reader ? ({ ...req, message: reader } as typeof req) : req);
    } catch (err) {
      throw map(err);
    }
    if (!res.stream) return res;
    const inner = res.message;
    async function* mapped() {
      try {
        yield* inner;
      } catch (err) {
        throw map(err);
      }
    }
    return { ...res, message: mapped() } as typeof res;
  };
}

/** The start of connect-es's message for a binary request body that does not parse (see the module comment). */
const BINARY_PARSE_FAILURE = "parse binary: ";

/**
 * A unary handler whose answer to a binary body that does not parse is `invalid_argument` (HTTP
 * 400) instead of connect's `internal` (HTTP 500); every other response as it is. Connect parses a
 * unary request before any interceptor runs, so this looks at the response: a 500 whose Connect
 * error is `internal` with connect's parse-failure message (an `internal` error of a handler never
 * has it: {@link toConnectError} answers those with its own message).
 */
export function withRequestFaults(handler: UniversalHandler): UniversalHandler {
  if (handler.method.methodKind !== "unary") return handler;
  const typeName = handler.method.input.typeName;
  const wrapped = async (req: Parameters<UniversalHandler>[0]): Promise<UniversalServerResponse> => {
    const res = await handler(req);
    if (res.status !== 500 || !res.body) return res;
    const bytes = await readAllBytes(res.body, Number.MAX_SAFE_INTEGER);
    let error: { code?: unknown; message?: unknown } = {};
    try {
      error = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      // not a Connect error body: passed on as it is
    }
    if (error.code !== "internal" || typeof error.message !== "string" || !error.message.startsWith(BINARY_PARSE_FAILURE)) {
      return { ...res, body: createAsyncIterable([bytes]) };
    }
    const body = new TextEncoder().encode(
      JSON.stringify({ code: "invalid_argument", message: `the request body is not a valid ${typeName} message: ${error.message.slice(BINARY_PARSE_FAILURE.length)}` }),
    );
    const header = new Headers(res.header);
    header.set("content-length", String(body.byteLength));
    return { ...res, status: 400, header, body: createAsyncIterable([body]) };
  };
  return Object.assign(wrapped, handler);
}
