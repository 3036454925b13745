/**
 * The narrow pass's kernel (see narrow.ts evaluateNarrow): a pure function of typed arrays, with no
 * imports and no closures, so that the calc worker pool can run its source text in helper threads
 * on leaf columns in shared memory (compute/thread-pool.ts), as it does scanRows.
 */
import type { MemberColumn } from "../leaf-store";

/**
 * What narrowRows reads. Per dimension `d` used as cells' most selective one (`used`), cell lists
 * `lists[k]` indexed by `offsets[k]` under key `member * buckets[k] + bucketOf[k][second member]`
 * (`second[k]`: the second dimension, -1 for none, then `bucketOf[k]` maps every member to 0).
 * Per cell `j`, its constraints `conStart[j]..conStart[j + 1]`: dimension `conD`, leaf positions
 * `[conLo, conHi)`, and for a weighted dimension the weights of those positions at `wOff` in
 * `weights` (-1: unweighted). `leafPos[d]` maps a leaf member to its depth-first position.
 */
export interface NarrowArgs {
  used: Int32Array;
  offsets: Int32Array[];
  lists: Int32Array[];
  buckets: Int32Array;
  second: Int32Array;
  bucketOf: Int32Array[];
  conStart: Int32Array;
  conD: Int32Array;
  conLo: Int32Array;
  conHi: Int32Array;
  wOff: Int32Array;
  weights: Float64Array;
  leafPos: Int32Array[];
  cols: readonly MemberColumn[];
  values: Float64Array;
  versions: Float64Array;
  /**
   * Rows whose version is above 0 (`versionRows[0..versionCount)`), when known: an executor that
   * sums elsewhere takes the versions from them alone.
   */
  versionRows?: Int32Array;
  versionCount?: number;
}

/** Per cell: the weighted sum, the count of non-empty leaves, and the highest version. */
export interface NarrowOut {
  sum: Float64Array;
  count: Float64Array;
  ver: Float64Array;
}

/**
 * Adds rows `[lo, hi)` into the cells of `a` whose box holds them (see NarrowArgs), into `out`.
 * NaN values are not counted; versions are taken from every row inside a cell, cleared ones too.
 */
export function narrowRows(lo: number, hi: number, a: NarrowArgs, out: NarrowOut): void {
  const nd = a.leafPos.length;
  const pos = new Int32Array(nd);
  const posAt = new Float64Array(nd).fill(-1);
  let seen = 0;
  const { conStart, conD, conLo, conHi, wOff, weights, leafPos, cols, values, versions } = a;
  const { sum, count, ver } = out;
  for (let u = 0; u < a.used.length; u++) {
    const d = a.used[u];
    const off = a.offsets[u];
    const list = a.lists[u];
    const nb = a.buckets[u];
    const col = cols[d];
    const colS = a.second[u] >= 0 ? cols[a.second[u]] : col;
    const bucket = a.bucketOf[u];
    for (let r = lo; r < hi; r++) {
      const key = col[r] * nb + bucket[colS[r]];
      const first = off[key];
      const last = off[key + 1];
      if (first === last) continue;
      // This row's positions are looked up on first need (most candidates fail their first check).
      seen++;
      const v = values[r];
      const rv = versions[r];
      for (let e = first; e < last; e++) {
        const j = list[e];
        let w = 1;
        let k = conStart[j];
        const end = conStart[j + 1];
        for (; k < end; k++) {
          const dk = conD[k];
          let p = pos[dk];
          if (posAt[dk] !== seen) {
            p = leafPos[dk][cols[dk][r]];
            pos[dk] = p;
            posAt[dk] = seen;
          }
          if (p < conLo[k] || p >= conHi[k]) break;
          if (wOff[k] >= 0) w *= weights[wOff[k] + p - conLo[k]];
        }
        if (k < end) continue;
        if (v === v) {
          sum[j] += v * w;
          count[j]++;
        }
        if (rv > ver[j]) ver[j] = rv;
      }
    }
  }
}
