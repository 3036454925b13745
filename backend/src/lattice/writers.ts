/**
 * The last writer of each leaf row, in columns: a writer id per row (0: none) and a table of the
 * writers, one entry per batch of changes (a transaction's author and time), not a map entry per
 * row, so that a 10M-cell change keeps one object.
 */
import type { CellWriter } from "./model";

/** Writers by store row; see the module comment. */
export class RowWriters {
  private ids = new Int32Array(1024);
  /** `table[id - 1]` is writer `id`. */
  private readonly table: CellWriter[] = [];
  private rows = 0;

  /** @param initial last writers of loaded rows (row -> writer). */
  constructor(initial?: ReadonlyMap<number, CellWriter>) {
    if (initial) for (const [r, w] of initial) this.set(r, w);
  }

  /** The writer of row `r`, or undefined when none is known. */
  get(r: number): CellWriter | undefined {
    const id = r < this.ids.length ? this.ids[r] : 0;
    return id === 0 ? undefined : this.table[id - 1];
  }

  /** Records `w` as row `r`'s writer. */
  set(r: number, w: CellWriter): void {
    this.setId(r, this.idOf(w));
  }

  /** Records `w` as the writer of `rows[0..n)`: one table entry for the whole batch. */
  setMany(rows: Int32Array, n: number, w: CellWriter): void {
    const id = this.idOf(w);
    for (let k = 0; k < n; k++) this.setId(rows[k], id);
  }

  /** The writer id of rows `[0, count)` (0: none; id k is `table[k - 1]`) and the writers, copied: for a snapshot. */
  columns(count: number): { ids: Int32Array; table: CellWriter[] } {
    const ids = new Int32Array(count);
    ids.set(this.ids.subarray(0, Math.min(count, this.ids.length)));
    return { ids, table: [...this.table] };
  }

  /** Rows with a known writer. */
  get size(): number {
    return this.rows;
  }

  private idOf(w: CellWriter): number {
    const last = this.table[this.table.length - 1];
    if (last !== w) this.table.push(w);
    return this.table.length;
  }

  private setId(r: number, id: number): void {
    if (r >= this.ids.length) {
      let cap = this.ids.length * 2;
      while (cap <= r) cap *= 2;
      const grown = new Int32Array(cap);
      grown.set(this.ids);
      this.ids = grown;
    }
    if (this.ids[r] === 0) this.rows++;
    this.ids[r] = id;
  }
}
