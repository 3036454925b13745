/**
 * The GPU executor: a ScanExecutor (lattice/evaluate/executor.ts) that answers the batch
 * consolidation scan and the narrow pass of scattered batches on a WebGPU device when one is
 * present, with the cube's columns resident in device memory, and hands everything else (passes
 * below `minRows`, narrow passes with weights other than -1, 0 and 1, any GPU failure) to the CPU
 * pool it wraps. `QATOM_GPU`: `off` never loads Dawn; `auto` uses a hardware
 * adapter once it passes a start-up self-check against the CPU kernel; `on` uses any adapter,
 * software ones included, and fails the start without one.
 *
 * The engine's executor interface is synchronous; WebGPU is not. The device lives in a worker
 * thread (worker.ts) and the calling thread waits for each scan's result on a shared word
 * (`Atomics.wait`, at most `timeoutMs`), as the CPU pool waits for its helpers.
 */
import path from "node:path";
import { Worker } from "node:worker_threads";
import { type MemberColumn, type NarrowArgs, type NarrowOut, narrowRows, PARALLEL_MIN_ROWS, REJECT, type ScanExecutor, scanRows } from "../../lattice";
import { decodeSum } from "./fixed-point";
import { SLOT_WORDS } from "./kernels";
import { packNarrowTables } from "./narrow-pass";
import type { NarrowJob, ScanJob } from "./scanner";
import type { FromWorker, ToWorker } from "./worker";

/** `QATOM_GPU`: whether the calc worker uses a GPU. */
export type GpuMode = "auto" | "on" | "off";

/** Options of a GpuExecutor. */
export interface GpuExecutorOptions {
  mode: GpuMode;
  /** Runs what the GPU does not (the CPU pool). */
  fallback: ScanExecutor;
  /** Leaf rows from which scans go to the GPU; default PARALLEL_MIN_ROWS (Jedox's guidance: a GPU pays off above about 300k filled cells). */
  minRows?: number;
  /** Accept a software adapter (llvmpipe); default only with mode `on`. */
  allowSoftware?: boolean;
  /** Most rows per segment (one dispatch each); default what the device's largest binding holds. Tests use small segments. */
  maxSegmentRows?: number;
  /** Longest wait for one GPU job before the GPU is given up and the CPU answers; default 10 s (the bench allows more: a first scan uploads the columns). */
  timeoutMs?: number;
}

/** Where the GPU executor stands: off, starting, ready, or unavailable (with the reason). */
export type GpuState = "off" | "starting" | "ready" | "unavailable";

/** Changed rows of a resident value column: a list, or "all" when there are too many to list. */
type Dirty = number[] | "all";

const TSX_HOOK = require.resolve("tsx/cjs");

/** Ids given to column buffers, so that the worker can keep them resident across scans. */
let lastId = 0;

/**
 * A ScanExecutor using the GPU for the batch consolidation scan and the narrow pass. Build it, call `start()` (once),
 * and give it to the Cubes; until it is ready, and whenever the GPU cannot answer, the fallback
 * does.
 */
export class GpuExecutor implements ScanExecutor {
  readonly minRows: number;
  /** Scans and narrow passes answered by the GPU, and jobs given to the CPU after a GPU failure. */
  readonly stats = { gpuScans: 0, gpuNarrows: 0, failedScans: 0 };
  private stateNow: GpuState;
  private why: string;
  private adapter = "";
  private worker: Worker | null = null;
  private readonly ids = new WeakMap<ArrayBufferLike, number>();
  /** Rows the worker holds of each id, and changed rows of value columns since their last scan. */
  private readonly known = new Map<number, number>();
  /** Rows of each store (by its value column's id) whose packed columns the worker holds (narrow passes). */
  private readonly knownPacked = new Map<number, number>();
  private readonly dirty = new Map<number, Dirty>();
  private readonly freed = new FinalizationRegistry<number>((id) => this.free(id));
  private ticket = 0;
  private starting: Promise<void> | null = null;

  constructor(private readonly options: GpuExecutorOptions) {
    this.minRows = options.minRows ?? PARALLEL_MIN_ROWS;
    this.stateNow = options.mode === "off" ? "off" : "starting";
    this.why = options.mode === "off" ? "QATOM_GPU=off" : "the GPU is starting";
  }

  /** The executor's state. */
  get state(): GpuState {
    return this.stateNow;
  }

  /** The adapter in use (empty until ready). */
  get adapterDescription(): string {
    return this.adapter;
  }

