/** A small observable value, shaped for React's `useSyncExternalStore`. */
import type { CellRef, Observable } from "./contracts";

/** Holds a value; `set` replaces it and notifies the subscribers (listener errors are isolated). */
export class ObservableValue<T> implements Observable<T> {
  private readonly listeners = new Set<() => void>();
  constructor(private value: T) {}

  get(): T {
    return this.value;
  }

  set(value: T): void {
    this.value = value;
    for (const fn of Array.from(this.listeners)) {
      try {
        fn();
      } catch (err) {
        console.error("quantatom: a subscriber failed", err);
      }
    }
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }
}

/** The key of a cube (cube names are case-insensitive on the server). */
export function cubeKey(cube: string): string {
  return cube.trim().toLowerCase();
}

/** The key of a cell reference: same cube and same member spellings, same key (duplicates are sent once). */
export function refKey(ref: CellRef): string {
  return `${cubeKey(ref.cube)}\u0000${ref.members.join("\u0001")}`;
}
