/**
 * Stepwise computations: generators that yield between steps (the spread and scenario-copy
 * planners), so that a caller may run other work in between (compute/turns.ts `inTurns`) or run
 * them to the end at once (`allSteps`).
 */

/** Runs a stepwise computation (a generator that yields between steps) to its result at once. */
export function allSteps<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}