  /** Why the GPU is not used ("" when ready). */
  get reason(): string {
    return this.why;
  }

  /**
   * Opens the device in the worker thread and runs the self-check. Resolves when the state is
   * settled; with mode `on`, rejects with the reason when no adapter passes.
   */
  start(): Promise<void> {
    if (this.options.mode === "off") return Promise.resolve();
    this.starting ??= this.open()
      .catch((err: unknown) => {
        this.stateNow = "unavailable";
        this.why = `the GPU worker could not start: ${err instanceof Error ? err.message : String(err)}`;
      })
      .then(() => {
        if (this.options.mode === "on" && this.stateNow !== "ready") throw new Error(`QATOM_GPU=on, but the GPU cannot be used: ${this.why}`);
      });
    return this.starting;
  }

  /**
   * Which executor serves a cube of `rows` leaf rows, and why, for /healthz and the start-up log.
   */
  describe(rows: number): { executor: "gpu" | "cpu"; reason: string } {
    if (this.stateNow !== "ready") return { executor: "cpu", reason: this.why };
    if (rows < this.minRows) return { executor: "cpu", reason: `fewer than ${this.minRows} leaf rows, where the CPU is faster than a trip to the GPU` };
    return { executor: "gpu", reason: this.adapter };
  }

  /** Terminates the worker thread (and with it the device). */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  warm(rows: number): void {
    this.options.fallback.warm(rows);
  }

  /**
   * The narrow pass on the GPU when its weights are -1, 0 or 1 (narrow-pass.ts), the versions from
   * the written rows on the CPU; else, or when the GPU cannot answer, on the fallback.
   */
  narrow(rows: number, args: NarrowArgs, out: NarrowOut): void {
    const tables = this.stateNow === "ready" && rows >= this.minRows ? packNarrowTables(args, out.sum.length) : null;
    if (!tables || !this.gpuNarrow(rows, args, tables, out)) this.options.fallback.narrow(rows, args, out);
  }

  private gpuNarrow(rows: number, args: NarrowArgs, tables: Int32Array<ArrayBuffer>, out: NarrowOut): boolean {
    const cells = out.sum.length;
    const sent = this.post("narrow", rows, args.cols, args.values, cells, (base) => ({ ...base, tables, cells }), this.knownPacked);
    if (!sent) return false;
    addSlots(sent, cells, (j, sum, count) => {
      out.sum[j] += sum;
      out.count[j] += count;
    });
    narrowVersions(args, out);
    this.stats.gpuNarrows++;
    return true;
  }

  /**
   * Tells the executor that leaf rows of the store whose value column is `values` changed (new rows
   * included): their values are uploaded again before the next scan.
   */
  rowsChanged(values: Float64Array, rows: ArrayLike<number>, count: number): void {
    const id = this.ids.get(values.buffer);
    if (id === undefined) return;
    const list = this.dirty.get(id) ?? [];
    if (list === "all") return;
    if (list.length + count > (this.known.get(id) ?? 0) / 4) {
      this.dirty.set(id, "all");
      return;
    }
    for (let i = 0; i < count; i++) list.push(rows[i]);
    this.dirty.set(id, list);
  }

  scan(rows: number, cols: readonly MemberColumn[], tables: readonly Int32Array[], values: Float64Array, acc: Float64Array): void {
    if (this.stateNow !== "ready" || rows < this.minRows || !this.gpuScan(rows, cols, tables, values, acc)) {
      this.options.fallback.scan(rows, cols, tables, values, acc);
    }
  }

  /** The scan on the GPU; false (nothing added to `acc`) when the GPU could not answer. */
  private gpuScan(rows: number, cols: readonly MemberColumn[], tables: readonly Int32Array[], values: Float64Array, acc: Float64Array): boolean {
    const slots = acc.length / 2;
    const sent = this.post("scan", rows, cols, values, slots, (base) => ({ ...base, tables: [...tables], slots }), this.known);
    if (!sent) return false;
    addSlots(sent, slots, (k, sum, count) => {
      acc[2 * k] += sum;
      acc[2 * k + 1] += count;
    });
    this.stats.gpuScans++;
    return true;
  }

