import { CubeFormulas, type FormulaInfo } from "./calculated";
import { Dimension } from "./dimension";
import { cellFormat } from "./formats";
import { type BatchResult, type EvalStats, evaluateBatch, Rollup, type RowSource, type ScanExecutor, serialExecutor } from "./evaluate";
import { LeafStore } from "./leaf-store";
import { readCells } from "./read";
import type { CellWriter, CubeDef, LeafCells, LeafColumns } from "./model";
import { type AddressError, type MemberFilter, Resolver } from "./resolver";
import { lastWrittenBelow } from "./spread/target";
import { type Subscription, WatchRegistry } from "./watch";
import { stateOf, watchCalculated } from "./watch-calculated";
import { RowWriters } from "./writers";

/** A cell's state as the lattice reports it. */
export interface CellState {
  /** The value, or null when the cell is empty. */
  value: number | null;
  /**
   * Leaf: version of its last write (0 if never written). Consolidated: highest leaf version below.
   * Calculated: highest version of the base cells its formula reads.
   */
  version: number;
  /** True when a member formula computes the cell (see `Cube.formulaOf`); absent otherwise. */
  calculated?: boolean;
}

/** The stored state of one leaf cell, with who wrote it last. */
export interface LeafState extends CellState {
  /** Last writer, or null for a loaded fact never written since. */
  writer: CellWriter | null;
}

/** One leaf change to apply after it was committed. */
export interface LeafChange {
  coords: ArrayLike<number>;
  /** New value; null clears the cell. */
  value: number | null;
  version: number;
  writer: CellWriter;
}

/** Options of a Cube. */
export interface CubeOptions {
  /**
   * Runs large passes over leaf rows (e.g. compute/ThreadPoolExecutor, which splits them over
   * helper threads); default serialExecutor, in the calling thread.
   */
  executor?: ScanExecutor;
}

/** A live watch on cells: call `close` to stop it. */
export interface CellWatch {
  /** Current states, by request index. */
  states(indexes?: number[]): CellState[];
  close(): void;
}

/**
 * When a cube keeps rollups (pre-aggregated rows, see Rollup): only over `minRows` leaf rows, at
 * most `maxRollups` of them (least recently used dropped first), each with at most
 * `maxRowsFraction` of the leaf rows' count in slots; a rollup is built the second time cells of
 * its depths are read (the first read scans the leaf rows), at most `buildsPerRead` per read, and
 * used while its rows are at most 4x those of an exact one.
 */
export interface RollupPolicy {
  minRows: number;
  maxRollups: number;
  maxRowsFraction: number;
  buildsPerRead: number;
}

/**
 * A cube of the lattice: its dimensions, its leaf store, an address resolver, its member formulas,
 * a cache of computed cells, and the change feed for watched cells. Pure: no I/O. All methods are
 * synchronous, so a read, a watch registration and a write never interleave.
 *
 * Cells are of three kinds: leaf cells (stored), consolidated cells (weighted sums of the leaf cells
 * below) and calculated cells (an address with a formula member, computed by a member formula from
 * the values of the cells it reads, which are consolidated when the address is; see
 * `calculated.ts` for the solve order between formulas of several dimensions).
 */
export class Cube {
  /** The definition it was built from (dimensions, members, formulas). */
  readonly def: CubeDef;
  readonly name: string;
  readonly description: string;
  readonly dims: Dimension[];
  readonly store: LeafStore;
  readonly resolver: Resolver;
  /** Last writer of each row written after the load. */
  /** Last writer of each written row (see RowWriters). */
  readonly writers: RowWriters;
  /** The compiled member formulas, or null when the cube has none. */
  readonly formulas: CubeFormulas | null;
  /** Incremented by every applied change; keys the cell cache. */
  dataVersion = 0;
  /** Statistics of evaluations, for benchmarks. */
  readonly stats: EvalStats = { scans: 0, rowsScanned: 0, leafLookups: 0, rollupBuilds: 0 };
  /** When rollups are kept (see RollupPolicy); changing it affects later reads. */
  readonly rollupPolicy: RollupPolicy = { minRows: 1 << 16, maxRollups: 8, maxRowsFraction: 1 / 16, buildsPerRead: 1 };
  /** Rollups kept current by applyChanges. */
  readonly rollups: Rollup[] = [];
  private rollupClock = 0;
  /** Rollups built during the current read. */
  private rollupBuildsThisRead = 0;
  /** Reads per depth vector not served by a rollup yet. */
  private readonly rollupDemand = new Map<string, number>();
  private readonly executor: ScanExecutor;
  private readonly watches: WatchRegistry;
  private readonly cache = new Map<string, CellState>();
  private cacheVersion = 0;

