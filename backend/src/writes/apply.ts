/**
 * Apply: committed leaf changes go into the lattice, which moves every watched cell above them
 * and so pushes to WatchCells streams. Also used for other instances' transactions and for
 * catching up on cells this instance has not seen yet.
 */
import type { CellWriter, LeafChange, LeafColumns } from "../lattice";
import type { ServedCube } from "../domain/cube-registry";
import type { CommitResult, PendingWrite, Store } from "../store/types";

/**
 * Applies leaf changes to a served cube's lattice, each only when its version is newer than the
 * cell's version there (so a change is never applied twice, and an older one arriving late never
 * overwrites a newer one), all in one batch: watchers see them together. Returns the number applied.
 */
export function applyNewer(served: ServedCube, changes: readonly LeafChange[]): number {
  const newer = changes.filter((ch) => ch.version > served.cube.leafState(ch.coords).version);
  if (newer.length > 0) served.cube.applyChanges(newer);
  return newer.length;
}

/**
 * Applies committed leaf changes given as columns (a spread's or a scenario copy's plan with the
 * versions the commit gave, and any other leaf writes of the same transaction), all by `writer`:
 * as applyNewer (only changes newer than the lattice's, in one batch), with no object per change.
 * A change's current version is read at its planned store row (`cols.rows[k]`) when that row still
 * holds the cell, else looked up. Returns the number applied.
 */
export function applyColumnsNewer(served: ServedCube, cols: LeafColumns, writer: CellWriter): number {
  const { cube } = served;
  const { store } = cube;
  const nd = cube.dims.length;
  const n = cols.count;
  const keep = new Int32Array(n);
  const c = new Int32Array(nd);
  let kept = 0;
  for (let k = 0; k < n; k++) {
    for (let d = 0; d < nd; d++) c[d] = cols.coords[k * nd + d];
    const r = cols.rows ? cols.rows[k] : -1;
    const current = r >= 0 && r < store.count && store.rowEquals(r, c) ? store.versions[r] : cube.leafState(c).version;
    if (cols.versions[k] > current) keep[kept++] = k;
  }
  if (kept === 0) return 0;
  if (kept === n) {
    cube.applyColumns(cols, writer);
    return n;
  }
  const sub: LeafColumns = { count: kept, coords: new Int32Array(kept * nd), values: new Float64Array(kept), versions: new Float64Array(kept), rows: new Int32Array(kept) };
  for (let j = 0; j < kept; j++) {
    const k = keep[j];
    sub.coords.set(cols.coords.subarray(k * nd, (k + 1) * nd), j * nd);
    sub.values[j] = cols.values[k];
    sub.versions[j] = cols.versions[k];
    sub.rows![j] = cols.rows ? cols.rows[k] : -1;
  }
  cube.applyColumns(sub, writer);
  return kept;
}

/**
 * Applies a commit's pending writes (each cell and its new value; results in the same order, those
 * not ok skipped as version 0) as columns by `writer` (applyColumnsNewer). An undo's and a sandbox
 * commit's last step.
 * @returns the highest version written.
 */
export function applyCommitted(served: ServedCube, pending: readonly PendingWrite[], results: readonly CommitResult[], writer: CellWriter): number {
  const nd = served.cube.dims.length;
  const n = pending.length;
  const cols: LeafColumns = { count: n, coords: new Int32Array(n * nd), values: new Float64Array(n), versions: new Float64Array(n) };
  let version = 0;
  pending.forEach((p, k) => {
    cols.coords.set(p.coords, k * nd);
    cols.values[k] = p.newValue ?? Number.NaN;
    const r = results[k];
    cols.versions[k] = r.ok ? r.version : 0;
    if (cols.versions[k] > version) version = cols.versions[k];
  });
  applyColumnsNewer(served, cols, writer);
  return version;
}

/**
 * Brings leaf cells of the lattice up to their stored state: for writes whose base version is
 * newer than the lattice's (another instance wrote the cell and its event has not arrived yet),
 * and after the store reported a conflict.
 */
export async function catchUp(store: Pick<Store, "readCells">, served: ServedCube, coords: readonly Int32Array[]): Promise<void> {
  if (coords.length === 0) return;
  const states = await store.readCells(served.id, coords.map((c) => Array.from(c)));
  const changes: LeafChange[] = [];
  states.forEach((st, i) => {
    if (st.version === 0) return;
    changes.push({
      coords: coords[i],
      value: st.value,
      version: st.version,
      writer: { user: st.updatedBy ?? "", at: st.updatedAt ?? served.loadedAt },
    });
  });
  applyNewer(served, changes);
}
