/**
 * The GPU worker thread: opens the device (device.ts) when started and runs the scans and narrow
 * passes the executor posts (scanner.ts). The executor's thread waits on `ctrl` (see executor.ts): the worker
 * writes each result into the job's shared buffer and then sets `ctrl[0]` to 0 (done) or -1
 * (failed, with the reason posted as a message) and notifies.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openDevice } from "./device";
import { GpuScanner, type NarrowJob, type ScanJob } from "./scanner";

/** Messages the executor posts to the worker. */
export type ToWorker =
  | { kind: "scan"; ticket: number; ctrl: Int32Array; out: SharedArrayBuffer; job: ScanJob }
  | { kind: "narrow"; ticket: number; ctrl: Int32Array; out: SharedArrayBuffer; job: NarrowJob }
  | { kind: "free"; ids: number[] };

/** Messages the worker posts back. */
export type FromWorker =
  | { kind: "ready"; description: string; software: boolean; segRows: number }
  | { kind: "unavailable"; reason: string }
  | { kind: "failed"; ticket: number; reason: string };

const port = parentPort;
if (!port) throw new Error("compute/gpu/worker.ts runs as a worker thread");

void (async () => {
  const opened = await openDevice();
  if ("error" in opened) {
    port.postMessage({ kind: "unavailable", reason: opened.error } satisfies FromWorker);
    return;
  }
  const scanner = new GpuScanner(opened, (workerData as { maxSegmentRows: number | null } | null)?.maxSegmentRows ?? undefined);
  opened.device.lost.then((info) => port.postMessage({ kind: "unavailable", reason: `device lost: ${info.message}` } satisfies FromWorker));
  // Jobs run one at a time, in order.
  let queue = Promise.resolve();
  port.on("message", (msg: ToWorker) => {
    queue = queue.then(async () => {
      if (msg.kind === "free") {
        for (const id of msg.ids) scanner.free(id);
        return;
      }
      try {
        const res = msg.kind === "narrow" ? await scanner.narrow(msg.job) : await scanner.scan(msg.job);
        const header = new Float64Array(msg.out, 0, 1);
        header[0] = res.f;
        new Uint32Array(msg.out, 8, res.words.length).set(res.words);
        Atomics.compareExchange(msg.ctrl, 0, msg.ticket, 0);
      } catch (err) {
        port.postMessage({ kind: "failed", ticket: msg.ticket, reason: (err as Error).message } satisfies FromWorker);
        Atomics.compareExchange(msg.ctrl, 0, msg.ticket, -1);
      }
      Atomics.notify(msg.ctrl, 0);
    });
  });
  port.postMessage({ kind: "ready", description: opened.description, software: opened.software, segRows: scanner.segRows } satisfies FromWorker);
})();
