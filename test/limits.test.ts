/**
 * Abuse limits of the HTTP server, over a real server on an ephemeral port configured with small
 * limits: a request body over QATOM_MAX_BODY_BYTES is refused (declared or chunked) before it is
 * parsed; a connection that sends nothing, or only part of its headers, is closed by the server;
 * a WatchCells stream outlives the request timeout; and a user's WatchCells streams are limited.
 * Elapsed times are printed, never asserted.
 */
import http from "node:http";
import net from "node:net";
import { Code } from "@connectrpc/connect";
import { fetchDevToken } from "../backend/src/auth/dev-client";
import { WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import { apiClients } from "./helpers/clients";
import { CubeServer } from "./helpers/cube-server";
import { smallCubeCells, smallCubeDef } from "./helpers/small-cube";

const LIMIT = 64 * 1024;

describe("abuse limits over HTTP", () => {
  let server: CubeServer;
  let port: number;
  /** Ann's development access token, for the requests made with node:http. */
  let token: string;

  beforeAll(async () => {
    server = await CubeServer.start("PGlite", smallCubeDef, smallCubeCells(), {
      QATOM_MAX_BODY_BYTES: String(LIMIT),
      QATOM_HEADERS_TIMEOUT_MS: "400",
      QATOM_REQUEST_TIMEOUT_MS: "800",
      QATOM_KEEP_ALIVE_TIMEOUT_MS: "400",
      QATOM_MAX_STREAMS_PER_USER: "2",
    });
    port = Number(new URL(server.url).port);
    token = (await fetchDevToken(server.url, "ann")).accessToken;
  });

  afterAll(async () => {
    await server?.close();
  });

  /** POSTs `body` to a LatticeService method with node:http; chunked (no Content-Length) unless `length`. */
  function post(method: string, body: Buffer, length: boolean): Promise<{ status: number; json: { code?: string; message?: string } }> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port,
          method: "POST",
          path: `/quantatom.v1.LatticeService/${method}`,
          headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...(length ? { "content-length": body.length } : {}) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) }));
        },
      );
      req.on("error", (e) => (String(e.message).includes("EPIPE") || String(e.message).includes("ECONNRESET") ? undefined : reject(e)));
      // in pieces, as a slow client would send them
      for (let at = 0; at < body.length; at += 16 * 1024) req.write(body.subarray(at, at + 16 * 1024));
      req.end();
    });
  }

  /** A GetCells JSON body of about `bytes` bytes. */
  function getCellsBody(bytes: number): Buffer {
    const cell = { members: ["[Measures].[Units]", "[Region].[North].[Oslo]"] };
    const n = Math.ceil(bytes / JSON.stringify(cell).length);
    return Buffer.from(JSON.stringify({ cube: "Demo", cells: Array.from({ length: n }, () => cell) }));
  }

  it("answers a body within the limit", async () => {
    const body = getCellsBody(LIMIT / 2);
    for (const length of [true, false]) {
      const res = await post("GetCells", body, length);
      expect(res.status).toBe(200);
    }
  });

  it("refuses a body over the limit with resource_exhausted (HTTP 429), declared or chunked, naming the limit", async () => {
    const body = getCellsBody(LIMIT * 4);
    const declared = await post("GetCells", body, true);
    expect(declared).toEqual({
      status: 429,
      json: { code: "resource_exhausted", message: `the request body has ${body.length} bytes; more than the limit of ${LIMIT} bytes (QATOM_MAX_BODY_BYTES)` },
    });
    const chunked = await post("GetCells", body, false);
    expect(chunked).toEqual({ status: 429, json: { code: "resource_exhausted", message: `the request body is larger than the limit of ${LIMIT} bytes (QATOM_MAX_BODY_BYTES)` } });
    // the server still answers on a new connection
    const ok = await post("GetCells", getCellsBody(100), true);
    expect(ok.status).toBe(200);
  });

  /** Resolves with the ms until the server closes a connection that sends `send` (and then nothing). */
  function closedAfter(send: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const socket = net.connect(port, "127.0.0.1", () => {
        if (send) socket.write(send);
      });
      socket.resume();
      socket.on("error", reject);
      socket.on("close", () => resolve(performance.now() - t0));
    });
  }

  it("closes a connection that sends nothing, or only part of its headers", async () => {
    const [idle, partial] = await Promise.all([closedAfter(""), closedAfter("POST /quantatom.v1.LatticeService/ListCubes HTTP/1.1\r\nHost: x\r\n")]);
    console.log(`headers timeout 400 ms: idle connection closed after ${idle.toFixed(0)} ms, partial headers after ${partial.toFixed(0)} ms`);
  }, 15_000);

  it("keeps a WatchCells stream open past the request timeout, and limits each user's streams", async () => {
    const ann = apiClients(server.url, "ann").lattice;
    const units = "[Measures].[Units]";
    const cells = [{ members: [units, "[Scenario].[Plan]"] }];
    const controllers = [new AbortController(), new AbortController()];
    const streams = controllers.map((c) => ann.watchCells({ cube: "Demo", cells }, { signal: c.signal })[Symbol.asyncIterator]());
    const firsts = await Promise.all(streams.map((it) => it.next()));
    expect(firsts.map((f) => f.value.initial)).toEqual([true, true]);

    // a third stream of ann's is refused; bob's is not
    const third = await ann
      .watchCells({ cube: "Demo", cells })
      [Symbol.asyncIterator]()
      .next()
      .catch((e: unknown) => e);
    expect(third).toMatchObject({ code: Code.ResourceExhausted });
    expect((third as Error).message).toMatch(/ann has 2 WatchCells streams open; the limit is 2 per user \(QATOM_MAX_STREAMS_PER_USER\)/);
    const bobController = new AbortController();
    const bob = apiClients(server.url, "bob").lattice.watchCells({ cube: "Demo", cells }, { signal: bobController.signal })[Symbol.asyncIterator]();
    expect((await bob.next()).value.initial).toBe(true);

    // past the request timeout (800 ms) and its checks, the streams still deliver
    await new Promise((r) => setTimeout(r, 2_000));
    const leaf = [units, "Oslo", "Widget", "Web", "Plan"];
    const cur = await ann.getCells({ cube: "Demo", cells: [{ members: leaf }] });
    const w = await ann.writeCells({ cube: "Demo", writes: [{ members: leaf, value: (cur.cells[0].value ?? 0) + 1, baseVersion: cur.cells[0].version }] });
    expect(w.results[0].status).toBe(WriteStatus.APPLIED);
    const next = await streams[0].next();
    expect(next.value.updates[0].cell.version).toBe(w.results[0].version);

    // a stream that ends frees its slot
    controllers[0].abort();
    await streams[0].return?.();
    let again: AsyncIterator<unknown> | undefined;
    for (let tries = 0; tries < 50 && !again; tries++) {
      const c = new AbortController();
      const it = ann.watchCells({ cube: "Demo", cells }, { signal: c.signal })[Symbol.asyncIterator]();
      const r = await it.next().catch(() => null);
      if (r) {
        again = it;
        controllers.push(c);
      } else await new Promise((res) => setTimeout(res, 50));
    }
    expect(again).toBeDefined();
    for (const c of [...controllers, bobController]) c.abort();
  }, 20_000);
});
