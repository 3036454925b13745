/**
 * The calc worker pool: a ScanExecutor that splits large passes over leaf rows over helper threads
 * running the engine's kernels (`scanRows` and the narrow pass's `narrowRows`, by their source text)
 * on columns in shared memory.
 * The engine itself imports no `node:*` module; whoever builds a Cube gives it this executor.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { type MemberColumn, type NarrowArgs, type NarrowOut, narrowRows, PARALLEL_MIN_ROWS, type ScanExecutor, scanRows } from "../lattice";

/**
 * How long a read waits for a helper's range before running it itself (a helper that hangs or died
 * holding it): 20 times what the calling thread took for its own range of the same size, at least
 * HELPER_MIN_WAIT_MS and at most HELPER_TIMEOUT_MS.
 */
const HELPER_MIN_WAIT_MS = 1_000;
const HELPER_TIMEOUT_MS = 30_000;
/** Helpers started in a row that never summed a range before replacements stop (a broken thread start). */
const MAX_FAILED_STARTS = 5;

/**
 * A helper thread running scanRows on a range of rows whose columns live in shared memory.
 * `ctrl[0]` is the job's ticket: J when job J is posted, -J once the helper took it, 0 when done
 * or cancelled; `ctrl[1]` is 1 when the helper failed. A message that arrives after its job was
 * cancelled finds another ticket and is ignored.
 */
interface Helper {
  worker: Worker;
  ctrl: Int32Array;
}

/** Options of a ThreadPoolExecutor. */
export interface ThreadPoolOptions {
  /**
   * Helper threads; default one fewer than the available cores (the server passes
   * `QATOM_CALC_WORKERS - 1`). 0 runs every scan in the calling thread.
   */
  helpers?: number;
}

/**
 * Splits scans of leaf rows over the calling thread and helper threads (started on first use, or
 * by `warm`) when the columns live in shared memory (LeafStore allocates large stores so): each
 * helper sums its range into its own accumulator, merged after. A range no helper has taken when
 * the calling thread is done with its own is run there, so a slow or missing helper never stalls a
 * read; a helper that fails, exits or is killed is dropped, one that holds a range too long (see
 * HELPER_MIN_WAIT_MS) is terminated and dropped, and the next scan starts a replacement (so the
 * pool keeps its size), its range answered meanwhile by the calling thread. Helper threads do not
 * keep the process alive (they are unref'd).
 *
 * @example
 * const executor = new ThreadPoolExecutor();
 * const cube = new Cube(def, cells, writers, { executor });
 */
export class ThreadPoolExecutor implements ScanExecutor {
  /**
   * Ranges of rows summed by helper threads, and ranges a helper was given but the calling thread
   * ran (not taken in time, failed, or hung), for tests and benchmarks.
   */
  readonly stats = { helperRanges: 0, reclaimedRanges: 0, replacedHelpers: 0 };
  private helpers: Helper[] | null = null;
  private lastTicket = 0;
  private readonly size: number;
  /** Helpers started since one last summed a range. */
  private unprovenStarts = 0;

  constructor(options: ThreadPoolOptions = {}) {
    this.size = options.helpers ?? Math.max(0, availableParallelism() - 1);
  }

  /**
   * Starts the helper threads ahead of the first large read (they take tens of milliseconds to
   * start) when a store of `rows` leaf rows will be split over them.
   */
  warm(rows: number): void {
    if (rows >= PARALLEL_MIN_ROWS) this.scanHelpers();
  }

  /** Number of helper threads alive (0 before the first use). */
  helperCount(): number {
    return this.helpers?.length ?? 0;
  }

  /**
   * Terminates helper `index` as if it had died (chaos drills and tests): it is dropped at once and
   * the next scan starts a replacement. Resolves once the thread has stopped.
   */
  async killHelper(index: number): Promise<void> {
    const h = this.helpers?.[index];
    if (!h) throw new Error(`no helper ${index}: ${this.helperCount()} alive`);
    this.drop(h);
    await h.worker.terminate();
  }

