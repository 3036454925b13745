/**
 * The real server path for the benchmark: a backend served over plain HTTP on 127.0.0.1, a Connect
 * client (binary protobuf) calling it, and the measurements that go through it (GetCells,
 * write -> WatchCells delivery).
 */
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { serve } from "@hono/node-server";
import pino from "pino";
import { LatticeService, WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import { createAuth } from "../backend/src/auth";
import { devSignIn } from "../backend/src/auth/dev-client";
import { readConfig } from "../backend/src/config";
import { createApp } from "../backend/src/server/app";
import { type RunningServer, startServer } from "../backend/src/server/main";
import type { Backend } from "../backend/src/domain";
import { now, type Timings, summarize } from "./measure";

/** A Connect client of the lattice service. */
export type LatticeClient = Client<typeof LatticeService>;

/** A running server for the benchmark. */
export interface BenchServer {
  url: string;
  backend: Backend;
  close(): Promise<void>;
}

/**
 * Starts the real server (startServer) over a data directory that already holds the saved cubes,
 * over plain HTTP on 127.0.0.1 and an ephemeral port, silent; resolves once every cube is served.
 */
export async function startStoredServer(dataDir: string): Promise<BenchServer & { server: RunningServer }> {
  const config = readConfig({ PORT: "0", QATOM_HTTP: "1", QATOM_HOST: "127.0.0.1", QATOM_DATA_DIR: dataDir, QATOM_MODEL: "/nonexistent" });
  const server = await startServer(config, { banner: false, progress: false, log: pino({ level: "silent" }) });
  await server.ready;
  return { url: server.url, backend: server.backend, close: () => server.close(), server };
}

/**
 * Serves an already built backend (cubes added by the caller) with the same HTTP app startServer
 * uses, on 127.0.0.1 and an ephemeral port. `close` stops the server; the backend's store is the
 * caller's to close.
 */
export async function serveBackend(backend: Backend): Promise<BenchServer> {
  const keys = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-bench-auth-"));
  const auth = await createAuth(readConfig({}).auth, "127.0.0.1", keys);
  const app = createApp({ backend, ready: () => true, failure: () => null, log: pino({ level: "silent" }), auth });
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  auth.setServerUrl(`http://127.0.0.1:${port}`);
  return {
    url: `http://127.0.0.1:${port}`,
    backend,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        fs.rmSync(keys, { recursive: true, force: true });
      }),
  };
}

/** A Connect client (binary protobuf) of the lattice service at `url`, signed in as `user` through the server's development issuer. */
export function latticeClient(url: string, user = "bench"): LatticeClient {
  const transport = createConnectTransport({ baseUrl: url, useBinaryFormat: true, interceptors: [devSignIn(url, user)] });
  return createClient(LatticeService, transport);
}

/** Reads a batch over the API; returns the values (null = empty) and the client-side milliseconds. */
export async function httpGetCells(client: LatticeClient, cube: string, addresses: readonly string[][]): Promise<{ values: (number | null)[]; ms: number }> {
  const t0 = now();
  const res = await client.getCells({ cube, cells: addresses.map((members) => ({ members: [...members] })) });
  const ms = now() - t0;
  return {
    ms,
    values: res.cells.map((c) => {
      if (c.error) throw new Error(`GetCells: ${c.error.message}`);
      return c.value ?? null;
    }),
  };
}

/** Writes one leaf over the API with its current version; resolves to the new version. */
export async function httpWrite(client: LatticeClient, cube: string, leaf: readonly string[], value: number): Promise<number> {
  const cur = await client.getCells({ cube, cells: [{ members: [...leaf] }] });
  const res = await client.writeCells({ cube, writes: [{ members: [...leaf], value, baseVersion: cur.cells[0].version }] });
  const r = res.results[0];
  if (r.status !== WriteStatus.APPLIED) throw new Error(`write not applied: ${WriteStatus[r.status]} ${r.message}`);
  return Number(r.version);
}

/** What the write -> stream measurement saw. */
export interface WriteStreamResult {
  /** From sending WriteCells until the WatchCells stream delivered the ancestor's new value. */
  stream: Timings;
  /** From sending WriteCells until its response (commit acknowledged). */
  ack: Timings;
  writes: number;
}

/**
 * Opens a WatchCells stream on a consolidated `ancestor`, then `n` times writes a new value into
 * `leaf` (a leaf below it with weight `weight`) with the right base version, and times until the
 * stream delivers the ancestor's new value (checked: old value + weight * delta, to 1e-6 relative).
 * @throws Error when a write is not applied or the stream delivers a wrong value.
 */
export async function measureWriteToStream(
  client: LatticeClient,
  cube: string,
  ancestor: readonly string[],
  leaf: readonly string[],
  n: number,
  weight = 1,
): Promise<WriteStreamResult> {
  const controller = new AbortController();
  const stream = client.watchCells({ cube, cells: [{ members: [...ancestor] }] }, { signal: controller.signal });
  const it = stream[Symbol.asyncIterator]();
  try {
    const first = await it.next();
    if (first.done || !first.value.initial) throw new Error("WatchCells: no initial message");
    let total = first.value.updates[0].cell?.value ?? 0;
    const cur = await client.getCells({ cube, cells: [{ members: [...leaf] }] });
    let version = cur.cells[0].version;
    let leafValue = cur.cells[0].value ?? 0;
    const streamMs: number[] = [];
    const ackMs: number[] = [];
    for (let k = 0; k < n; k++) {
      // Values with two decimals, moving up and down.
      const value = Math.round((leafValue + (k % 2 === 0 ? 12.34 : -5.67)) * 100) / 100;
      const t0 = now();
      const write = client.writeCells({ cube, writes: [{ members: [...leaf], value, baseVersion: version }] }).then((res) => {
        ackMs.push(now() - t0);
        return res;
      });
      const msg = await it.next();
      const t1 = now();
      const res = await write;
      const r = res.results[0];
      if (r.status !== WriteStatus.APPLIED) throw new Error(`write ${k} not applied: ${WriteStatus[r.status]} ${r.message}`);
      if (msg.done) throw new Error("WatchCells ended early");
      const got = msg.value.updates[0]?.cell?.value ?? 0;
      const want = total + weight * (value - leafValue);
      if (Math.abs(got - want) > 1e-6 * Math.max(1, Math.abs(want))) {
        throw new Error(`write ${k}: the stream delivered ${got}, expected ${want}`);
      }
      streamMs.push(t1 - t0);
      total = got;
      leafValue = value;
      version = r.version;
    }
    return { stream: summarize(streamMs), ack: summarize(ackMs), writes: n };
  } finally {
    controller.abort();
    await it.return?.().catch(() => undefined);
  }
}
