/**
 * Holds: cells the user held for spreading in this session (TM1's `H` / `HC`, typed over a
 * QATOM.CELL cell; released with `RH` / `RC` or in the task pane). A spread leaves a held leaf, and
 * every leaf under a held consolidated cell, as it is; the other leaves absorb the change. They go to
 * the server as `WriteCellsRequest.holds` with every WriteCells of their cube (see
 * ./pending-writes.ts); they are not saved with the workbook, as in TM1 where holds last a session.
 *
 * One hold per cube cell (cube and members), whichever sheet cell showed it.
 * @see https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=syntax-data-spreading-hold-reference-table
 */
import type { CellRef, FormulaCell, HeldCell, Holds } from "./contracts";
import { ObservableValue, cubeKey, refKey } from "./observable";

/** Holds over an observable list (immutable between changes, for `useSyncExternalStore`). */
export class HoldsStore implements Holds {
  private readonly items = new ObservableValue<readonly HeldCell[]>([]);

  get(): readonly HeldCell[] {
    return this.items.get();
  }

  subscribe(fn: () => void): () => void {
    return this.items.subscribe(fn);
  }

  hold(cell: FormulaCell): HeldCell {
    const h: HeldCell = { id: refKey(cell), address: cell.address, cube: cell.cube, members: cell.members, consolidated: cell.snapshot?.consolidated ?? false };
    const list = this.items.get();
    const i = list.findIndex((x) => x.id === h.id);
    this.items.set(i >= 0 ? list.map((x, j) => (j === i ? h : x)) : [...list, h]);
    return h;
  }

  release(idOrCell: string | CellRef): boolean {
    const id = typeof idOrCell === "string" ? idOrCell : refKey(idOrCell);
    const list = this.items.get();
    if (!list.some((x) => x.id === id)) return false;
    this.items.set(list.filter((x) => x.id !== id));
    return true;
  }

  releaseAll(cube?: string): void {
    const list = this.items.get();
    if (list.length === 0) return;
    this.items.set(cube === undefined ? [] : list.filter((x) => cubeKey(x.cube) !== cubeKey(cube)));
  }

  isHeld(ref: CellRef): boolean {
    const id = refKey(ref);
    return this.items.get().some((x) => x.id === id);
  }

  forCube(cube: string): { members: string[] }[] {
    const k = cubeKey(cube);
    return this.items
      .get()
      .filter((x) => cubeKey(x.cube) === k)
      .map((x) => ({ members: x.members }));
  }
}
