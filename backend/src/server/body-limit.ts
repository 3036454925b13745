/**
 * The request body limit of the Connect API (`QATOM_MAX_BODY_BYTES`, default 32 MiB), enforced
 * while the body streams in and before anything is parsed: a declared `Content-Length` over the
 * limit is answered at once without reading the body, and a body without one (chunked) fails as
 * soon as the bytes read pass the limit, so the server never holds more than the limit of one
 * request's body. The answer is `resource_exhausted` (HTTP 429, Connect's JSON error shape, as for
 * a batch over its cell or write limit), naming the limit.
 *
 * Hono's `bodyLimit` middleware buffers a chunked body whole before the handler sees it; Connect's
 * `readMaxBytes` router option enforces the same bound while reading (and is set too, so that a
 * decompressed body is bounded), but its message does not name the setting.
 */
import { Code, ConnectError } from "@connectrpc/connect";

/** The default body limit: 32 MiB (a GetCells of 20,000 cells with 13 long unique names is about 6 MB). */
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;

/** The message of a body over `maxBytes`; `bytes` when the size is known. */
export function bodyLimitMessage(maxBytes: number, bytes?: number): string {
  const size = bytes === undefined ? "the request body is larger than" : `the request body has ${bytes} bytes; more than`;
  return `${size} the limit of ${maxBytes} bytes (QATOM_MAX_BODY_BYTES)`;
}

/**
 * The Connect error body and status for a request whose declared `Content-Length` is over
 * `maxBytes`, or null when it is within the limit or not declared.
 */
export function declaredTooLarge(header: Headers, maxBytes: number): { status: 429; body: { code: "resource_exhausted"; message: string } } | null {
  const declared = header.get("content-length");
  if (declared === null || !/^\d+$/.test(declared.trim())) return null;
  const bytes = Number(declared);
  if (bytes <= maxBytes) return null;
  return { status: 429, body: { code: "resource_exhausted", message: bodyLimitMessage(maxBytes, bytes) } };
}

/**
 * `body` passed through chunk by chunk, failing with a `resource_exhausted` ConnectError as soon as
 * the bytes read pass `maxBytes` (the chunk that passes it is never handed on). Connect's handlers
 * answer that error as they answer their own: HTTP 429 for a unary call, the end of a stream.
 */
export async function* limitBody(body: AsyncIterable<Uint8Array>, maxBytes: number): AsyncGenerator<Uint8Array> {
  let read = 0;
  for await (const chunk of body) {
    read += chunk.byteLength;
    if (read > maxBytes) throw new ConnectError(bodyLimitMessage(maxBytes), Code.ResourceExhausted);
    yield chunk;
  }
}
