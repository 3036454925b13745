/**
 * Turns on the event loop for long tasks of the request thread (a million-leaf spread's plan, its
 * commit's bookkeeping): such a task works in slices and lets other requests run between them, so
 * that a small read waits one slice at most, not the whole task.
 */

/** Longest slice a long task holds the event loop before it gives other work a turn, ms. */
export const TURN_MS = 10;

/** A long task's clock: `turn()` gives the event loop a turn once the current slice is used up. */
export class Turns {
  private last = performance.now();

  /** @param sliceMs the slice, ms (default TURN_MS; 0 turns at every call). */
  constructor(private readonly sliceMs = TURN_MS) {}

  /** Resolves at once while the slice lasts, else after one turn of the event loop (`setImmediate`). */
  async turn(): Promise<void> {
    if (performance.now() - this.last < this.sliceMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.last = performance.now();
  }
}

/**
 * Runs a stepwise computation (a generator that yields between steps, such as the lattice's
 * `planSpreadSteps`; the lattice's `allSteps` runs one without turns) to its result, giving the event loop a turn after a step whenever `sliceMs`
 * (default TURN_MS) have passed since the last turn.
 */
export async function inTurns<T>(steps: Generator<void, T>, sliceMs = TURN_MS): Promise<T> {
  const turns = new Turns(sliceMs);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await turns.turn();
  }
}
