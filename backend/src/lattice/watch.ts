import type { Dimension } from "./dimension";

/** The state of a watched cell, kept current by applying every leaf change as a delta. */
export interface WatchedCell {
  readonly key: string;
  readonly coords: Int32Array;
  /** Weighted sum of the non-empty leaves below (0 when empty). */
  value: number;
  /** Number of non-empty leaves below; 0 means the cell is empty. */
  count: number;
  /** Highest version of the leaves below. */
  version: number;
  /** Subscriptions watching this cell, with the request indexes they watch it at. */
  readonly subs: Map<Subscription, number[]>;
  /** The dimension this cell is indexed under. */
  readonly indexDim: number;
}

/** A set of watched cells (one WatchCells stream); told which of its indexes changed. */
export class Subscription {
  /** Request indexes changed since the last flush. */
  readonly pending = new Set<number>();
  closed = false;
  constructor(
    readonly cells: WatchedCell[],
    readonly onChange: (indexes: number[]) => void,
  ) {}
}

/**
 * The registry of watched cells of one cube and its change feed: after a leaf cell changes, it finds
 * the watched cells (leaf or consolidated) above that leaf and moves them by the weighted change.
 *
 * Lookup: each watched cell is indexed under its most selective dimension and member; a changed
 * leaf looks up its ancestors (and itself) in each dimension's index and checks the few candidates.
 */
export class WatchRegistry {
  private readonly cells = new Map<string, WatchedCell>();
  private readonly index: Map<number, Set<WatchedCell>>[];

  constructor(private readonly dims: readonly Dimension[]) {
    this.index = dims.map(() => new Map());
  }

  /** Number of distinct watched cells. */
  get size(): number {
    return this.cells.size;
  }

  /** The watched cell for `coords`, if some subscription watches it. */
  get(coords: Int32Array): WatchedCell | undefined {
    return this.cells.get(keyOf(coords));
  }

  /**
   * Watches cells. `initial(i)` gives the current state of request index i for cells not watched yet.
   * @returns the subscription; call `unsubscribe` to end it.
   */
  subscribe(
    coords: readonly Int32Array[],
    initial: (i: number) => { value: number; count: number; version: number },
    onChange: (indexes: number[]) => void,
  ): Subscription {
    const list: WatchedCell[] = [];
    const sub = new Subscription(list, onChange);
    coords.forEach((c, i) => {
      const key = keyOf(c);
      let cell = this.cells.get(key);
      if (!cell) {
        const st = initial(i);
        const indexDim = this.mostSelective(c);
        cell = { key, coords: c, value: st.value, count: st.count, version: st.version, subs: new Map(), indexDim };
        this.cells.set(key, cell);
        const byMember = this.index[indexDim];
        const set = byMember.get(c[indexDim]);
        if (set) set.add(cell);
        else byMember.set(c[indexDim], new Set([cell]));
      }
      const at = cell.subs.get(sub);
      if (at) at.push(i);
      else cell.subs.set(sub, [i]);
      list.push(cell);
    });
    return sub;
  }

  /** Ends a subscription; cells nobody watches any more are dropped. */
  unsubscribe(sub: Subscription): void {
    sub.closed = true;
    for (const cell of sub.cells) {
      cell.subs.delete(sub);
      if (cell.subs.size === 0 && this.cells.get(cell.key) === cell) {
        this.cells.delete(cell.key);
        const set = this.index[cell.indexDim].get(cell.coords[cell.indexDim]);
        set?.delete(cell);
        if (set && set.size === 0) this.index[cell.indexDim].delete(cell.coords[cell.indexDim]);
      }
    }
  }

  /**
   * Applies one leaf change to every watched cell above the leaf, and marks their subscriptions.
   * @param leaf the leaf's member ids; `oldValue`/`newValue` NaN when empty.
   * @param touched collects the subscriptions that have pending changes.
   */
  leafChanged(leaf: ArrayLike<number>, oldValue: number, newValue: number, version: number, touched: Set<Subscription>): void {
    if (this.cells.size === 0) return;
    const dims = this.dims;
    for (let d = 0; d < dims.length; d++) {
      const byMember = this.index[d];
      if (byMember.size === 0) continue;
      const dim = dims[d];
      for (let m = leaf[d]; m >= 0; m = dim.parent[m]) {
        const set = byMember.get(m);
        if (!set) continue;
        for (const cell of set) this.apply(cell, leaf, oldValue, newValue, version, touched);
      }
    }
  }

  private apply(
    cell: WatchedCell,
    leaf: ArrayLike<number>,
    oldValue: number,
    newValue: number,
    version: number,
    touched: Set<Subscription>,
  ): void {
    const dims = this.dims;
    let w = 1;
    for (let d = 0; d < dims.length; d++) {
      const dim = dims[d];
      if (!dim.contains(cell.coords[d], leaf[d])) return;
      if (dim.weighted) w *= dim.relativeWeight(leaf[d], cell.coords[d]);
    }
    if (oldValue === oldValue) {
      cell.value -= w * oldValue;
      cell.count--;
    }
    if (newValue === newValue) {
      cell.value += w * newValue;
      cell.count++;
    }
    if (cell.count === 0) cell.value = 0;
    if (version > cell.version) cell.version = version;
    for (const [sub, indexes] of cell.subs) {
      for (const i of indexes) sub.pending.add(i);
      touched.add(sub);
    }
  }

  private mostSelective(c: Int32Array): number {
    let best = 0;
    let bestFrac = 2;
    for (let d = 0; d < this.dims.length; d++) {
      const dim = this.dims[d];
      const frac = (dim.leafHi[c[d]] - dim.leafLo[c[d]]) / Math.max(1, dim.leafCount);
      if (frac < bestFrac) {
        bestFrac = frac;
        best = d;
      }
    }
    return best;
  }
}

/** A string key for a cell's coordinates. */
export function keyOf(coords: ArrayLike<number>): string {
  let s = "";
  for (let d = 0; d < coords.length; d++) s += d === 0 ? `${coords[d]}` : `,${coords[d]}`;
  return s;
}
