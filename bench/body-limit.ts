/**
 * How much memory a huge request body costs the server: a 2-million-cell GetCells body of about
 * 128 MB sent to a real server in a child process, once with its Content-Length and once chunked;
 * the server's resident memory is read from /proc (VmRSS before, VmHWM, the peak, after; the peak
 * is reset before each request) and the growth printed beside the body limit. Prints figures; it
 * is not a test (test/limits.test.ts checks the refusals).
 *
 *   node bin/run-ts.cjs bench/body-limit.ts [--limit BYTES] [--cells N] [--unlimited]
 *
 * `--unlimited` also runs the server with a limit above the body (4 GiB), as before the limit
 * existed: the body is read and parsed whole before the cell limit refuses it (about 1 GB more).
 * Linux only (/proc/<pid>/status and clear_refs).
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { readConfig } from "../backend/src/config";
import type { CubeDef } from "../backend/src/lattice";
import { startServer } from "../backend/src/server/main";
import { openStore } from "../backend/src/store";

const DEMO: CubeDef = {
  name: "Demo",
  description: "body-limit bench",
  dimensions: [
    {
      name: "Region",
      levels: ["(All)", "City"],
      hasAll: true,
      members: [
        { name: "All Regions", parent: -1, level: 0 },
        { name: "Oslo", parent: 0, level: 1 },
      ],
    },
    { name: "Measures", levels: ["Measures"], hasAll: false, members: [{ name: "Units", parent: -1, level: 0 }] },
  ],
};

/** Child mode: serve the Demo cube with `QATOM_MAX_BODY_BYTES=limit` and print the URL. */
async function serve(limit: string): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-body-bench-"));
  const store = await openStore({ dataDir });
  await store.saveCube(DEMO, { count: 1, coords: [Int32Array.of(1), Int32Array.of(0)], values: Float64Array.of(1) });
  await store.close();
  const config = readConfig({ PORT: "0", QATOM_HTTP: "1", QATOM_HOST: "127.0.0.1", QATOM_DATA_DIR: dataDir, QATOM_MODEL: "/nonexistent", QATOM_MAX_BODY_BYTES: limit });
  const server = await startServer(config, { banner: false, progress: false, log: pino({ level: "silent" }) });
  await server.ready;
  process.on("SIGTERM", () => {
    server.close().finally(() => {
      fs.rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
  console.log(server.url);
}

/** A field of /proc/<pid>/status in MiB (VmRSS, VmHWM). */
function procMiB(pid: number, field: "VmRSS" | "VmHWM"): number {
  const line = fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith(`${field}:`));
  return Number(line?.match(/(\d+)/)?.[1] ?? Number.NaN) / 1024;
}

function startChild(limit: number): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [path.join(__dirname, "..", "bin", "run-ts.cjs"), __filename, "--serve", String(limit)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.once("data", (d: Buffer) => resolve({ child, url: String(d).trim() }));
    child.once("exit", (code) => reject(new Error(`the server exited with ${code}`)));
  });
}

/** POSTs `body` (with its Content-Length, or chunked in 1 MiB writes) and resolves with the answer. */
function post(url: string, body: Buffer, declared: boolean): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(`${url}/quantatom.v1.LatticeService/GetCells`);
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname, method: "POST", headers: { "content-type": "application/json", ...(declared ? { "content-length": body.length } : {}) } },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => {
          text += c.toString("utf8");
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", (e: NodeJS.ErrnoException) => (e.code === "EPIPE" || e.code === "ECONNRESET" ? undefined : reject(e)));
    (async () => {
      for (let at = 0; at < body.length; at += 1 << 20) {
        if (req.destroyed) return;
        if (!req.write(body.subarray(at, at + (1 << 20)))) {
          await new Promise<void>((resolve) => {
            const done = () => {
              req.off("drain", done).off("close", done);
              resolve();
            };
            req.on("drain", done).on("close", done);
          });
        }
      }
      req.end();
    })().catch(reject);
  });
}

async function measure(limit: number, body: Buffer, label: string): Promise<void> {
  const { child, url } = await startChild(limit);
  try {
    const pid = child.pid!;
    for (const declared of [true, false]) {
      await new Promise((r) => setTimeout(r, 500));
      fs.writeFileSync(`/proc/${pid}/clear_refs`, "5"); // reset the peak (VmHWM) to the current RSS
      const before = procMiB(pid, "VmRSS");
      const t0 = performance.now();
      const res = await post(url, body, declared);
      const ms = performance.now() - t0;
      const peak = procMiB(pid, "VmHWM");
      console.log(
        `${label}, ${declared ? "Content-Length" : "chunked"}: HTTP ${res.status} ${res.text.slice(0, 110)} | RSS before ${before.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB, growth ${(peak - before).toFixed(0)} MiB | ${ms.toFixed(0)} ms`,
      );
    }
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === "--serve") return serve(args[1]);
  const arg = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const limit = arg("--limit", 32 * 1024 * 1024);
  const cells = arg("--cells", 2_000_000);
  const cell = Buffer.from('{"members":["[Measures].[Units]","[Region].[All Regions].[Oslo]"]}');
  const parts: Buffer[] = [Buffer.from('{"cube":"Demo","cells":[')];
  for (let i = 0; i < cells; i++) parts.push(i === 0 ? cell : Buffer.concat([Buffer.from(","), cell]));
  parts.push(Buffer.from("]}"));
  const body = Buffer.concat(parts);
  parts.length = 0;
  console.log(`GetCells of ${cells} cells: ${(body.length / 1024 / 1024).toFixed(0)} MiB; body limit ${(limit / 1024 / 1024).toFixed(0)} MiB`);
  await measure(limit, body, `limit ${(limit / 1024 / 1024).toFixed(0)} MiB`);
  if (args.includes("--unlimited")) await measure(2 ** 32 - 1, body, "no body limit (4 GiB)");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