  /**
   * @throws FormulaGraphError when a member formula does not compile (syntax, unknown member,
   *   cycle; see buildFormulaGraph); Error when the definition or the cells are inconsistent (see
   *   Dimension, LeafStore, CubeFormulas), a leaf coordinate is not a leaf member, or a cell is
   *   stored at a formula member.
   * @param writers last writer of each store row written after the load (row numbers of `cells`).
   * @param options see CubeOptions.
   */
  constructor(def: CubeDef, cells: LeafCells, writers: Map<number, CellWriter> = new Map(), options: CubeOptions = {}) {
    this.def = def;
    this.name = def.name;
    this.description = def.description ?? "";
    this.dims = def.dimensions.map((d) => new Dimension(d));
    if (cells.coords.length !== this.dims.length) {
      throw new Error(`cube ${def.name}: cells have ${cells.coords.length} coordinate columns for ${this.dims.length} dimensions`);
    }
    this.resolver = new Resolver(this.dims);
    const formulas = def.formulas && def.formulas.length > 0 ? new CubeFormulas(this.dims, (name) => this.resolver.member(name), def.formulas) : null;
    this.formulas = formulas;
    this.dims.forEach((dim, d) => {
      const col = cells.coords[d];
      for (let r = 0; r < cells.count; r++) {
        const m = col[r];
        if (m < 0 || m >= dim.size || !dim.isLeaf(m)) {
          throw new Error(`cube ${def.name}: cell row ${r} has member ${m} in dimension ${dim.name}, which is not a leaf`);
        }
      }
      if (formulas?.dims.includes(d)) {
        for (let r = 0; r < cells.count; r++) {
          if (formulas.isFormulaMember(d, col[r])) {
            throw new Error(`cube ${def.name}: cell row ${r} is stored at ${dim.uniqueName(col[r])}, a formula member (its cells are calculated)`);
          }
        }
      }
    });
    this.store = LeafStore.from(
      cells,
      this.dims.map((dim) => dim.size),
    );
    this.executor = options.executor ?? serialExecutor;
    this.executor.warm(this.store.count);
    this.writers = new RowWriters(writers);
    this.watches = new WatchRegistry(this.dims);
  }

  /**
   * Resolves an address (see Resolver) to member ids, or a per-cell error.
   * @param visible the members the caller may see (see MemberFilter); none: every member.
   */
  resolve(members: readonly string[], visible?: MemberFilter): Int32Array | AddressError {
    return this.resolver.address(members, visible);
  }

  /** True when some member of the address has children. */
  isConsolidated(coords: ArrayLike<number>): boolean {
    for (let d = 0; d < this.dims.length; d++) if (!this.dims[d].isLeaf(coords[d])) return true;
    return false;
  }

  /**
   * True when a member formula computes the cell: some member of the address is a formula member
   * (e.g. `[Measures].[Profit]`). Such a cell is read-only.
   */
  isCalculated(coords: ArrayLike<number>): boolean {
    return this.formulas !== null && this.formulas.winner(coords) >= 0;
  }

  /** How Excel shows a cell: its number format ("" when none), see formats.ts `cellFormat`. */
  formatOf(coords: ArrayLike<number>): string {
    return cellFormat(this.dims, this.formulas, coords);
  }

  /**
   * The formula that computes a cell, or null when none does: with formula members in several
   * dimensions of the address, the one with the highest solve order (ties: the dimension listed
   * first in the cube), as MDX's SOLVE_ORDER; see calculated.ts.
   */
  formulaOf(coords: ArrayLike<number>): FormulaInfo | null {
    const f = this.formulas?.winner(coords) ?? -1;
    return f < 0 ? null : this.formulas!.info(f);
  }

  /** The formula of member `id` of dimension `d` (an index into `dims`), or null for a stored member. */
  memberFormula(d: number, id: number): FormulaInfo | null {
    const f = this.formulas?.ofMember(d, id) ?? -1;
    return f < 0 ? null : this.formulas!.info(f);
  }

  /** Unique names of an address's members, in dimension order. */
  uniqueNames(coords: ArrayLike<number>): string[] {
    return this.dims.map((dim, d) => dim.uniqueName(coords[d]));
  }

  /** Number of stored leaf rows holding a value. */
  leafCellCount(): number {
    let n = 0;
    const v = this.store.values;
    for (let r = 0; r < this.store.count; r++) if (v[r] === v[r]) n++;
    return n;
  }

