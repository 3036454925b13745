/**
 * One read of cells (leaf, consolidated or calculated) through a cache, the reading order of
 * `Cube.getCells`, for the base cube and for any layer over it (a sandbox's overlay): cells in the
 * cache are taken from it; calculated cells are computed from the cells their formulas read
 * (recursively through other formulas), those base cells computed in the same evaluation as the
 * other cells of the batch (or taken from the cache), then the formulas, each formula cell once.
 */
import { type CubeFormulas, FormulaCells } from "./calculated";
import type { CellState } from "./cube";
import type { BatchResult } from "./evaluate";
import { keyOf } from "./watch";

/** Most cells a read cache holds; it is cleared when a read would take it past this. */
export const MAX_CACHE_CELLS = 500_000;

/** The state of cell `j` of a batch result. */
export function toState(res: BatchResult, j: number): CellState {
  return { value: res.counts[j] > 0 ? res.values[j] : null, version: res.versions[j] };
}

/** A placeholder state, replaced before it is read. */
const EMPTY: CellState = { value: null, version: 0 };

/**
 * Reads `coords` (one member id per dimension each) in one batch: see the module comment.
 * @param cache states by cell key (watch.ts `keyOf`), valid for the data the caller reads; filled
 *   with what this read computes.
 * @param evaluate computes cells that are not calculated (leaf or consolidated), in one evaluation.
 * @returns the states in the order of `coords`.
 */
export function readCells(
  formulas: CubeFormulas | null,
  coords: readonly Int32Array[],
  cache: Map<string, CellState>,
  evaluate: (coords: readonly Int32Array[]) => BatchResult,
): CellState[] {
  const out: CellState[] = new Array(coords.length);
  const keys: string[] = new Array(coords.length);
  const missing: number[] = [];
  const missingCoords: Int32Array[] = [];
  const seen = new Map<string, number>();
  let calculated: number[] | null = null;
  for (let i = 0; i < coords.length; i++) {
    const key = keyOf(coords[i]);
    keys[i] = key;
    const hit = cache.get(key);
    if (hit) {
      out[i] = hit;
      continue;
    }
    if (formulas !== null && formulas.winner(coords[i]) >= 0) {
      if (calculated === null) calculated = [];
      calculated.push(i);
      continue;
    }
    if (!seen.has(key)) {
      seen.set(key, missingCoords.length);
      missingCoords.push(coords[i]);
    }
    missing.push(i);
  }
  // Base cells read by the calculated cells: from the cache, or evaluated with the others.
  let operands: { keys: string[]; states: CellState[]; batchIndex: number[] } | null = null;
  let cells: FormulaCells | null = null;
  if (calculated !== null) {
    const ops: { keys: string[]; states: CellState[]; batchIndex: number[] } = { keys: [], states: [], batchIndex: [] };
    operands = ops;
    const opIndex = new Map<string, number>();
    cells = new FormulaCells(
      formulas!,
      (c, k) => {
        let o = opIndex.get(k);
        if (o === undefined) {
          o = ops.keys.length;
          opIndex.set(k, o);
          ops.keys.push(k);
          const hit = cache.get(k);
          if (hit) {
            ops.states.push(hit);
            ops.batchIndex.push(-1);
          } else {
            let j = seen.get(k);
            if (j === undefined) {
              j = missingCoords.length;
              seen.set(k, j);
              missingCoords.push(c);
            }
            ops.states.push(EMPTY);
            ops.batchIndex.push(j);
          }
        }
        return o;
      },
      (o) => ops.states[o],
    );
    for (const i of calculated) cells.deps(coords[i], keys[i]);
  }
  if (missingCoords.length > 0) {
    const res = evaluate(missingCoords);
    if (cache.size + missingCoords.length + (calculated?.length ?? 0) > MAX_CACHE_CELLS) cache.clear();
    for (const i of missing) {
      const j = seen.get(keys[i])!;
      const state = toState(res, j);
      out[i] = state;
      cache.set(keys[i], state);
    }
    if (operands !== null) {
      for (let o = 0; o < operands.keys.length; o++) {
        const j = operands.batchIndex[o];
        if (j < 0) continue;
        const state = toState(res, j);
        operands.states[o] = state;
        cache.set(operands.keys[o], state);
      }
    }
  }
  if (calculated !== null) {
    for (const i of calculated) {
      const state = cells!.state(coords[i], keys[i]);
      out[i] = state;
      cache.set(keys[i], state);
    }
  }
  return out;
}
