/**
 * Watching calculated cells (see `watchCalculated`): split from ./cube.ts.
 */
import { type CubeFormulas, FormulaCells } from "./calculated";
import type { CellState, CellWatch } from "./cube";
import { keyOf, type Subscription, type WatchedCell, type WatchRegistry } from "./watch";

/** The state of a watched cell. */
export function stateOf(c: WatchedCell): CellState {
  return { value: c.count > 0 ? c.value : null, version: c.version };
}

/** What `watchCalculated` needs of its cube. */
export interface CalculatedWatchHost {
watches: WatchRegistry;
/** Initial states of cells not watched yet (Cube's initialStates). */
initialStates(cells: readonly Int32Array[]): Map<number, { value: number; count: number; version: number }>;
}

/**
 * `Cube.watch` for a request that holds calculated cells: the base cells their formulas read
 * (through other formulas) are watched as hidden cells of the same subscription; when some of them
 * change, only the calculated cells that read them are computed again, and reported when their
 * value or version changed.
 */
export function watchCalculated(host: CalculatedWatchHost, formulas: CubeFormulas, coords: readonly Int32Array[], onChange: (indexes: number[]) => void): CellWatch {
  const n = coords.length;
  // Base cells: the requested ones and those the calculated ones read, each once.
  const base: Int32Array[] = [];
  const baseIndex = new Map<string, number>();
  const indexOf = (c: Int32Array, k: string): number => {
    let b = baseIndex.get(k);
    if (b === undefined) {
      b = base.length;
      baseIndex.set(k, b);
      base.push(c);
    }
    return b;
  };
  let sub: Subscription | null = null;
  const cells = new FormulaCells(formulas, indexOf, (b) => stateOf(sub!.cells[b]));
  /** Per request: its base cell, or -1 for a calculated cell. */
  const reqBase = new Int32Array(n).fill(-1);
  /** Per request: its index into `calc`, or -1 for a base cell. */
  const reqCalc = new Int32Array(n).fill(-1);
  const calc: { i: number; key: string }[] = [];
  for (let i = 0; i < n; i++) {
    const key = keyOf(coords[i]);
    if (formulas.winner(coords[i]) >= 0) {
      reqCalc[i] = calc.length;
      calc.push({ i, key });
    } else {
      reqBase[i] = indexOf(coords[i], key);
    }
  }
  for (const c of calc) cells.deps(coords[c.i], c.key);
  /** Per base cell: the requests that are that cell, and the calculated requests (into `calc`) that read it. */
  const direct: number[][] = Array.from({ length: base.length }, () => []);
  const dependents: number[][] = Array.from({ length: base.length }, () => []);
  for (let i = 0; i < n; i++) if (reqBase[i] >= 0) direct[reqBase[i]].push(i);
  calc.forEach((c, k) => {
    for (const b of cells.deps(coords[c.i], c.key)) dependents[b].push(k);
  });

  const initial = host.initialStates(base);
  let calcStates: CellState[] = [];
  const subscription = host.watches.subscribe(base, (b) => initial.get(b)!, (changed) => {
    const out = new Set<number>();
    const affected = new Set<number>();
    for (const b of changed) {
      for (const i of direct[b]) out.add(i);
      for (const k of dependents[b]) affected.add(k);
    }
    if (affected.size > 0) {
      cells.newPass();
      for (const k of affected) {
        const c = calc[k];
        const next = cells.state(coords[c.i], c.key);
        const prev = calcStates[k];
        if (next.value !== prev.value || next.version !== prev.version) {
          calcStates[k] = next;
          out.add(c.i);
        }
      }
    }
    if (out.size > 0) onChange(Array.from(out).sort((a, b) => a - b));
  });
  sub = subscription;
  cells.newPass();
  calcStates = calc.map((c) => cells.state(coords[c.i], c.key));
  return {
    states: (indexes?: number[]) =>
      (indexes ?? Array.from({ length: n }, (_, i) => i)).map((i) =>
        reqBase[i] >= 0 ? stateOf(subscription.cells[reqBase[i]]) : calcStates[reqCalc[i]],
      ),
    close: () => host.watches.unsubscribe(subscription),
  };
}

