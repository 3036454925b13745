/**
 * Rollups: pre-aggregated rows at coarser levels, built in one pass over the leaf rows and kept
 * current on every leaf change, so that repeated reads of upper levels scan few rows. (Not the
 * GetCells result cache of backend/src/cache, the product's "hot tiles".)
 */
import type { Dimension } from "../dimension";
import { type LeafStore, type MemberColumn, newMemberColumn } from "../leaf-store";
import { type EvalStats, leafSource, type RowSource } from "./batch";
import { type ScanExecutor, serialExecutor } from "./executor";
import { REJECT } from "./groups";
import { type ScanAxis, scan, scanVersions } from "./scan-kernel";

/** Most slots (combinations of rollup members) of a rollup. */
export const ROLLUP_MAX_SLOTS = 1 << 21;

/**
 * Pre-aggregated rows at coarser levels: for a depth per dimension, one row per non-empty
 * combination of "rollup members" (each leaf's ancestor at that depth, or the leaf itself when it
 * is shallower), holding the sum of the leaves below weighted into the rollup member, their count
 * and highest version. A RowSource for any group of cells whose members are no deeper than the
 * rollup's depths; kept current by `apply` on every leaf change, so reads after writes need no pass
 * over the leaf rows.
 */
export class Rollup implements RowSource {
  /** Most slots of a rollup. */
  static readonly MAX_SLOTS = ROLLUP_MAX_SLOTS;
  readonly depths: Int32Array;
  readonly domains: Int32Array[];
  count = 0;
  cols: MemberColumn[];
  values: Float64Array;
  counts: Float64Array;
  versions: Float64Array;
  versionRows: Int32Array = new Int32Array(16);
  versionCount = 0;
  /** Number of slots (combinations of rollup members). */
  readonly slots: number;
  /** Last use (a counter kept by the owner), to evict the least recently used. */
  lastUsed = 0;
  /** Per dimension, slot contribution of each rollup member id (its index in the domain * stride). */
  private readonly slotOf: Int32Array[];
  /** Per dimension, rollup member id of each leaf member id. */
  private readonly memberOf: Int32Array[];
  /** Per weighted dimension, weight of each leaf member id into its rollup member (null: unweighted). */
  private readonly weightOf: (Float64Array | null)[];
  /** Row of each slot, or -1. */
  private readonly rowOf: Int32Array;

  private constructor(dims: readonly Dimension[], depths: Int32Array, domains: Int32Array[]) {
    this.depths = depths;
    this.domains = domains;
    let slots = 1;
    const strides = new Array<number>(dims.length);
    for (let d = dims.length - 1; d >= 0; d--) {
      strides[d] = slots;
      slots *= domains[d].length;
    }
    this.slots = slots;
    this.slotOf = [];
    this.memberOf = [];
    this.weightOf = [];
    dims.forEach((dim, d) => {
      const slotOf = new Int32Array(dim.size).fill(-1);
      const memberOf = new Int32Array(dim.size).fill(-1);
      const weightOf = dim.weighted ? new Float64Array(dim.size) : null;
      for (let i = 0; i < domains[d].length; i++) slotOf[domains[d][i]] = i * strides[d];
      for (let p = 0; p < dim.leafCount; p++) {
        const leaf = dim.leafAt[p];
        let t = leaf;
        while (dim.depth[t] > depths[d]) t = dim.parent[t];
        memberOf[leaf] = t;
        if (weightOf) weightOf[leaf] = dim.relativeWeight(leaf, t);
      }
      this.slotOf.push(slotOf);
      this.memberOf.push(memberOf);
      this.weightOf.push(weightOf);
    });
    this.rowOf = new Int32Array(slots).fill(-1);
    const cap = 1024;
    this.cols = dims.map((dim) => newMemberColumn(dim.size, cap));
    this.values = new Float64Array(cap);
    this.counts = new Float64Array(cap);
    this.versions = new Float64Array(cap);
  }

