/**
 * The abuse limits of test/limits.test.ts over HTTPS, where the server speaks HTTP/2 (ALPN `h2`)
 * and HTTP/1.1 to clients that do not offer it (backend/src/server/listener.ts): the body limit
 * over HTTP/2, a session that opens no stream closed, a stream whose request never ends cancelled,
 * a WatchCells stream living past the request timeout, and an idle session closed. The client
 * trusts the development CA the server made. Elapsed times are printed, never asserted.
 */
import fs from "node:fs";
import http2 from "node:http2";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { LatticeService, WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import { CubeServer } from "./helpers/cube-server";
import { smallCubeCells, smallCubeDef } from "./helpers/small-cube";

const LIMIT = 64 * 1024;

describe("abuse limits over HTTPS with HTTP/2", () => {
  let certsDir: string;
  let server: CubeServer;
  let ca: Buffer;
  /** Ann's development access token. */
  let token: string;

  /** One request on `session`; the body is sent in pieces, with a Content-Length only when `length`. */
  function request(session: http2.ClientHttp2Session, method: string, urlPath: string, body?: Buffer, length = true): Promise<{ status: number; json: Record<string, unknown> }> {
    return new Promise((resolve, reject) => {
      const headers: http2.OutgoingHttpHeaders = { ":method": method, ":path": urlPath, "content-type": "application/json" };
      if (token) headers.authorization = `Bearer ${token}`;
      if (body && length) headers["content-length"] = body.length;
      const stream = session.request(headers, { endStream: !body });
      let status = 0;
      const chunks: Buffer[] = [];
      stream.on("response", (h) => {
        status = Number(h[":status"]);
      });
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => resolve({ status, json: JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") }));
      stream.on("error", reject);
      if (body) {
        for (let at = 0; at < body.length; at += 16 * 1024) stream.write(body.subarray(at, at + 16 * 1024));
        stream.end();
      }
    });
  }

  const connect = () => http2.connect(server.url, { ca });

  beforeAll(async () => {
    certsDir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-certs-"));
    server = await CubeServer.start("PGlite", smallCubeDef, smallCubeCells(), {
      QATOM_HTTP: "",
      QATOM_CERTS_DIR: certsDir,
      QATOM_MAX_BODY_BYTES: String(LIMIT),
      QATOM_HEADERS_TIMEOUT_MS: "400",
      QATOM_REQUEST_TIMEOUT_MS: "800",
      QATOM_KEEP_ALIVE_TIMEOUT_MS: "400",
    });
    ca = fs.readFileSync(path.join(certsDir, "ca.crt"));
    const session = connect();
    const res = await request(session, "POST", "/auth/dev-token", Buffer.from(JSON.stringify({ user: "ann" })));
    session.close();
    expect(res.status).toBe(200);
    token = res.json.accessToken as string;
  });

  afterAll(async () => {
    await server?.close();
    if (certsDir) fs.rmSync(certsDir, { recursive: true, force: true });
  });

  /** A GetCells JSON body of about `bytes` bytes. */
  function getCellsBody(bytes: number): Buffer {
    const cell = { members: ["[Measures].[Units]", "[Region].[North].[Oslo]"] };
    const n = Math.ceil(bytes / JSON.stringify(cell).length);
    return Buffer.from(JSON.stringify({ cube: "Demo", cells: Array.from({ length: n }, () => cell) }));
  }

  it("speaks HTTP/2 to a client that offers it, HTTP/1.1 to one that does not", async () => {
    const session = connect();
    const health = await request(session, "GET", "/healthz");
    expect(health.status).toBe(200);
    expect(session.alpnProtocol).toBe("h2");
    session.close();
    const version = await new Promise<string>((resolve, reject) => {
      https.get(`${server.url}/healthz`, { ca }, (res) => {
        res.resume();
        resolve(res.httpVersion);
      }).on("error", reject);
    });
    expect(version).toBe("1.1");
  });

  it("answers a body within the limit and refuses one over it, declared or not, naming the limit", async () => {
    const session = connect();
    for (const length of [true, false]) expect((await request(session, "POST", "/quantatom.v1.LatticeService/GetCells", getCellsBody(LIMIT / 2), length)).status).toBe(200);
    const body = getCellsBody(LIMIT * 4);
    expect(await request(session, "POST", "/quantatom.v1.LatticeService/GetCells", body, true)).toEqual({
      status: 429,
      json: { code: "resource_exhausted", message: `the request body has ${body.length} bytes; more than the limit of ${LIMIT} bytes (QATOM_MAX_BODY_BYTES)` },
    });
    expect(await request(session, "POST", "/quantatom.v1.LatticeService/GetCells", body, false)).toEqual({
      status: 429,
      json: { code: "resource_exhausted", message: `the request body is larger than the limit of ${LIMIT} bytes (QATOM_MAX_BODY_BYTES)` },
    });
    session.close();
  });

  it("closes a session that opens no stream, and one left idle after its requests", async () => {
    const closed = (s: http2.ClientHttp2Session) => new Promise<number>((resolve) => {
      const t0 = performance.now();
      s.on("error", () => undefined);
      s.once("close", () => resolve(performance.now() - t0));
    });
    const silent = connect();
    const used = connect();
    const [silentMs, usedMs] = await Promise.all([closed(silent), (async () => {
      const c = closed(used);
      expect((await request(used, "GET", "/healthz")).status).toBe(200);
      return c;
    })()]);
    console.log(`HTTP/2, headers timeout 400 ms: a session with no stream closed after ${silentMs.toFixed(0)} ms; keep-alive 400 ms: an idle one after ${usedMs.toFixed(0)} ms`);
  }, 15_000);

  it("closes an HTTP/1.1 connection (the fallback) that sends only part of its headers", async () => {
    const url = new URL(server.url);
    const ms = await new Promise<number>((resolve, reject) => {
      const t0 = performance.now();
      const socket = tls.connect({ host: url.hostname, port: Number(url.port), ca, ALPNProtocols: ["http/1.1"] }, () => {
        expect(socket.alpnProtocol).toBe("http/1.1");
        socket.write("POST /quantatom.v1.LatticeService/ListCubes HTTP/1.1\r\nHost: x\r\n");
      });
      socket.resume();
      socket.on("error", reject);
      socket.on("close", () => resolve(performance.now() - t0));
    });
    console.log(`HTTP/1.1 over TLS, headers timeout 400 ms: partial headers closed after ${ms.toFixed(0)} ms`);
  }, 15_000);

  it("cancels a stream whose request body does not end within the request timeout", async () => {
    const session = connect();
    const stream = session.request({ ":method": "POST", ":path": "/quantatom.v1.LatticeService/GetCells", "content-type": "application/json", authorization: `Bearer ${token}` });
    stream.write('{"cube":"Demo","cells":[');
    stream.on("error", () => undefined);
    stream.resume();
    await new Promise((resolve) => stream.once("close", resolve));
    expect(stream.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    session.destroy();
  }, 15_000);

  it("keeps a WatchCells stream open past the request timeout", async () => {
    const transport = createConnectTransport({
      baseUrl: server.url,
      httpVersion: "2",
      nodeOptions: { ca },
      interceptors: [(next) => (req) => {
        req.header.set("authorization", `Bearer ${token}`);
        return next(req);
      }],
    });
    const lattice = createClient(LatticeService, transport);
    const leaf = ["[Measures].[Units]", "Oslo", "Widget", "Web", "Plan"];
    const abort = new AbortController();
    const stream = lattice.watchCells({ cube: "Demo", cells: [{ members: leaf }] }, { signal: abort.signal })[Symbol.asyncIterator]();
    expect((await stream.next()).value.initial).toBe(true);
    // past the request timeout (800 ms), the stream still delivers
    await new Promise((r) => setTimeout(r, 2_000));
    const cur = await lattice.getCells({ cube: "Demo", cells: [{ members: leaf }] });
    const w = await lattice.writeCells({ cube: "Demo", writes: [{ members: leaf, value: (cur.cells[0].value ?? 0) + 1, baseVersion: cur.cells[0].version }] });
    expect(w.results[0].status).toBe(WriteStatus.APPLIED);
    expect((await stream.next()).value.updates[0].cell.version).toBe(w.results[0].version);
    abort.abort();
  }, 20_000);
});
