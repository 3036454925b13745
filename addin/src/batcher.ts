/**
 * The wave batcher: every QATOM.CELL read of one recalculation wave goes to the server as one
 * GetCells per cube. Excel hands a wave's invocations to the runtime in quick succession; the
 * batcher collects them for a short window after the first one, sends each distinct cell once, and
 * answers every caller. Only a wave of more than the server's limit (20,000 cells) is split.
 *
 * @see https://learn.microsoft.com/office/dev/add-ins/excel/custom-functions-batching
 */
import { MAX_CELLS_PER_REQUEST } from "../../common/limits";
import type { Cell } from "../../proto/gen/quantatom/v1/lattice_pb";

/** The server's limit of cells per GetCells / WatchCells (common/limits.ts). */
export { MAX_CELLS_PER_REQUEST };

/** The answer for one cell: the server's Cell (which may carry a per-cell error), or why the whole call failed. */
export type BatchResult = { cell: Cell } | { failure: unknown };

/** Sends one GetCells: the cube's name and the member lists, answered in request order. */
export type FetchCells = (cube: string, cells: string[][]) => Promise<Cell[]>;

interface Pending {
  cube: string;
  cells: Map<string, { members: string[]; waiters: ((r: BatchResult) => void)[] }>;
}

/** Collects reads per cube for `windowMs` after the first one, then sends them. */
export class WaveBatcher {
  private readonly queues = new Map<string, Pending>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly fetchCells: FetchCells,
    private readonly windowMs = 16,
    private readonly maxCells = MAX_CELLS_PER_REQUEST,
  ) {}

  /**
   * Reads one cell in the current wave.
   * @param cubeKey the cube's key (see refKey); cells of one cube key share a request.
   * @param key the cell's key: calls with the same key share one cell of the request.
   */
  get(cubeKey: string, cube: string, key: string, members: string[]): Promise<BatchResult> {
    return new Promise((resolve) => {
      let q = this.queues.get(cubeKey);
      if (!q) {
        q = { cube, cells: new Map() };
        this.queues.set(cubeKey, q);
      }
      const entry = q.cells.get(key);
      if (entry) entry.waiters.push(resolve);
      else q.cells.set(key, { members, waiters: [resolve] });
      this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    });
  }

  /** Sends everything queued now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const queues = Array.from(this.queues.values());
    this.queues.clear();
    for (const q of queues) {
      const entries = Array.from(q.cells.values());
      for (let lo = 0; lo < entries.length; lo += this.maxCells) {
        const chunk = entries.slice(lo, lo + this.maxCells);
        void this.send(q.cube, chunk);
      }
    }
  }

  /** Drops queued reads without answering (the runtime is shutting down). */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queues.clear();
  }

  private async send(cube: string, chunk: { members: string[]; waiters: ((r: BatchResult) => void)[] }[]): Promise<void> {
    let results: BatchResult[];
    try {
      const cells = await this.fetchCells(
        cube,
        chunk.map((e) => e.members),
      );
      results = chunk.map((_, i) => (cells[i] ? { cell: cells[i] } : { failure: new Error(`the server answered ${cells.length} cells for ${chunk.length}`) }));
    } catch (failure) {
      results = chunk.map(() => ({ failure }));
    }
    chunk.forEach((e, i) => {
      for (const w of e.waiters) w(results[i]);
    });
  }
}