  /** Rollup members of a dimension at a depth: members at that depth and shallower leaves, in leaf order. */
  static domain(dim: Dimension, depth: number): Int32Array {
    const out: number[] = [];
    for (let p = 0; p < dim.leafCount; ) {
      let t = dim.leafAt[p];
      while (dim.depth[t] > depth) t = dim.parent[t];
      out.push(t);
      p = dim.leafHi[t];
    }
    return Int32Array.from(out);
  }

  /** Number of slots a rollup at `depths` would have. */
  static slotCount(dims: readonly Dimension[], depths: ArrayLike<number>): number {
    let n = 1;
    for (let d = 0; d < dims.length; d++) n *= Rollup.domain(dims[d], depths[d]).length;
    return n;
  }

  /**
   * Builds a rollup in one pass over the leaf rows.
   * @throws Error when it would have more than ROLLUP_MAX_SLOTS slots.
   */
  static build(
    dims: readonly Dimension[],
    store: LeafStore,
    depths: ArrayLike<number>,
    stats?: EvalStats,
    executor: ScanExecutor = serialExecutor,
  ): Rollup {
    const domains = dims.map((dim, d) => Rollup.domain(dim, depths[d]));
    const rollup = new Rollup(dims, Int32Array.from(depths), domains);
    if (rollup.slots > ROLLUP_MAX_SLOTS) throw new Error(`a rollup of ${rollup.slots} slots is over the limit of ${ROLLUP_MAX_SLOTS}`);
    // Pass over the leaf rows with the fast kernel: per dimension, one key class per (rollup member,
    // weight of the leaf into it), so the rows add unweighted; the classes fold into slots after.
    const axes: ScanAxis[] = [];
    const classMember: Int32Array[] = [];
    const classWeight: Float64Array[] = [];
    const classStride: number[] = [];
    let total = 1;
    dims.forEach((dim, d) => {
      if (domains[d].length === 1 && !dim.weighted) return;
      const classes = new Map<string, number>();
      const members: number[] = [];
      const weights: number[] = [];
      const ofLeaf = new Int32Array(dim.size).fill(REJECT);
      for (let p = 0; p < dim.leafCount; p++) {
        const leaf = dim.leafAt[p];
        const t = rollup.memberOf[d][leaf];
        const w = rollup.weightOf[d]?.[leaf] ?? 1;
        const key = `${t}|${w}`;
        let c = classes.get(key);
        if (c === undefined) {
          c = members.length;
          classes.set(key, c);
          members.push(t);
          weights.push(w);
        }
        ofLeaf[leaf] = c;
      }
      axes.push({ d, table: ofLeaf });
      classMember.push(Int32Array.from(members));
      classWeight.push(Float64Array.from(weights));
      total *= members.length;
    });
    if (total > 4 * ROLLUP_MAX_SLOTS) throw new Error(`a rollup pass of ${total} classes is over the limit`);
    let stride = 1;
    for (let k = axes.length - 1; k >= 0; k--) {
      classStride[k] = stride;
      const t = axes[k].table;
      for (let m = 0; m < t.length; m++) if (t[m] >= 0) t[m] *= stride;
      stride *= classMember[k].length;
    }
    const acc = new Float64Array(total * 2);
    scan(leafSource(dims, store), axes, acc, executor, stats);
    const ver = store.writtenCount > 0 ? scanVersions(leafSource(dims, store), axes, total) : null;
    if (stats) stats.rollupBuilds++;
    // Fold the classes into rows.
    const na = axes.length;
    const digit = new Int32Array(na);
    const coords = new Int32Array(dims.length);
    dims.forEach((_, d) => {
      coords[d] = domains[d][0];
    });
    for (let key = 0; key < total; key++) {
      const n = acc[2 * key + 1];
      const v = ver ? ver[key] : 0;
      if (n > 0 || v > 0) {
        let w = 1;
        for (let k = 0; k < na; k++) {
          coords[axes[k].d] = classMember[k][digit[k]];
          w *= classWeight[k][digit[k]];
        }
        const r = rollup.rowFor(coords);
        rollup.values[r] += acc[2 * key] * w;
        rollup.counts[r] += n;
        if (v > rollup.versions[r]) rollup.setVersion(r, v);
      }
      for (let k = na - 1; k >= 0; k--) {
        if (++digit[k] < classMember[k].length) break;
        digit[k] = 0;
      }
    }
    return rollup;
  }

