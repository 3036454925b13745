/**
 * A layer of leaf values over a cube, as a sandbox keeps them (issue 14's what-if): reads through
 * the layer see its values on the leaves it holds and the cube's everywhere else, at every level:
 * consolidated cells are the weighted sums of that mixture and member formulas compute over it.
 * The cube underneath keeps changing; a read always combines the layer with the cube as it is now.
 *
 * A consolidated cell over the layer is computed without copying the cube: its value over the cube,
 * minus what the layer's leaves contribute there in the cube, plus what they contribute in the
 * layer (both small evaluations over the layer's leaves alone), and likewise the count of non-empty
 * leaves, which says whether the cell is empty. Its version is the higher of the two.
 */
import type { CellState, CellWatch, Cube } from "./cube";
import { type BatchResult, evaluateBatch } from "./evaluate";
import { LeafStore } from "./leaf-store";
import { MAX_CACHE_CELLS, readCells } from "./read";

/** One leaf change of a layer: the cell, its value in the layer (null: empty there) and its version. */
export interface OverlayChange {
  coords: ArrayLike<number>;
  value: number | null;
  version: number;
}

/** A layer of leaf values over `cube` (see the module comment). Pure: no I/O; synchronous like Cube. */
export class LeafOverlay {
  /** The layer's leaves: one row each, value NaN when the layer empties the cell. */
  private readonly rows: LeafStore;
  /** Incremented by every change of the layer; with the cube's data version it keys the cache. */
  private version = 0;
  private readonly cache = new Map<string, CellState>();
  private cacheStamp = "";

  constructor(readonly cube: Cube) {
    this.rows = new LeafStore(
      cube.dims.length,
      16,
      cube.dims.map((d) => d.size),
    );
  }

  /** Open watches through the layer (see `watch`). */
  private readonly watches = new Set<OverlayWatch>();

  /** Incremented by every change of the layer (`set`): with the cube's data version, says whether a copy made of both is current. */
  get layerVersion(): number {
    return this.version;
  }

  /** Leaf cells the layer holds. */
  get size(): number {
    return this.rows.count;
  }

  /**
   * Sets leaf values of the layer (one sandbox write or spread), each with its version; watches
   * through the layer are told what changed (see `watch`).
   * @throws Error when a coordinate is not a leaf of its dimension, or the cell is calculated (a
   *   formula member): nothing is set then.
   */
  set(changes: readonly OverlayChange[]): void {
    const { dims, formulas } = this.cube;
    changes.forEach((ch, i) => {
      if (ch.coords.length !== dims.length) throw new Error(`overlay change ${i} has ${ch.coords.length} coordinates for ${dims.length} dimensions`);
      for (let d = 0; d < dims.length; d++) {
        const m = ch.coords[d];
        if (!Number.isInteger(m) || m < 0 || m >= dims[d].size || !dims[d].isLeaf(m)) {
          throw new Error(`overlay change ${i}: member ${m} of ${dims[d].name} is not a leaf`);
        }
      }
      if (formulas !== null && formulas.winner(ch.coords) >= 0) throw new Error(`overlay change ${i} is a calculated cell`);
    });
    if (changes.length === 0) return;
    for (const ch of changes) {
      const r = this.rows.findOrAdd(ch.coords);
      this.rows.values[r] = ch.value ?? Number.NaN;
      this.rows.setVersion(r, ch.version);
    }
    this.version++;
    // Every watch through the layer reads its cells again (formula cells may read any of them).
    for (const w of this.watches) this.refresh(w, null);
  }

  /**
   * Watches cells through the layer: `onChange` is called, synchronously after each change of the
   * layer (`set`) or of the cube underneath, with the request indexes whose state through the layer
   * changed (value or version). A change of the cube on a leaf the layer holds moves only versions.
   */
  watch(coords: readonly Int32Array[], onChange: (indexes: number[]) => void): CellWatch {
    const w: OverlayWatch = { coords, states: this.getCells(coords), onChange, base: null };
    w.base = this.cube.watch(coords, (indexes) => this.refresh(w, indexes));
    this.watches.add(w);
    return {
      states: (indexes?: number[]) => (indexes ?? coords.map((_, i) => i)).map((i) => w.states[i]),
      close: () => {
        w.base?.close();
        this.watches.delete(w);
      },
    };
  }

  /** Reads a watch's cells (`indexes`, or all) through the layer again and tells it those that changed. */
  private refresh(w: OverlayWatch, indexes: number[] | null): void {
    const which = indexes ?? w.coords.map((_, i) => i);
    const next = this.getCells(which.map((i) => w.coords[i]));
    const changed: number[] = [];
    which.forEach((i, j) => {
      if (next[j].value !== w.states[i].value || next[j].version !== w.states[i].version) {
        w.states[i] = next[j];
        changed.push(i);
      }
    });
    if (changed.length > 0) w.onChange(changed);
  }

  /** The layer's own state of a leaf cell (value null: emptied there), or null when the layer does not hold it. */
  leaf(coords: ArrayLike<number>): CellState | null {
    const r = this.rows.find(coords);
    if (r < 0) return null;
    const v = this.rows.values[r];
    return { value: v === v ? v : null, version: this.rows.versions[r] };
  }

