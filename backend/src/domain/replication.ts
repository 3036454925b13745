/**
 * Replication: other instances' committed transactions, as they arrive over the bus (whole: the
 * consumer assembles a transaction's parts first, see events/contract.ts), applied to this
 * instance's lattices in one batch each, so no stream ever shows half of a spread or a copy.
 */
import type { LeafChange } from "../lattice";
import { type CommittedTransaction, eventTenant } from "../events/contract";
import { applyNewer } from "../writes/apply";
import type { CubeRegistry } from "./cube-registry";

/**
 * Applies another instance's committed transaction to the lattice (which notifies watches): only
 * the changes newer than the lattice's, and nothing when this instance does not serve the cube or
 * serves another generation of it (a different store id or load time). Changes that do not fit the
 * cube (bad coordinates, a consolidated or calculated cell) are skipped.
 * @returns the number of changes applied.
 */
export function applyTransaction(cubes: CubeRegistry, tx: CommittedTransaction): number {
  const served = cubes.find(tx.cube, eventTenant(tx));
  if (!served || served.id !== tx.cubeId || served.loadedAt !== tx.loadedAt) return 0;
  const { cube } = served;
  const writer = { user: tx.user, at: tx.at };
  const changes: LeafChange[] = [];
  for (const c of tx.changes) {
    const dims = cube.dims;
    const fits = c.coords.length === dims.length && c.coords.every((x, d) => Number.isInteger(x) && x >= 0 && x < dims[d].size);
    if (!fits || cube.isConsolidated(c.coords) || cube.isCalculated(c.coords)) continue;
    changes.push({ coords: c.coords, value: c.value, version: c.version, writer });
  }
  return applyNewer(served, changes);
}
