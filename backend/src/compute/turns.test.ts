/**
 * inTurns (turns.ts), which runs the spread planner's steps: it gives other work on the event loop
 * a turn between steps once its time slice is used up, and not before.
 */
import { inTurns } from "./turns";

function* steps(log: string[]): Generator<void, string> {
  for (let k = 1; k <= 3; k++) {
    log.push(`step ${k}`);
    yield;
  }
  return "plan";
}

describe("inTurns", () => {
  it("lets work queued on the event loop run between steps when the slice is used up", async () => {
    const log: string[] = [];
    setImmediate(() => log.push("other request"));
    expect(await inTurns(steps(log), 0)).toBe("plan");
    expect(log.indexOf("other request")).toBeGreaterThan(0);
    expect(log.indexOf("other request")).toBeLessThan(log.indexOf("step 3"));
  });

  it("runs every step at once while the slice lasts", async () => {
    const log: string[] = [];
    const other = new Promise<void>((resolve) => setImmediate(() => resolve(void log.push("other request"))));
    expect(await inTurns(steps(log), Number.POSITIVE_INFINITY)).toBe("plan");
    expect(log).toEqual(["step 1", "step 2", "step 3"]);
    await other;
  });
});