  /** Terminates the helper threads; a later scan starts new ones. */
  async close(): Promise<void> {
    const pool = this.helpers ?? [];
    this.helpers = null;
    await Promise.all(pool.map((h) => h.worker.terminate()));
  }

  /** Drops a helper from the pool (it failed, exited, hung or was killed); a later scan replaces it. */
  private drop(h: Helper): void {
    if (this.helpers?.includes(h)) this.helpers = this.helpers.filter((x) => x !== h);
  }

  /**
   * The helper threads (`size` of them), started on first use and topped up to `size` when some
   * were dropped, unless MAX_FAILED_STARTS helpers in a row never summed a range.
   */
  private scanHelpers(): Helper[] {
    const replacing = this.helpers !== null;
    const helpers = this.helpers ?? [];
    if (helpers.length >= this.size || this.unprovenStarts >= MAX_FAILED_STARTS) return helpers;
    const source = `const { parentPort } = require("node:worker_threads");
const scanRows = (${scanRows.toString()});
const narrowRows = (${narrowRows.toString()});
parentPort.on("message", (job) => {
  const ctrl = job.ctrl;
  if (Atomics.compareExchange(ctrl, 0, job.ticket, -job.ticket) !== job.ticket) return;
  try {
    if (job.kind === "narrow") narrowRows(job.lo, job.hi, job.args, job.out);
    else scanRows(job.lo, job.hi, job.cols, job.tables, job.values, null, job.acc);
    Atomics.store(ctrl, 1, 0);
  } catch (err) {
    Atomics.store(ctrl, 1, 1);
  }
  Atomics.store(ctrl, 0, 0);
  Atomics.notify(ctrl, 0);
});`;
    const grown = [...helpers];
    while (grown.length < this.size) {
      try {
        const worker = new Worker(source, { eval: true });
        worker.unref();
        const h: Helper = { worker, ctrl: new Int32Array(new SharedArrayBuffer(8)) };
        // A helper that fails or exits is dropped; its jobs are then never taken and the caller runs them.
        worker.on("error", () => this.drop(h));
        worker.on("exit", () => this.drop(h));
        grown.push(h);
        this.unprovenStarts++;
        if (replacing) this.stats.replacedHelpers++;
      } catch {
        break;
      }
    }
    this.helpers = grown;
    return grown;
  }

  /**
   * Adds leaf rows `[0, rows)` into `acc` (see ScanExecutor), split over this thread and the
   * helpers when the columns and values live in shared memory, else all here.
   */
  scan(rows: number, cols: readonly MemberColumn[], tables: readonly Int32Array[], values: Float64Array, acc: Float64Array): void {
    const shared = values.buffer instanceof SharedArrayBuffer && cols.every((c) => c.buffer instanceof SharedArrayBuffer);
    this.split(rows, shared, {
      job: (lo, hi, part) => ({ kind: "scan", lo, hi, cols, tables, values, acc: part[0] }),
      parts: () => [new Float64Array(new SharedArrayBuffer(acc.byteLength))],
      here: (lo, hi) => scanRows(lo, hi, cols, tables, values, null, acc),
      merge: ([part]) => {
        for (let k = 0; k < acc.length; k++) acc[k] += part[k];
      },
    });
  }