  /**
   * Reads cells (leaf, consolidated or calculated) in one batch; repeated reads of unchanged data
   * come from a cache keyed by the cube's data version. Calculated cells are computed from the cells
   * their formulas read (recursively through other formulas): those base cells are computed in the
   * same evaluation as the other cells of the batch (or come from the cache), then the formulas,
   * each formula cell once.
   */
  getCells(coords: readonly Int32Array[]): CellState[] {
    if (this.cacheVersion !== this.dataVersion) {
      this.cache.clear();
      this.cacheVersion = this.dataVersion;
    }
    return readCells(this.formulas, coords, this.cache, (c) => this.evaluateCells(c));
  }

  /** The stored state of a leaf cell (empty, version 0, no writer when never stored). */
  leafState(coords: ArrayLike<number>): LeafState {
    const r = this.store.find(coords);
    if (r < 0) return { value: null, version: 0, writer: null };
    const v = this.store.values[r];
    return { value: v === v ? v : null, version: this.store.versions[r], writer: this.writers.get(r) ?? null };
  }

  /**
   * The last write to a leaf at or below `coords` (one member id per dimension, leaf or
   * consolidated): its version and writer, for the conflict message of a consolidated cell.
   * Version 0 and writer null when no leaf below was written since the load; writer null too for a
   * version that came with the loaded cells.
   */
  lastWriteBelow(coords: ArrayLike<number>): { version: number; writer: CellWriter | null } {
    const r = lastWrittenBelow(this, coords);
    if (r < 0) return { version: 0, writer: null };
    return { version: this.store.versions[r], writer: this.writers.get(r) ?? null };
  }

  /**
   * Resolves one member name (see Resolver.member) to its dimension index and id, or a per-cell error.
   * @param visible the members the caller may see (see MemberFilter); none: every member.
   */
  member(text: string, visible?: MemberFilter): { dim: number; id: number } | AddressError {
    return this.resolver.member(text, visible);
  }

  /** Index in `dims` of the dimension named `name` (case-insensitive), or -1. */
  dimensionIndex(name: string): number {
    return this.resolver.dimensionIndex(name);
  }

  /** Highest version of any leaf (0 when only loaded facts). */
  maxVersion(): number {
    return this.store.maxVersion;
  }

  /**
   * The data state as a string, `<maxVersion>.<fingerprint of every leaf's version, base 36>`: equal
   * on two cubes (or processes) that hold the same writes, in whatever order they applied them;
   * different after any applied write. Keys cached results (see backend/src/cache).
   */
  versionStamp(): string {
    return `${this.store.maxVersion}.${this.store.versionFingerprint.toString(36)}`;
  }

  /** Number of stored leaf rows (cells holding a value and cleared cells). */
  leafRowCount(): number {
    return this.store.count;
  }

  /** Bytes held by the leaf store's arrays (see LeafStore.byteSize). */
  leafStoreBytes(): number {
    return this.store.byteSize();
  }

  /** Number of leaf cells with a known last writer (written since the load). */
  writerCount(): number {
    return this.writers.size;
  }

  /**
   * The first stored leaf (in store order; cleared cells included) whose coordinates satisfy
   * `match`, as a new array of member ids, or null. `match` receives a buffer reused between rows:
   * copy it to keep it. A pass over the leaf rows: for benchmarks and tests, not for requests.
   */
  findLeaf(match: (coords: Int32Array) => boolean): Int32Array | null {
    const nd = this.dims.length;
    const buf = new Int32Array(nd);
    const cols = this.store.cols;
    for (let r = 0; r < this.store.count; r++) {
      for (let d = 0; d < nd; d++) buf[d] = cols[d][r];
      if (match(buf)) return Int32Array.from(buf);
    }
    return null;
  }

  /**
   * Applies committed leaf changes: updates the leaf store, moves every watched cell above each
   * changed leaf, and then tells each affected watch once which of its cells changed.
   * @throws Error if a change addresses a consolidated cell (a caller bug: spreading happens before).
   */
  applyChanges(changes: readonly LeafChange[]): void {
    const touched = new Set<Subscription>();
    const rows = new Int32Array(changes.length);
    let applied = 0;
    try {
      for (const ch of changes) {
        this.checkLeaf(ch.coords);
        const r = this.store.findOrAdd(ch.coords);
        rows[applied++] = r;
        this.writers.set(r, ch.writer);
        this.applyAt(r, ch.coords, ch.value === null ? Number.NaN : ch.value, ch.version, touched);
      }
    } finally {
      // Copies of the columns (a GPU's) learn of every row changed, even before a refused change.
      this.executor.rowsChanged?.(this.store.values, rows, applied);
    }
    if (changes.length > 0) this.dataVersion++;
    this.notify(touched);
  }