  /** True when the rollup can answer cells whose members are at most `depths` deep. */
  covers(depths: ArrayLike<number>): boolean {
    for (let d = 0; d < this.depths.length; d++) if (this.depths[d] < depths[d]) return false;
    return true;
  }

  /** Applies one leaf change (values NaN when empty), as Cube.applyChanges does to the leaf store. */
  apply(leaf: ArrayLike<number>, oldValue: number, newValue: number, version: number): void {
    let w = 1;
    let key = 0;
    const nd = leaf.length;
    const leafSlot = this.leafSlots();
    for (let d = 0; d < nd; d++) {
      key += leafSlot[d][leaf[d]];
      const wd = this.weightOf[d];
      if (wd) w *= wd[leaf[d]];
    }
    // Most changes land on an existing row: its members are looked up only for a new one.
    let r = this.rowOf[key];
    if (r < 0) r = this.rowFor(Int32Array.from({ length: nd }, (_, d) => this.memberOf[d][leaf[d]]));
    if (!Number.isNaN(oldValue)) {
      this.values[r] -= w * oldValue;
      this.counts[r]--;
    }
    if (!Number.isNaN(newValue)) {
      this.values[r] += w * newValue;
      this.counts[r]++;
    }
    if (this.counts[r] === 0) this.values[r] = 0;
    if (version > this.versions[r]) this.setVersion(r, version);
  }

  /** Bytes held by the typed arrays. */
  byteSize(): number {
    return (
      this.cols.reduce((n, c) => n + c.byteLength, 0) +
      this.values.byteLength +
      this.counts.byteLength +
      this.versions.byteLength +
      this.versionRows.byteLength +
      this.rowOf.byteLength +
      this.slotOf.reduce((n, c) => n + c.byteLength, 0) +
      this.memberOf.reduce((n, c) => n + c.byteLength, 0) +
      (this.leafSlot?.reduce((n, c) => n + c.byteLength, 0) ?? 0)
    );
  }

  /** Per dimension, each leaf member's key contribution (`slotOf` of its rollup member), made on the first change. */
  private leafSlot: Int32Array[] | null = null;

  private leafSlots(): Int32Array[] {
    this.leafSlot ??= this.memberOf.map((of, d) => Int32Array.from(of, (m) => (m >= 0 ? this.slotOf[d][m] : 0)));
    return this.leafSlot;
  }

  /** The row of a combination of rollup members, created empty when missing. */
  private rowFor(members: Int32Array): number {
    let key = 0;
    for (let d = 0; d < members.length; d++) key += this.slotOf[d][members[d]];
    let r = this.rowOf[key];
    if (r >= 0) return r;
    if (this.count === this.values.length) this.grow();
    r = this.count++;
    for (let d = 0; d < members.length; d++) this.cols[d][r] = members[d];
    this.rowOf[key] = r;
    return r;
  }

  private setVersion(r: number, version: number): void {
    if (this.versions[r] === 0 && version !== 0) {
      if (this.versionCount === this.versionRows.length) {
        const grown = new Int32Array(this.versionRows.length * 2);
        grown.set(this.versionRows);
        this.versionRows = grown;
      }
      this.versionRows[this.versionCount++] = r;
    }
    this.versions[r] = version;
  }

  private grow(): void {
    const cap = this.values.length * 2;
    this.cols = this.cols.map((c) => {
      const n = newMemberColumn(c instanceof Int32Array ? undefined : c instanceof Uint16Array ? 0x10000 : 0x100, cap);
      n.set(c);
      return n;
    });
    for (const k of ["values", "counts", "versions"] as const) {
      const n = new Float64Array(cap);
      n.set(this[k]);
      this[k] = n;
    }
  }
}