  /**
   * Posts a job to the worker and waits for its result: the columns and values travel only when
   * the worker does not hold them up to `rows` (`colsKnown`: what it holds of the columns in the
   * form this job uses), with the rows changed since. Returns the result's words and scale, or null
   * when the GPU could not answer (after `timeoutMs`, the GPU is given up).
   */
  private post<J extends ScanJob | NarrowJob>(
    kind: "scan" | "narrow",
    rows: number,
    cols: readonly MemberColumn[],
    values: Float64Array,
    slots: number,
    complete: (base: Omit<ScanJob, "tables" | "slots">) => J,
    colsKnown: Map<number, number>,
  ): { words: Uint32Array; f: number } | null {
    const worker = this.worker;
    if (!worker) return null;
    const colIds = cols.map((c) => this.idOf(c.buffer));
    const valuesId = this.idOf(values.buffer);
    const dirty = this.dirty.get(valuesId);
    const sendValues = (this.known.get(valuesId) ?? 0) < rows || dirty !== undefined;
    // Changed rows travel with the values: all of them re-encoded (null) when too many to list.
    let dirtyRows: Int32Array | null = new Int32Array(0);
    if (dirty === "all") dirtyRows = null;
    else if (dirty) dirtyRows = Int32Array.from(dirty);
    const colKey = (k: number) => (kind === "narrow" ? valuesId : colIds[k]);
    const job = complete({
      rows,
      colIds,
      cols: cols.map((c, k) => ((colsKnown.get(colKey(k)) ?? 0) < rows ? c : null)),
      valuesId,
      values: sendValues ? values : null,
      dirty: dirtyRows,
    });
    const out = new SharedArrayBuffer(8 + slots * SLOT_WORDS * 4);
    const ctrl = new Int32Array(new SharedArrayBuffer(4));
    this.ticket = (this.ticket % 0x3fff_ffff) + 1;
    const ticket = this.ticket;
    Atomics.store(ctrl, 0, ticket);
    worker.postMessage({ kind, ticket, ctrl, out, job } as ToWorker);
    const timeout = this.options.timeoutMs ?? 10_000;
    if (Atomics.wait(ctrl, 0, ticket, timeout) === "timed-out") {
      this.giveUp(`a GPU ${kind} of ${rows} rows took longer than ${timeout} ms`);
      return null;
    }
    if (Atomics.load(ctrl, 0) !== 0) {
      // The worker may hold half-uploaded columns: it drops them all, and the next job sends them again.
      this.stats.failedScans++;
      this.forgetAll();
      if (this.stats.failedScans >= 3) this.giveUp("three GPU jobs failed");
      return null;
    }
    for (let k = 0; k < cols.length; k++) colsKnown.set(colKey(k), Math.max(rows, colsKnown.get(colKey(k)) ?? 0));
    this.known.set(valuesId, rows);
    this.dirty.delete(valuesId);
    return { words: new Uint32Array(out, 8, slots * SLOT_WORDS), f: new Float64Array(out, 0, 1)[0] };
  }

  private idOf(buffer: ArrayBufferLike): number {
    let id = this.ids.get(buffer);
    if (id === undefined) {
      id = ++lastId;
      this.ids.set(buffer, id);
      this.freed.register(buffer, id);
    }
    return id;
  }

  private free(id: number): void {
    this.known.delete(id);
    this.knownPacked.delete(id);
    this.dirty.delete(id);
    this.worker?.postMessage({ kind: "free", ids: [id] } satisfies ToWorker);
  }

  private forgetAll(): void {
    const ids = [...this.known.keys()];
    this.known.clear();
    this.knownPacked.clear();
    this.dirty.clear();
    this.worker?.postMessage({ kind: "free", ids } satisfies ToWorker);
  }

  private giveUp(reason: string): void {
    this.stateNow = "unavailable";
    this.why = reason;
    void this.close();
  }

  /** Starts the worker, waits for its device, and runs the self-check. */
  private async open(): Promise<void> {
    // Mesa's EGL reads this from the process environment, which a worker thread cannot set.
    process.env.EGL_PLATFORM ??= "surfaceless";
    const worker = new Worker(path.join(__dirname, "worker.ts"), {
      execArgv: ["--require", TSX_HOOK],
      workerData: { maxSegmentRows: this.options.maxSegmentRows ?? null },
    });
    worker.unref();
    const first = await new Promise<FromWorker>((resolve) => {
      worker.once("message", resolve);
      worker.once("error", (err) => resolve({ kind: "unavailable", reason: `the GPU worker failed: ${err.message}` }));
      worker.once("exit", (code) => resolve({ kind: "unavailable", reason: `the GPU worker exited (${code})` }));
    });
    if (first.kind !== "ready") {
      this.stateNow = "unavailable";
      this.why = first.kind === "unavailable" ? first.reason : "the GPU worker did not start";
      await worker.terminate();
      return;
    }
    if (first.software && !(this.options.allowSoftware ?? this.options.mode === "on")) {
      this.stateNow = "unavailable";
      this.why = `only a software adapter (${first.description}), no faster than the CPU: used with QATOM_GPU=on only`;
      await worker.terminate();
      return;
    }
    this.worker = worker;
    worker.on("message", (msg: FromWorker) => {
      if (msg.kind === "unavailable") this.giveUp(msg.reason);
    });
    worker.on("error", (err) => this.giveUp(`the GPU worker failed: ${err.message}`));
    worker.on("exit", () => {
      if (this.worker === worker) this.giveUp("the GPU worker exited");
    });
    this.adapter = first.description;
    this.stateNow = "ready";
    this.why = "";
    const failed = this.selfCheck();
    if (failed) {
      this.giveUp(`the self-check against the CPU kernel failed: ${failed}`);
      await this.close();
    }
  }