  /**
   * Applies committed leaf changes given as columns (a spread's or a scenario copy's plan, with
   * the versions the commit gave), all by one writer: as `applyChanges`, with no object per change.
   * Rows known from the plan (`rows[k]`, -1 for a new cell) are used where they still hold the
   * cell; room for the new ones is made at once.
   * @throws Error as applyChanges.
   */
  applyColumns(cols: LeafColumns, writer: CellWriter): void {
    const nd = this.dims.length;
    const n = cols.count;
    let added = n;
    if (cols.rows) {
      added = 0;
      for (let k = 0; k < n; k++) if (cols.rows[k] < 0) added++;
    }
    this.store.reserve(this.store.count + added);
    const rows = new Int32Array(n);
    const touched = new Set<Subscription>();
    let applied = 0;
    // One coordinates array for every change (the store, rollups and watches copy what they keep).
    const c = new Int32Array(nd);
    try {
      for (let k = 0; k < n; k++) {
        for (let d = 0; d < nd; d++) c[d] = cols.coords[k * nd + d];
        this.checkLeaf(c);
        let r = cols.rows ? cols.rows[k] : -1;
        if (r < 0 || r >= this.store.count || !this.store.rowEquals(r, c)) r = this.store.findOrAdd(c);
        rows[k] = r;
        applied++;
        this.applyAt(r, c, cols.values[k], cols.versions[k], touched);
      }
    } finally {
      this.executor.rowsChanged?.(this.store.values, rows, applied);
    }
    this.writers.setMany(rows, n, writer);
    if (n > 0) this.dataVersion++;
    this.notify(touched);
  }

  /**
   * Makes the store rows of leaf changes (their count and coordinates, as columns; a plan will do)
   * before they are applied, in steps (for compute/turns.ts `inTurns`): a new cell gets an empty row (no value, version 0), which every read
   * treats as the absent cell it stands for, so the data does not change; `cols.rows` is set to each
   * change's row, and `applyColumns` then finds them at once. For a change that adds millions of
   * cells (a scenario copy), most of its apply's time (room in the store, then one hash-index insert
   * per cell) moves out of the one step in which the changes are applied.
   * @param step changes per step.
   * @throws Error when a change addresses a consolidated or calculated cell (nothing is made for it
   *   or after it).
   */
  *prepareRowsSteps(cols: Pick<LeafColumns, "count" | "coords"> & { rows: Int32Array }, step = 1 << 16): Generator<void, void> {
    const nd = this.dims.length;
    let added = 0;
    for (let k = 0; k < cols.count; k++) if (cols.rows[k] < 0) added++;
    this.store.reserve(this.store.count + added);
    yield;
    const c = new Int32Array(nd);
    for (let k = 0; k < cols.count; k++) {
      for (let d = 0; d < nd; d++) c[d] = cols.coords[k * nd + d];
      const r = cols.rows[k];
      if (r < 0 || r >= this.store.count || !this.store.rowEquals(r, c)) {
        this.checkLeaf(c);
        cols.rows[k] = this.store.findOrAdd(c);
      }
      if (k % step === step - 1) yield;
    }
  }

  /** Refuses a change to a consolidated or calculated cell (a caller bug: spreading happens before). */
  private checkLeaf(coords: ArrayLike<number>): void {
    if (this.isConsolidated(coords)) throw new Error(`cube ${this.name}: a change addresses a consolidated cell`);
    if (this.isCalculated(coords)) throw new Error(`cube ${this.name}: a change addresses a calculated cell`);
  }

  /** One change at store row `r`: the value (NaN: empty), version, rollups and watches. */
  private applyAt(r: number, coords: ArrayLike<number>, next: number, version: number, touched: Set<Subscription>): void {
    const old = this.store.values[r];
    this.store.values[r] = next;
    this.store.setVersion(r, version);
    for (const t of this.rollups) t.apply(coords, old, next, version);
    this.watches.leafChanged(coords, old, next, version, touched);
  }

  /** Tells each affected watch once which of its cells changed. */
  private notify(touched: Set<Subscription>): void {
    for (const sub of touched) {
      if (sub.closed || sub.pending.size === 0) continue;
      const indexes = Array.from(sub.pending).sort((a, b) => a - b);
      sub.pending.clear();
      sub.onChange(indexes);
    }
  }

