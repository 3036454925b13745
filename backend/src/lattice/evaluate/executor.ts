/**
 * Where large passes over leaf rows run. The engine is pure, so it declares only the interface and
 * a serial default; an adapter (backend/src/compute/thread-pool.ts) splits passes over helper
 * threads and is given to the Cube by whoever builds it.
 */
import type { MemberColumn } from "../leaf-store";
import { type NarrowArgs, type NarrowOut, narrowRows } from "./narrow-kernel";
import { PARALLEL_MIN_ROWS, scanRows } from "./scan-kernel";

export { PARALLEL_MIN_ROWS };

/**
 * Runs the scan kernel (`scanRows`) over leaf rows `[0, rows)`: adds each row whose key (the sum of
 * `tables[k][cols[k][r]]`) is not negative into `acc` (sum at `2 * key`, count at `2 * key + 1`;
 * NaN values are skipped). The result must equal `scanRows(0, rows, cols, tables, values, null, acc)`
 * up to the order of floating-point additions. Must not throw: an executor that cannot run a
 * range runs it in the calling thread.
 */
export interface ScanExecutor {
  /**
   * Adds leaf rows `[0, rows)` into `acc`; called only for at least PARALLEL_MIN_ROWS rows and at
   * least one axis.
   */
  scan(rows: number, cols: readonly MemberColumn[], tables: readonly Int32Array[], values: Float64Array, acc: Float64Array): void;
  /**
   * Runs the narrow pass's kernel over leaf rows `[0, rows)` into `out` (sums and counts added,
   * versions the highest): must equal `narrowRows(0, rows, args, out)` up to the order of
   * floating-point additions. Called only for at least PARALLEL_MIN_ROWS rows; must not throw.
   */
  narrow(rows: number, args: NarrowArgs, out: NarrowOut): void;
  /**
   * Leaf rows from which passes go to the executor (smaller ones run in the calling thread);
   * default PARALLEL_MIN_ROWS.
   */
  readonly minRows?: number;
  /**
   * Tells the executor that `count` rows (`rows[0..count)`) of the store whose value column is
   * `values` were written (new rows included), after the Cube applied them: an executor keeping
   * copies of the columns (the GPU's resident columns) refreshes them.
   */
  rowsChanged?(values: Float64Array, rows: ArrayLike<number>, count: number): void;
  /** Prepares ahead of the first large read (e.g. starts threads) for a store of `rows` leaf rows. */
  warm(rows: number): void;
}

/** The default executor: the kernel in the calling thread; `warm` does nothing. */
export const serialExecutor: ScanExecutor = {
  scan(rows, cols, tables, values, acc) {
    scanRows(0, rows, cols, tables, values, null, acc);
  },
  narrow(rows, args, out) {
    narrowRows(0, rows, args, out);
  },
  warm() {},
};
