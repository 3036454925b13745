/**
 * What the task pane test page (taskpane-page.tsx) offers the test on `window.qatomTest`: a fake
 * sheet standing in for Excel at the task pane's host module.
 */
export interface TaskpaneTestApi {
  /** Puts a QATOM.CELL formula at `address`; its snapshot (value, version) is read from the server now. */
  placeFormula(address: string, cube: string, members: string[]): Promise<void>;
  /** Moves the selection (fires the host's selection event). */
  select(address: string): void;
  /** Types a value over a formula cell: a pending write, as the worksheet handler would record it. */
  type(address: string, value: number | null): void;
  /** Addresses the pane asked the host to go to (from "Go to" buttons). */
  wentTo: string[];
}

declare global {
  interface Window {
    qatomTest: TaskpaneTestApi;
  }
}
