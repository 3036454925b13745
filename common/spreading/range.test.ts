import { spreadOverRange } from "./range";

// Sources: IBM Planning Analytics 2.1.0 documentation (see range.ts for the addresses).
const round = (xs: (number | null)[]) => xs.map((x) => (x === null ? null : Math.round(x * 1e9) / 1e9 + 0));
const run = (...values: (number | null)[]) => values.map((value) => ({ value, held: false }));

describe("P and S over a run of cells as one target", () => {
  it("P>300 over 10, 30, 60 makes the run's total 300 in the cells' proportions: 30, 90, 180", () => {
    const r = spreadOverRange("P", "replace", 300, run(10, 30, 60));
    expect(r.ok && round(r.values)).toEqual([30, 90, 180]);
  });

  it("P+>100 adds 100 to the run's total in proportion; P~ takes it away", () => {
    const add = spreadOverRange("P", "add", 100, run(10, 30, 60));
    expect(add.ok && round(add.values)).toEqual([20, 60, 120]);
    const sub = spreadOverRange("P", "subtract", 50, run(10, 30, 60));
    expect(sub.ok && round(sub.values)).toEqual([5, 15, 30]);
  });

  it("drops a held cell from the range and spreads over the others (Spreading to a range)", () => {
    const cells = [{ value: 10, held: false }, { value: 30, held: true }, { value: 60, held: false }];
    const r = spreadOverRange("P", "replace", 300, cells);
    // 300 over 10 : 60; the held 30 neither changes nor counts
    expect(r.ok && round(r.values)).toEqual(round([300 / 7, 30, 1800 / 7]));
  });

  it("leaves empty cells empty, and over cells all zero or empty spreads equally (ProportionSpreadToZeroCells)", () => {
    const some = spreadOverRange("P", "replace", 300, run(10, null, 20));
    expect(some.ok && round(some.values)).toEqual([100, null, 200]);
    const none = spreadOverRange("P", "replace", 300, run(null, 0, null));
    expect(none.ok && round(none.values)).toEqual([100, 100, 100]);
  });

  it("S>1200 over four cells gives 300 each; S+200 adds 50 to each; held cells are left out", () => {
    const eq = spreadOverRange("S", "replace", 1200, run(0, 0, 0, 0));
    expect(eq.ok && round(eq.values)).toEqual([300, 300, 300, 300]);
    const plus = spreadOverRange("S", "add", 200, run(10, null, 30, 40));
    expect(plus.ok && round(plus.values)).toEqual([60, 50, 80, 90]);
    const held = spreadOverRange("S", "replace", 300, [{ value: 100, held: true }, { value: 1, held: false }, { value: 2, held: false }]);
    expect(held.ok && round(held.values)).toEqual([100, 150, 150]);
  });

  it("refuses a run whose every cell is held", () => {
    expect(spreadOverRange("P", "replace", 5, [{ value: 1, held: true }])).toEqual({ ok: false, message: expect.stringMatching(/every cell of the run is held/) });
  });
});
