/**
 * The error boundary on request bytes that are not a valid message, through the router's own
 * handlers (the universal handlers the HTTP app serves, without HTTP): a truncated or malformed
 * binary body, invalid UTF-8, nesting too deep, a compressed envelope without an encoding, a
 * stream with no message or two are `invalid_argument`; a real failure stays `internal`.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { createConnectRouter } from "@connectrpc/connect";
import { createAsyncIterable, encodeEnvelope, readAllBytes, type UniversalHandler } from "@connectrpc/connect/protocol";
import pino from "pino";
import { WatchCellsRequestSchema } from "../../../proto/gen/quantatom/v1/lattice_pb";
import type { TokenVerifier } from "../auth";
import type { Backend } from "../domain";
import { routerOptions, routes, withRequestFaults } from ".";

/** A verifier that takes any token as its own subject (sign-in is tested in auth/). */
const anyToken: TokenVerifier = { verify: async (t) => ({ subject: t, name: t, tenant: "default", expiresAt: Date.now() + 3_600_000 }) };

/** A backend whose every call fails as a server bug would. */
const failing = new Proxy(
  {},
  {
    get: () => () => {
      throw new Error("the store is on fire");
    },
  },
) as unknown as Backend;

const router = createConnectRouter(routerOptions(pino({ level: "silent" }), anyToken));
routes(failing)(router);
const handler = (name: string): UniversalHandler => withRequestFaults(router.handlers.find((h) => h.method.name === name)!);

async function call(name: string, contentType: string, body: Uint8Array): Promise<{ status: number; text: string }> {
  const res = await handler(name)({
    httpVersion: "1.1",
    method: "POST",
    url: `http://test/quantatom.v1.LatticeService/${name}`,
    header: new Headers({ "content-type": contentType, authorization: "Bearer ann" }),
    body: createAsyncIterable([body]),
    signal: new AbortController().signal,
  });
  const bytes = res.body ? await readAllBytes(res.body, 1 << 20) : new Uint8Array();
  return { status: res.status, text: Buffer.from(bytes).toString("latin1") };
}

/** The Connect error of a stream's end message (JSON after the 5-byte envelope header). */
function endError(text: string): { code: string; message: string } {
  const at = text.lastIndexOf("\u0002");
  return JSON.parse(text.slice(at + 5)).error;
}

describe("the error boundary on malformed requests", () => {
  const deep = new Uint8Array(Array.from({ length: 200 }, () => 0x13));

  it.each([
    ["a truncated message", "ListCubes", new Uint8Array([0x0b]), /ListCubesRequest message: premature EOF/],
    ["a length past the end", "GetCells", new Uint8Array([0x0a, 0x05, 0x44]), /GetCellsRequest message: premature EOF/],
    ["invalid UTF-8 in a string", "GetCells", new Uint8Array([0x0a, 0x02, 0xff, 0xfe]), /not valid for encoding utf-8/],
    ["an illegal wire type", "GetCells", new Uint8Array([0x0f]), /GetCellsRequest message: /],
    ["groups nested too deep", "GetCells", deep, /maximum recursion depth/],
  ])("answers %s in a unary binary body invalid_argument (HTTP 400)", async (_what, name, body, message) => {
    const { status, text } = await call(name, "application/proto", body);
    expect(status).toBe(400);
    const err = JSON.parse(text);
    expect(err.code).toBe("invalid_argument");
    expect(err.message).toMatch(/^the request body is not a valid quantatom\.v1\.\w+ message: /);
    expect(err.message).toMatch(message);
  });

  it.each([
    ["a compressed envelope without an encoding", new Uint8Array([1, 0, 0, 0, 0]), /WatchCellsRequest stream: received compressed envelope/],
    ["a truncated message", encodeEnvelope(0, new Uint8Array([0x0b])), /WatchCellsRequest stream: parse binary: premature EOF/],
    ["no message", new Uint8Array(), /^WatchCells takes exactly one request message; the request had none$/],
    [
      "two messages",
      new Uint8Array([...encodeEnvelope(0, new Uint8Array()), ...encodeEnvelope(0, new Uint8Array())]),
      /^WatchCells takes exactly one request message; the request had more$/,
    ],
  ])("ends a stream whose request is %s invalid_argument", async (_what, body, message) => {
    const { status, text } = await call("WatchCells", "application/connect+proto", body);
    expect(status).toBe(200);
    const err = endError(text);
    expect(err.code).toBe("invalid_argument");
    expect(err.message).toMatch(message);
  });

  it("keeps a real failure internal, unary and streaming, without its details", async () => {
    const unary = await call("ListCubes", "application/proto", new Uint8Array());
    expect(unary.status).toBe(500);
    expect(JSON.parse(unary.text)).toEqual({ code: "internal", message: "internal error; the server log has the details" });
    const good = toBinary(WatchCellsRequestSchema, create(WatchCellsRequestSchema, { cube: "Demo" }));
    const stream = await call("WatchCells", "application/connect+proto", encodeEnvelope(0, good));
    expect(endError(stream.text)).toEqual({ code: "internal", message: "internal error; the server log has the details" });
  });
});