  /**
   * Sums random rows (cents, negatives, empty cells, rejected members, 2 and 13 axes) on the
   * GPU and in the CPU kernel. Returns what differed, or null.
   */
  private selfCheck(): string | null {
    let seed = 12_345;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed % n;
    };
    const rows = 100_000;
    // One pass, and three passes (partial keys) for a cube of many dimensions.
    for (const na of [2, 13]) {
      const cols: MemberColumn[] = [];
      const tables: Int32Array[] = [];
      let stride = 1;
      for (let k = 0; k < na; k++) {
        const members = 3 + rand(20);
        const segs = 2 + rand(3);
        cols.push(Int32Array.from({ length: rows }, () => rand(members)));
        tables.push(Int32Array.from({ length: members }, () => (rand(10) === 0 ? REJECT : rand(segs) * stride)));
        stride *= segs;
      }
      const values = Float64Array.from({ length: rows }, () => (rand(20) === 0 ? Number.NaN : (rand(2_000_000) - 600_000) / 100));
      const gpu = new Float64Array(2 * stride);
      const cpu = new Float64Array(2 * stride);
      if (!this.gpuScan(rows, cols, tables, values, gpu)) return "the GPU did not answer";
      scanRows(0, rows, cols, tables, values, null, cpu);
      for (let k = 0; k < cpu.length; k++) {
        if (Math.abs(gpu[k] - cpu[k]) > 1e-9 * Math.max(1, Math.abs(cpu[k]))) return `slot ${k >> 1}: GPU ${gpu[k]}, CPU ${cpu[k]}`;
      }
      this.forgetAll();
    }
    return null;
  }
}

/** Hands each of a result's first `slots` slots that holds rows to `add`, its sum decoded to a double. */
function addSlots(result: { words: Uint32Array; f: number }, slots: number, add: (slot: number, sum: number, count: number) => void): void {
  const { words, f } = result;
  for (let k = 0; k < slots; k++) {
    const count = words[k * SLOT_WORDS + 4];
    if (count !== 0) add(k, decodeSum(words, k * SLOT_WORDS, f), count);
  }
}

/**
 * The narrow pass's versions, on the CPU: the kernel run over the rows with a version (the written
 * ones, `args.versionRows` when given, else found by a pass over the versions), gathered into
 * small columns; only its highest versions are kept.
 */
function narrowVersions(args: NarrowArgs, out: NarrowOut): void {
  let rows: ArrayLike<number>;
  let n: number;
  if (args.versionRows && args.versionCount !== undefined) {
    rows = args.versionRows;
    n = args.versionCount;
  } else {
    const found: number[] = [];
    for (let r = 0; r < args.versions.length; r++) if (args.versions[r] > 0) found.push(r);
    rows = found;
    n = found.length;
  }
  if (n === 0) return;
  const gather = (col: ArrayLike<number>) => Int32Array.from({ length: n }, (_, i) => col[rows[i]]);
  const sub: NarrowArgs = {
    ...args,
    cols: args.cols.map(gather),
    values: Float64Array.from({ length: n }, (_, i) => args.values[rows[i]]),
    versions: Float64Array.from({ length: n }, (_, i) => args.versions[rows[i]]),
  };
  const cells = out.ver.length;
  const scratch: NarrowOut = { sum: new Float64Array(cells), count: new Float64Array(cells), ver: new Float64Array(cells) };
  narrowRows(0, n, sub, scratch);
  for (let j = 0; j < cells; j++) if (scratch.ver[j] > out.ver[j]) out.ver[j] = scratch.ver[j];
}
