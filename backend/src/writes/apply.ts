/**
 * Apply: committed leaf changes go into the lattice, which moves every watched cell above them
 * and so pushes to WatchCells streams. Also used for other instances' transactions and for
 * catching up on cells this instance has not seen yet.
 */
import type { LeafChange } from "../lattice";
import type { ServedCube } from "../domain/cube-registry";
import type { Store } from "../store/types";

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
 * Brings leaf cells of the lattice up to their stored state: for writes whose base version is
 * newer than the lattice's (another instance wrote the cell and its event has not arrived yet),
 * and after the store reported a conflict.
 */
export async function catchUp(store: Store, served: ServedCube, coords: readonly Int32Array[]): Promise<void> {
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
