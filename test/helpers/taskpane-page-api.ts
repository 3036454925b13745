/**
 * What the task pane test page (taskpane-page.tsx) offers the test on `window.qatomTest`: a fake
 * sheet standing in for Excel at the task pane's host module.
 */
export interface TaskpaneTestApi {
  /** Puts a QATOM.CELL formula at `address`; its snapshot (value, version) is read from the server now. */
  placeFormula(address: string, cube: string, members: string[]): Promise<void>;
  /** Moves the selection (fires the host's selection event). */
  select(address: string): void;
  /**
   * Types over a formula cell as the worksheet handler reads it: a number (or null, cleared) is a
   * pending write; text is a TM1 code (`P%+10`, `S500`, `H`, `RH`, `SL>1:2`) or left alone.
   */
  type(address: string, value: number | string | null): void;
  /**
   * The runtime's writeback could not put `formula` back over `address` (Excel refused the batch):
   * the pane lists it; Excel refuses the next `times` writes of formulas too.
   */
  restoreRefused(address: string, formula: string, typed: string, times: number): void;
  /** Formulas put back through the runtime's host (`address formula`). */
  restored: string[];
  /** Addresses the pane asked the host to go to (from "Go to" buttons). */
  wentTo: string[];
  /**
   * What the QATOM.CELL formula at `address` shows now, as Excel would: its value (0 for an empty
   * cell), or the error's message (what `#N/A` says in its tooltip).
   */
  shows(address: string): { value: number } | { error: string } | null;
  /** GetCells through the runtime's clients (its connection): each cell's value and version (as text). */
  getCells(cube: string, cells: string[][]): Promise<{ value: number | null; version: string }[]>;
  /** One WriteCells through the runtime's clients: the write's status name and new version (as text). */
  writeCell(cube: string, members: string[], value: number, baseVersion: string): Promise<{ status: string; version: string }>;
}

declare global {
  interface Window {
    qatomTest: TaskpaneTestApi;
  }
}