  /** The leaves the layer holds, in the order they were first set: coordinates, value (null: empty) and version. */
  *leaves(): Generator<{ coords: Int32Array; value: number | null; version: number }> {
    const nd = this.cube.dims.length;
    for (let r = 0; r < this.rows.count; r++) {
      const coords = new Int32Array(nd);
      for (let d = 0; d < nd; d++) coords[d] = this.rows.cols[d][r];
      const v = this.rows.values[r];
      yield { coords, value: v === v ? v : null, version: this.rows.versions[r] };
    }
  }

  /**
   * Reads cells (leaf, consolidated or calculated) through the layer, in the order of `coords`;
   * as Cube.getCells, with a cache of its own that any change of the layer or the cube clears.
   */
  getCells(coords: readonly Int32Array[]): CellState[] {
    const stamp = `${this.cube.dataVersion}:${this.version}`;
    if (stamp !== this.cacheStamp) {
      this.cache.clear();
      this.cacheStamp = stamp;
    }
    if (this.cache.size > MAX_CACHE_CELLS) this.cache.clear();
    return readCells(this.cube.formulas, coords, this.cache, (c) => this.evaluate(c));
  }

  /**
   * Whether the layer holds a leaf below each cell, in the order of `coords` (a leaf: the layer
   * holds it; a calculated cell: below it on its other dimensions, any member of its formula's):
   * the cells a sandbox changed, for marking them.
   */
  changedBelow(coords: readonly Int32Array[]): boolean[] {
    const out = coords.map(() => false);
    if (this.rows.count === 0) return out;
    const { dims, formulas } = this.cube;
    const asked: Int32Array[] = [];
    const owner: number[] = [];
    coords.forEach((c, i) => {
      let variants = [c];
      if (formulas !== null) {
        for (let d = 0; d < dims.length; d++) {
          if (!formulas.isFormulaMember(d, c[d])) continue;
          const roots = Array.from(dims[d].roots).filter((r) => !formulas.isFormulaMember(d, r));
          variants = variants.flatMap((v) =>
            roots.map((r) => {
              const x = v.slice();
              x[d] = r;
              return x;
            }),
          );
        }
      }
      for (const v of variants) {
        asked.push(v);
        owner.push(i);
      }
    });
    // Every row of the layer counts, emptied leaves included (value 1 in a copy of the rows).
    if (this.marks === null || this.marksVersion !== this.version) {
      const marks = new LeafStore(
        dims.length,
        this.rows.count,
        dims.map((d) => d.size),
      );
      const c = new Int32Array(dims.length);
      for (let r = 0; r < this.rows.count; r++) {
        for (let d = 0; d < dims.length; d++) c[d] = this.rows.cols[d][r];
        marks.values[marks.findOrAdd(c)] = 1;
      }
      this.marks = marks;
      this.marksVersion = this.version;
    }
    const res = evaluateBatch(dims, this.marks, asked);
    owner.forEach((i, k) => {
      if (res.counts[k] > 0) out[i] = true;
    });
    return out;
  }

  /** The layer's rows with value 1 each (see changedBelow), and the layer version they were made at. */
  private marks: LeafStore | null = null;
  private marksVersion = -1;

  /** Non-calculated cells over the layer: the cube's, less the layer's leaves as the cube has them, plus as the layer has them. */
  private evaluate(coords: readonly Int32Array[]): BatchResult {
    const { cube } = this;
    const base = cube.evaluateCells(coords);
    if (this.rows.count === 0) return base;
    const nd = cube.dims.length;
    // The layer's leaves with the cube's values now (a cell the cube does not hold is empty).
    const under = new LeafStore(
      nd,
      this.rows.count,
      cube.dims.map((d) => d.size),
    );
    const c = new Int32Array(nd);
    for (let r = 0; r < this.rows.count; r++) {
      for (let d = 0; d < nd; d++) c[d] = this.rows.cols[d][r];
      const u = under.findOrAdd(c);
      const b = cube.store.find(c);
      under.values[u] = b < 0 ? Number.NaN : cube.store.values[b];
    }
    const before = evaluateBatch(cube.dims, under, coords);
    const layer = evaluateBatch(cube.dims, this.rows, coords);
    const n = coords.length;
    const out: BatchResult = { values: new Float64Array(n), counts: new Float64Array(n), versions: new Float64Array(n) };
    for (let i = 0; i < n; i++) {
      out.counts[i] = base.counts[i] - before.counts[i] + layer.counts[i];
      // On a leaf the layer holds this is the layer's value exactly (v - v is 0, and 0 + x is x).
      out.values[i] = base.values[i] - before.values[i] + layer.values[i];
      out.versions[i] = Math.max(base.versions[i], layer.versions[i]);
    }
    return out;
  }
}

/** A watch through a layer: its cells, their last states, whom to tell, and its watch on the cube. */
interface OverlayWatch {
  coords: readonly Int32Array[];
  states: CellState[];
  onChange: (indexes: number[]) => void;
  base: CellWatch | null;
}