  /**
   * Runs the narrow pass's kernel over leaf rows `[0, rows)` into `out` (see ScanExecutor), split
   * over this thread and the helpers when every column `args` reads lives in shared memory.
   */
  narrow(rows: number, args: NarrowArgs, out: NarrowOut): void {
    const arrays = [args.values, args.versions, ...args.cols, ...args.offsets, ...args.lists, ...args.bucketOf, args.conStart, args.conD, args.conLo, args.conHi, args.wOff, args.weights, ...args.leafPos];
    const shared = arrays.every((a) => a.buffer instanceof SharedArrayBuffer);
    const n = out.sum.length;
    this.split(rows, shared, {
      // The helpers read the versions themselves: the written rows' list is not copied to them.
      job: (lo, hi, part) => ({ kind: "narrow", lo, hi, args: { ...args, versionRows: undefined }, out: { sum: part[0], count: part[1], ver: part[2] } }),
      parts: () => [0, 1, 2].map(() => new Float64Array(new SharedArrayBuffer(n * 8))),
      here: (lo, hi) => narrowRows(lo, hi, args, out),
      merge: ([sum, count, ver]) => {
        for (let j = 0; j < n; j++) {
          out.sum[j] += sum[j];
          out.count[j] += count[j];
          if (ver[j] > out.ver[j]) out.ver[j] = ver[j];
        }
      },
    });
  }

  /**
   * Splits rows `[0, rows)` into one range for this thread and one per helper (when `shared`): each
   * helper runs `job` into its own partial results (`parts`), merged after; a range no helper has
   * taken when this thread is done with its own, or one a helper failed, died or hung on, is run
   * here (`here`).
   */
  private split(
    rows: number,
    shared: boolean,
    k: {
      job: (lo: number, hi: number, part: Float64Array[]) => Record<string, unknown>;
      parts: () => Float64Array[];
      here: (lo: number, hi: number) => void;
      merge: (part: Float64Array[]) => void;
    },
  ): void {
    const pool = shared ? this.scanHelpers() : [];
    if (pool.length === 0) {
      k.here(0, rows);
      return;
    }
    const count = pool.length + 1;
    const bounds: number[] = [];
    for (let i = 0; i <= count; i++) bounds.push(Math.floor((rows * i) / count));
    const jobs = pool.map((h, i) => {
      const part = k.parts();
      this.lastTicket = (this.lastTicket % 0x3fffffff) + 1;
      const ticket = this.lastTicket;
      Atomics.store(h.ctrl, 1, 0);
      Atomics.store(h.ctrl, 0, ticket);
      h.worker.postMessage({ ctrl: h.ctrl, ticket, ...k.job(bounds[i + 1], bounds[i + 2], part) });
      return { h, ticket, part, lo: bounds[i + 1], hi: bounds[i + 2] };
    });
    const started = Date.now();
    k.here(bounds[0], bounds[1]);
    const wait = Math.min(HELPER_TIMEOUT_MS, Math.max(HELPER_MIN_WAIT_MS, 20 * (Date.now() - started)));
    for (const { h, ticket, part, lo, hi } of jobs) {
      if (Atomics.compareExchange(h.ctrl, 0, ticket, 0) === ticket) {
        // Not taken yet (the helper is busy starting or gone): run the range here.
        this.stats.reclaimedRanges++;
        k.here(lo, hi);
        continue;
      }
      const deadline = Date.now() + wait;
      while (Atomics.load(h.ctrl, 0) === -ticket && Date.now() < deadline) Atomics.wait(h.ctrl, 0, -ticket, 100);
      if (Atomics.load(h.ctrl, 0) === -ticket) {
        // A helper that hangs (or died holding the range) is dropped for good, so that it can never
        // report on a later ticket; the next scan starts a replacement.
        this.drop(h);
        void h.worker.terminate();
        this.stats.reclaimedRanges++;
        k.here(lo, hi);
        continue;
      }
      if (Atomics.load(h.ctrl, 1) !== 0) {
        this.stats.reclaimedRanges++;
        k.here(lo, hi);
        continue;
      }
      this.stats.helperRanges++;
      this.unprovenStarts = 0;
      k.merge(part);
    }
  }
}

/**
 * The process's shared pool (its threads start on the first large scan, or when a cube of at least
 * PARALLEL_MIN_ROWS leaf rows is built with it): one per process, as the cores are.
 */
export const scanExecutor: ThreadPoolExecutor = new ThreadPoolExecutor();
