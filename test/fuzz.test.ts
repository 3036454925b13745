/**
 * Every RPC of every service, fuzzed as a hostile client would, over a real HTTP server: random
 * bytes, truncated and corrupted binary messages, illegal tags, invalid UTF-8, deep nesting, JSON
 * with wrong types, huge numbers and long strings, malformed stream envelopes (test/helpers/
 * fuzz-bodies.ts), with a seeded generator. The methods come from the generated service
 * descriptors, so a new RPC is fuzzed too.
 *
 * Every answer must be the client's fault or a success, never the server's: no HTTP 5xx, every
 * error a Connect error in its JSON shape (`{"code", "message"}`; for a stream, in its end
 * message) with a code that is not a server failure. A stream that opens (a valid request) is
 * closed after its first message. Requests are signed in (a development token), so that they reach
 * the services.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { fetchDevToken } from "../backend/src/auth/dev-client";
import { Rng } from "../bench/rng";
import { LatticeService } from "../proto/gen/quantatom/v1/lattice_pb";
import { SERVICES } from "../backend/src/services";
import { CubeServer } from "./helpers/cube-server";
import { type FuzzCase, fuzzCases } from "./helpers/fuzz-bodies";
import { smallCubeCells, smallCubeDef } from "./helpers/small-cube";


/** Connect's codes (connectrpc.com/docs/protocol/#error-codes); those after "server:" are the server's failures. */
const CLIENT_CODES = new Set([
  "canceled",
  "invalid_argument",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unauthenticated",
]);
const SERVER_CODES = new Set(["unknown", "deadline_exceeded", "unimplemented", "internal", "unavailable", "data_loss"]);

/** What one request got back: the HTTP status and the Connect error, if any. */
interface Outcome {
  status: number;
  error?: { code: unknown; message: unknown };
  /** A problem with the answer's shape, if any. */
  malformed?: string;
}

/** Reads a unary answer. */
async function unaryOutcome(res: Response): Promise<Outcome> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  if (res.status === 200) return { status: 200 };
  try {
    const json = JSON.parse(new TextDecoder().decode(bytes));
    return { status: res.status, error: json };
  } catch {
    return { status: res.status, malformed: `not JSON: ${JSON.stringify(new TextDecoder().decode(bytes).slice(0, 80))}` };
  }
}

/** Reads a stream's envelopes until its end message, or closes it after its first data message. */
async function streamOutcome(res: Response, abort: () => void): Promise<Outcome> {
  if (res.status !== 200) return unaryOutcome(res);
  const reader = res.body!.getReader();
  let buf = new Uint8Array();
  for (;;) {
    while (buf.length >= 5) {
      const flags = buf[0];
      const len = new DataView(buf.buffer, buf.byteOffset + 1, 4).getUint32(0);
      if (buf.length < 5 + len) break;
      const data = buf.subarray(5, 5 + len);
      if ((flags & 2) === 0) {
        abort(); // a valid request opened a live stream: its first message arrived, enough
        await reader.cancel().catch(() => undefined);
        return { status: 200 };
      }
      try {
        const end = JSON.parse(new TextDecoder().decode(data));
        return { status: 200, error: end.error };
      } catch {
        return { status: 200, malformed: "the end message is not JSON" };
      }
    }
    const r = await reader.read();
    if (r.done) return { status: 200, malformed: "the stream ended without an end message" };
    const next = new Uint8Array(buf.length + r.value.length);
    next.set(buf);
    next.set(r.value, buf.length);
    buf = next;
  }
}

/** What is wrong with an outcome, or null when it is a success or a client error in Connect's shape. */
function problem(o: Outcome): string | null {
  if (o.status >= 500) return `HTTP ${o.status} ${JSON.stringify(o.error ?? o.malformed)}`;
  if (o.malformed) return o.malformed;
  if (o.status === 200 && o.error === undefined) return null;
  const e = o.error;
  if (!e || typeof e.code !== "string" || typeof e.message !== "string") return `not a Connect error: ${JSON.stringify(e)}`;
  if (SERVER_CODES.has(e.code)) return `a server failure code: ${e.code}: ${e.message}`;
  if (!CLIENT_CODES.has(e.code)) return `not a Connect code: ${e.code}`;
  return null;
}

describe("fuzzing every RPC over HTTP", () => {
  let server: CubeServer;
  let authorization: string;

  beforeAll(async () => {
    server = await CubeServer.start("PGlite", smallCubeDef, smallCubeCells());
    authorization = `Bearer ${(await fetchDevToken(server.url, "fuzzer")).accessToken}`;
  });

  afterAll(async () => {
    await server?.close();
  });

  const methods: DescMethod[] = SERVICES.flatMap((s) => s.methods);

  it("covers every method of every service the server routes", () => {
    expect(methods.map((m) => `${m.parent.name}/${m.name}`)).toEqual(
      expect.arrayContaining(["LatticeService/GetCells", "LatticeService/WatchCells", "CommentaryService/AddComment", "SecurityService/SetRight"]),
    );
    expect(methods.length).toBeGreaterThan(LatticeService.methods.length);
  });

  it.each(methods.map((m) => [`${m.parent.name}/${m.name}`, m] as const))("%s answers hostile bodies with client errors only", async (_name, method) => {
    const rng = new Rng(0x5eed ^ method.name.length ^ (method.parent.methods.indexOf(method) << 8));
    const cases: FuzzCase[] = [...fuzzCases(method, rng), ...fuzzCases(method, rng)];
    const failures: string[] = [];
    const tally = new Map<string, number>();
    for (const c of cases) {
      const controller = new AbortController();
      const res = await fetch(`${server.url}/${method.parent.typeName}/${method.name}`, {
        method: "POST",
        headers: { "content-type": c.contentType, authorization },
        body: c.body as Uint8Array<ArrayBuffer>,
        signal: controller.signal,
      });
      const o = method.methodKind === "unary" ? await unaryOutcome(res) : await streamOutcome(res, () => controller.abort());
      const key = o.error ? String(o.error.code) : `HTTP ${o.status}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
      const p = problem(o);
      if (p) failures.push(`${c.label} (${c.contentType}): ${p}`);
    }
    console.log(`${method.name}: ${cases.length} requests: ${[...tally].map(([k, n]) => `${k} ${n}`).join(", ")}`);
    expect(failures).toEqual([]);
  });

  it("still serves a good request afterwards", async () => {
    const res = await fetch(`${server.url}/quantatom.v1.LatticeService/GetCells`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization },
      body: JSON.stringify({ cube: "Demo", cells: [{ members: ["[Measures].[Units]", "[Region].[South]", "[Scenario].[Actual]"] }] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ cells: [{ value: 5, version: "0", consolidated: true, calculated: false }] });
  });
});