  /**
   * Watches cells: `onChange` is called, synchronously after each applied batch of changes, with the
   * request indexes whose value or version changed.
   *
   * Calculated cells: the base cells their formulas read (through other formulas) are watched as
   * hidden cells of the same subscription; when some of them change, only the calculated cells that
   * read them are computed again, and reported when their value or version changed.
   */
  watch(coords: readonly Int32Array[], onChange: (indexes: number[]) => void): CellWatch {
    const formulas = this.formulas;
    if (formulas !== null && coords.some((c) => formulas.winner(c) >= 0)) return watchCalculated({ watches: this.watches, initialStates: (cells) => this.initialStates(cells) }, formulas, coords, onChange);
    const initial = this.initialStates(coords);
    const sub = this.watches.subscribe(coords, (i) => initial.get(i)!, onChange);
    return {
      states: (indexes?: number[]) =>
        (indexes ?? sub.cells.map((_, i) => i)).map((i) => stateOf(sub.cells[i])),
      close: () => this.watches.unsubscribe(sub),
    };
  }

  /**
   * The initial states, by index into `cells`, of the cells not watched yet (computed in one batch),
   * for WatchRegistry.subscribe; watched cells keep their registry state.
   */
  private initialStates(cells: readonly Int32Array[]): Map<number, { value: number; count: number; version: number }> {
    const missing: number[] = [];
    for (let i = 0; i < cells.length; i++) if (!this.watches.get(cells[i])) missing.push(i);
    const initial = new Map<number, { value: number; count: number; version: number }>();
    if (missing.length > 0) {
      const res = this.evaluateCells(missing.map((i) => cells[i]));
      missing.forEach((i, j) => {
        initial.set(i, { value: res.values[j], count: res.counts[j], version: res.versions[j] });
      });
    }
    return initial;
  }

  /**
   * Computes cells (not calculated ones) from the leaf store or the rollups, without the cache: one
   * evaluation, with the count of non-empty leaves under each cell (for layers over the cube,
   * lattice/overlay.ts).
   */
  evaluateCells(coords: readonly Int32Array[]): BatchResult {
    this.rollupBuildsThisRead = 0;
    return evaluateBatch(this.dims, this.store, coords, this.stats, (g) => this.rollupFor(g), this.executor);
  }

  /**
   * The rows to compute a group of consolidated cells from: a rollup whose depths cover the
   * group's members, built on the second read at those depths when small enough (see
   * RollupPolicy), or null for the leaf rows.
   */
  private rollupFor(group: readonly Int32Array[]): RowSource | null {
    const policy = this.rollupPolicy;
    if (this.store.count < policy.minRows || policy.maxRollups <= 0) return null;
    const nd = this.dims.length;
    const need = new Int32Array(nd);
    for (const c of group) {
      for (let d = 0; d < nd; d++) {
        const depth = this.dims[d].depth[c[d]];
        if (depth > need[d]) need[d] = depth;
      }
    }
    let best: Rollup | null = null;
    for (const t of this.rollups) if (t.covers(need) && (best === null || t.count < best.count)) best = t;
    const slots = Rollup.slotCount(this.dims, need);
    if (best !== null && best.count <= 4 * Math.min(slots, this.store.count)) {
      best.lastUsed = ++this.rollupClock;
      return best;
    }
    if (slots > Math.min(policy.maxRowsFraction * this.store.count, Rollup.MAX_SLOTS)) return best;
    const key = need.join(",");
    const seen = (this.rollupDemand.get(key) ?? 0) + 1;
    this.rollupDemand.set(key, seen);
    if (seen < 2 || this.rollupBuildsThisRead >= policy.buildsPerRead) return best;
    this.rollupBuildsThisRead++;
    this.rollupDemand.delete(key);
    const rollup = Rollup.build(this.dims, this.store, need, this.stats, this.executor);
    rollup.lastUsed = ++this.rollupClock;
    this.rollups.push(rollup);
    if (this.rollups.length > policy.maxRollups) {
      let lru = 0;
      for (let i = 1; i < this.rollups.length; i++) if (this.rollups[i].lastUsed < this.rollups[lru].lastUsed) lru = i;
      this.rollups.splice(lru, 1);
    }
    return rollup;
  }

  /** Number of distinct watched cells (for diagnostics). */
  watchedCellCount(): number {
    return this.watches.size;
  }
}
