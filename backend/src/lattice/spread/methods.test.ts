import { straightLine } from "../../../../common/spreading/line";
import { parseSpreadCode, type SpreadCode } from "../../../../common/spreading/parse";
import { applyRow, type DataAction, type LeafMethod, type SpreadResult, spreadLeaves, targetMet, toLeafMethod, weightedTotal } from "./methods";

// Sources of the examples (IBM Planning Analytics documentation):
const SYNTAX_TABLE = "https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=syntax-data-spreading-hold-reference-table";
const CONSOLIDATED = "https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=overview-spreading-consolidated-cell";
const ZERO_CELLS = "https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=parameters-proportionspreadtozerocells";
const EQUAL_LEAVES = "Equal leaves data spreading method (ibm.com/support/knowledgecenter/SSD29G_2.0.0, c_paw_equal_leaves_ds.html)";
const REPEAT_LEAVES = "https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=shortcuts-repeat-leaves-data-spreading-method";
const REPEAT_LEAVES_REST = "https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=examples-repeat-leaves";
const PERCENT_CHANGE = "https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=examples-percent-change";
const REL_PROP = "Relative proportional data spreading method (ibm.com/support/knowledgecenter/SSD29G_2.0.0, c_paw_rel_prop_ds.html)";
const REL_PCT = "https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=examples-relative-percent-adjustment";

const f = (...xs: number[]) => Float64Array.from(xs);
const ones = (n: number) => new Float64Array(n).fill(1);
const mask = (n: number, ...held: number[]) => {
  const m = new Uint8Array(n);
  for (const i of held) m[i] = 1;
  return m;
};
/** Rounds to 1e-9 so that whole arrays compare with toEqual (NaN stays NaN, -0 becomes 0). */
const round = (xs: ArrayLike<number>) => Array.from(xs, (x) => (Number.isNaN(x) ? x : Math.round(x * 1e9) / 1e9 + 0));

function spread(
  values: Float64Array,
  method: LeafMethod,
  action: DataAction = "replace",
  opts: { weights?: Float64Array; hold?: Uint8Array; groups?: Int32Array } = {},
): SpreadResult {
  const weights = opts.weights ?? ones(values.length);
  const r = spreadLeaves({ values, weights, hold: opts.hold, groups: opts.groups }, method, action);
  if (r.ok) expect(r.total).toBeCloseTo(weightedTotal(r.values, weights), 6);
  return r;
}
function ok(r: SpreadResult): number[] {
  if (!r.ok) throw new Error(`expected success, got ${r.code}: ${r.message}`);
  return round(r.values);
}
function errCode(r: SpreadResult): string {
  if (r.ok) throw new Error(`expected an error, got ${Array.from(r.values)}`);
  expect(r.message.length).toBeGreaterThan(0);
  return r.code;
}

describe("proportional P", () => {
  it(`replaces in proportion to the current values (${SYNTAX_TABLE}: P<>100)`, () => {
    expect(ok(spread(f(10, 20, 30, 40), { kind: "P", value: 100 }))).toEqual([10, 20, 30, 40]);
    expect(ok(spread(f(10, 20, 30, 40), { kind: "P", value: 200 }))).toEqual([20, 40, 60, 80]);
  });

  it("adds (+) and subtracts (~) the proportional spread of the value", () => {
    expect(ok(spread(f(10, 20, 30, 40), { kind: "P", value: 100 }, "add"))).toEqual([20, 40, 60, 80]);
    expect(ok(spread(f(10, 20, 30, 40), { kind: "P", value: 50 }, "subtract"))).toEqual([5, 10, 15, 20]);
  });

  it(`keeps held leaves and spreads the rest proportionally (${CONSOLIDATED})`, () => {
    // 1. consolidated 100; 2. unheld sum 60; 3. held sum 40; 4. 200 - 40 = 160; 5. spread 160 over 10,20,30.
    const r = spread(f(10, 20, 30, 40), { kind: "P", value: 200 }, "replace", { hold: mask(4, 3) });
    expect(ok(r)).toEqual(round([160 / 6, 320 / 6, 80, 40]));
    expect(r.ok && r.total).toBeCloseTo(200, 9);
  });

  it("holds from a held consolidated cell arrive as a mask over its leaves", () => {
    // Leaves Jan..Jun; Q1 (Jan-Mar) held as a consolidation: the caller marks its three leaves.
    const r = spread(f(1, 2, 3, 4, 5, 6), { kind: "P", value: 51 }, "replace", { hold: mask(6, 0, 1, 2) });
    expect(ok(r)).toEqual([1, 2, 3, 12, 15, 18]);
  });

  it("leaves empty cells empty", () => {
    expect(ok(spread(f(Number.NaN, 10, 30), { kind: "P", value: 80 }))).toEqual([Number.NaN, 20, 60]);
  });

  it(`falls back to equal leaves (LS*) when the leaves are all zero or empty (${ZERO_CELLS})`, () => {
    expect(ok(spread(f(0, Number.NaN, 0, 0), { kind: "P", value: 1200 }))).toEqual([300, 300, 300, 300]);
    // Fallback happens over the unheld leaves only: 20 - 5 held = 15 over three leaves.
    expect(ok(spread(f(0, 0, 5, 0), { kind: "P", value: 20 }, "replace", { hold: mask(4, 2) }))).toEqual([5, 5, 5, 5]);
    // Add to zero leaves: each gets an equal share of the delta.
    expect(ok(spread(f(0, 0), { kind: "P", value: 10 }, "add"))).toEqual([5, 5]);
  });

  it("spreads through weight -1 leaves (Profit = Revenue - Cost)", () => {
    const weights = f(1, -1);
    const r = spread(f(100, 60), { kind: "P", value: 80 }, "replace", { weights });
    if (!r.ok) throw new Error(r.message);
    expect(round(r.values)).toEqual([200, 120]);
    expect(r.total).toBeCloseTo(80, 9);
  });

  it("does not write weight-0 leaves", () => {
    const r = spread(f(10, 99, 30), { kind: "P", value: 80 }, "replace", { weights: f(1, 0, 1) });
    expect(ok(r)).toEqual([20, 99, 60]);
  });

  it("errors with TARGET_NOT_MET when the weights cancel and no proportion exists", () => {
    expect(errCode(spread(f(0, 0), { kind: "P", value: 10 }, "replace", { weights: f(1, -1) }))).toBe("TARGET_NOT_MET");
    expect(errCode(spread(f(5, 5), { kind: "P", value: 10 }, "replace", { weights: f(1, -1) }))).toBe("TARGET_NOT_MET");
  });

  it("errors with ALL_HELD when every leaf is held", () => {
    expect(errCode(spread(f(1, 2), { kind: "P", value: 10 }, "replace", { hold: mask(2, 0, 1) }))).toBe("ALL_HELD");
  });
});

describe("equal S (over the immediate children)", () => {
  const groups = Int32Array.from([0, 0, 1, 1, 2, 2]);
  it(`spreads equally to children, proportionally inside each (${SYNTAX_TABLE}: S)`, () => {
    expect(ok(spread(f(10, 30, 5, 5, 0, 0), { kind: "S", value: 300 }, "replace", { groups }))).toEqual([25, 75, 50, 50, 50, 50]);
  });
  it(`adds the equal spread to the existing values (${SYNTAX_TABLE}: S+200)`, () => {
    expect(ok(spread(f(10, 30, 5, 5, 0, 0), { kind: "S", value: 300 }, "add", { groups }))).toEqual([35, 105, 55, 55, 50, 50]);
    expect(ok(spread(f(0, 0, 0, 0), { kind: "S", value: 200 }, "add"))).toEqual([50, 50, 50, 50]);
  });
  it("without groups every leaf is a child", () => {
    expect(ok(spread(f(10, 20, 30), { kind: "S", value: 90 }))).toEqual([30, 30, 30]);
  });
  it("with a held leaf: the remainder is shared by the children that can change", () => {
    const r = spread(f(10, 30, 5, 5), { kind: "S", value: 100 }, "replace", { groups: Int32Array.from([0, 0, 1, 1]), hold: mask(4, 1) });
    expect(ok(r)).toEqual([35, 30, 17.5, 17.5]);
  });
  it("errors when a child's weights cancel", () => {
    const r = spread(f(0, 0, 1), { kind: "S", value: 10 }, "replace", { groups: Int32Array.from([0, 0, 1]), weights: f(1, -1, 1) });
    expect(errCode(r)).toBe("TARGET_NOT_MET");
  });
});

describe("equal leaves LS", () => {
  it(`LS* spreads 1200 over four zero leaves as 300 each (${EQUAL_LEAVES})`, () => {
    expect(ok(spread(f(0, 0, 0, 0), { kind: "LS", value: 1200, allLeaves: true }))).toEqual([300, 300, 300, 300]);
  });
  it("LS without * writes only the non-zero leaves", () => {
    expect(ok(spread(f(0, 100, Number.NaN, 50), { kind: "LS", value: 300, allLeaves: false }))).toEqual([0, 150, Number.NaN, 150]);
  });
  it("LS+* adds equal shares; held leaves keep their values", () => {
    expect(ok(spread(f(10, 20), { kind: "LS", value: 100, allLeaves: true }, "add"))).toEqual([60, 70]);
    expect(ok(spread(f(10, 20, 30), { kind: "LS", value: 100, allLeaves: true }, "replace", { hold: mask(3, 2) }))).toEqual([35, 35, 30]);
  });
  it("with weights -1: each leaf gets target / sum(weights), or TARGET_NOT_MET when they cancel", () => {
    expect(ok(spread(f(0, 0, 0), { kind: "LS", value: 50, allLeaves: true }, "replace", { weights: f(1, 1, -1) }))).toEqual([50, 50, 50]);
    expect(errCode(spread(f(100, 60), { kind: "LS", value: 80, allLeaves: true }, "replace", { weights: f(1, -1) }))).toBe(
      "TARGET_NOT_MET",
    );
  });
  it("errors with NO_ELIGIBLE_LEAVES when LS (no *) finds only zero leaves", () => {
    expect(errCode(spread(f(0, Number.NaN), { kind: "LS", value: 10, allLeaves: false }))).toBe("NO_ELIGIBLE_LEAVES");
  });
});

describe("repeat R and repeat leaves LR", () => {
  it(`R~50 subtracts 50 from every leaf when each leaf is its own child (${SYNTAX_TABLE})`, () => {
    expect(ok(spread(f(100, 200, Number.NaN), { kind: "R", value: 50 }, "subtract"))).toEqual([50, 150, -50]);
  });
  it("R repeats the value into each child, proportionally inside it", () => {
    const groups = Int32Array.from([0, 0, 1, 1]);
    expect(ok(spread(f(10, 30, 5, 5), { kind: "R", value: 100 }, "replace", { groups }))).toEqual([25, 75, 50, 50]);
    expect(ok(spread(f(10, 30, 5, 5), { kind: "R", value: 10 }, "subtract", { groups }))).toEqual([7.5, 22.5, 0, 0]);
    // A held leaf counts towards its child's repeated value.
    expect(ok(spread(f(10, 30, 5, 5), { kind: "R", value: 100 }, "replace", { groups, hold: mask(4, 0) }))).toEqual([10, 90, 50, 50]);
  });
  it(`LR*25 copies 25 to every leaf, populated or not (${REPEAT_LEAVES})`, () => {
    expect(ok(spread(f(0, Number.NaN, 0), { kind: "LR", value: 25, allLeaves: true }))).toEqual([25, 25, 25]);
  });
  it(`LR400 copies 400 only to the leaves holding non-zero values (${REPEAT_LEAVES})`, () => {
    expect(ok(spread(f(100, 0, Number.NaN, 50), { kind: "LR", value: 400, allLeaves: false }))).toEqual([400, 0, Number.NaN, 400]);
  });
  it(`LR+*200 adds 200 to all leaves (${REPEAT_LEAVES_REST}); held leaves are skipped`, () => {
    expect(ok(spread(f(1, Number.NaN, 3), { kind: "LR", value: 200, allLeaves: true }, "add"))).toEqual([201, 200, 203]);
    expect(ok(spread(f(1, 7, 3), { kind: "LR", value: 25, allLeaves: true }, "replace", { hold: mask(3, 1) }))).toEqual([25, 7, 25]);
  });
});

describe("percent change P%", () => {
  it(`P%+10 increments all leaves by 10% (${PERCENT_CHANGE})`, () => {
    expect(ok(spread(f(100, 200, Number.NaN), { kind: "P%", percent: 10 }, "add"))).toEqual([110, 220, Number.NaN]);
  });
  it("P%~10 decreases by 10%, P%10 replaces each leaf by 10% of itself, holds are kept", () => {
    expect(ok(spread(f(100, 200, Number.NaN), { kind: "P%", percent: 10 }, "subtract"))).toEqual([90, 180, Number.NaN]);
    expect(ok(spread(f(100, 200, Number.NaN), { kind: "P%", percent: 10 }))).toEqual([10, 20, Number.NaN]);
    expect(ok(spread(f(100, 200, 300), { kind: "P%", percent: 10 }, "add", { hold: mask(3, 1) }))).toEqual([110, 200, 330]);
  });
});

describe("clear C", () => {
  it(`clears every unheld leaf (${SYNTAX_TABLE}: C)`, () => {
    expect(ok(spread(f(1, 2, 3), { kind: "C" }))).toEqual([Number.NaN, Number.NaN, Number.NaN]);
    expect(ok(spread(f(1, 2, 3), { kind: "C" }, "replace", { hold: mask(3, 1) }))).toEqual([Number.NaN, 2, Number.NaN]);
    expect(errCode(spread(f(1), { kind: "C" }, "replace", { hold: mask(1, 0) }))).toBe("ALL_HELD");
  });
});

describe("relative proportional RP and relative percent adjustment R%", () => {
  const brazil = f(10, 20, 70); // 1 Quarter, Brazil = 100
  it(`RP400 from 1 Quarter, Argentina follows Brazil's 10/20/70% (${REL_PROP})`, () => {
    expect(ok(spread(f(0, 0, 0), { kind: "RP", value: 400, reference: brazil }))).toEqual([40, 80, 280]);
  });
  it("RP with a held leaf and with add", () => {
    const r = spread(f(5, 0, 0), { kind: "RP", value: 400, reference: brazil }, "replace", { hold: mask(3, 0) });
    expect(ok(r)).toEqual(round([5, (395 * 20) / 90, (395 * 70) / 90]));
    expect(ok(spread(f(1, 1, 1), { kind: "RP", value: 100, reference: brazil }, "add"))).toEqual([11, 21, 71]);
  });
  it("errors with REFERENCE_ZERO when the reference leaves are all zero", () => {
    expect(errCode(spread(f(1, 1), { kind: "RP", value: 10, reference: f(0, Number.NaN) }))).toBe("REFERENCE_ZERO");
  });
  it(`R%+20 adds the reference leaf plus 20% to each leaf (${REL_PCT})`, () => {
    expect(ok(spread(f(1, 1, 1), { kind: "R%", percent: 20, reference: brazil }, "add"))).toEqual([13, 25, 85]);
    expect(ok(spread(f(1, 1, 1), { kind: "R%", percent: 20, reference: brazil }))).toEqual([12, 24, 84]);
  });
});

describe("input errors", () => {
  it("NO_LEAVES, LENGTH_MISMATCH, BAD_ARGUMENT", () => {
    expect(errCode(spread(f(), { kind: "P", value: 1 }))).toBe("NO_LEAVES");
    expect(errCode(spreadLeaves({ values: f(1, 2), weights: f(1) }, { kind: "P", value: 1 }))).toBe("LENGTH_MISMATCH");
    expect(errCode(spread(f(1, 2), { kind: "P", value: 1 }, "replace", { hold: new Uint8Array(3) }))).toBe("LENGTH_MISMATCH");
    expect(errCode(spread(f(1, 2), { kind: "S", value: 1 }, "replace", { groups: new Int32Array(1) }))).toBe("LENGTH_MISMATCH");
    expect(errCode(spread(f(1, 2), { kind: "RP", value: 1, reference: f(1) }))).toBe("LENGTH_MISMATCH");
    expect(errCode(spread(f(1, 2), { kind: "P", value: Number.NaN }))).toBe("BAD_ARGUMENT");
    expect(errCode(spread(f(1, 2), { kind: "P%", percent: Number.POSITIVE_INFINITY }))).toBe("BAD_ARGUMENT");
  });
  it("does not modify its inputs", () => {
    const values = f(10, 20);
    spread(values, { kind: "P", value: 60 });
    expect(Array.from(values)).toEqual([10, 20]);
  });
});

describe("target tolerance", () => {
  it("is absolute 1e-8 below 1 and relative 1e-8 above", () => {
    expect(targetMet(0.5 + 5e-9, 0.5)).toBe(true);
    expect(targetMet(0.5 + 2e-8, 0.5)).toBe(false);
    expect(targetMet(1e9 + 5, 1e9)).toBe(true);
    expect(targetMet(1e9 + 20, 1e9)).toBe(false);
  });
  it("meets a large target over many uneven leaves", () => {
    const values = Float64Array.from({ length: 1000 }, (_, i) => ((i * 7919) % 101) + 0.3);
    const r = spread(values, { kind: "P", value: 123456789.123 });
    if (!r.ok) throw new Error(r.message);
    expect(targetMet(r.total, 123456789.123)).toBe(true);
  });
});

describe("row methods SL and GR (their values: common/spreading/line.test.ts)", () => {
  it("applyRow: replace, add, subtract, holds and errors", () => {
    const sl = straightLine(3, 10, 30);
    expect(round(applyRow(f(1, Number.NaN, 3), sl) as Float64Array)).toEqual([10, 20, 30]);
    expect(round(applyRow(f(1, Number.NaN, 3), sl, "add") as Float64Array)).toEqual([11, 20, 33]);
    expect(round(applyRow(f(1, 2, 3), sl, "subtract", mask(3, 1)) as Float64Array)).toEqual([-9, 2, -27]);
    expect(applyRow(f(1, 2), sl)).toMatchObject({ ok: false, code: "LENGTH_MISMATCH" });
    expect(applyRow(f(1, 2, 3), sl, "replace", mask(3, 0, 1, 2))).toMatchObject({ ok: false, code: "ALL_HELD" });
  });
});

function parsed(text: string): SpreadCode {
  const r = parseSpreadCode(text);
  if (!r.ok) throw new Error(`${text}: ${r.message}`);
  return r.code;
}

describe("toLeafMethod", () => {
  it("turns a parsed RP code plus a reference into IBM's relative proportional example", () => {
    const m = toLeafMethod(parsed("RP400"), Float64Array.from([10, 20, 70]));
    if ("ok" in m) throw new Error(m.message);
    const r = spreadLeaves({ values: new Float64Array(3), weights: Float64Array.from([1, 1, 1]) }, m.method, m.action);
    expect(r.ok && Array.from(r.values)).toEqual([40, 80, 280]);
  });
  it("maps the leaf methods and their actions", () => {
    expect(toLeafMethod(parsed("P~10"))).toEqual({ method: { kind: "P", value: 10 }, action: "subtract" });
    expect(toLeafMethod(parsed("LR*25"))).toEqual({ method: { kind: "LR", value: 25, allLeaves: true }, action: "replace" });
    expect(toLeafMethod(parsed("P%+10"))).toEqual({ method: { kind: "P%", percent: 10 }, action: "add" });
    expect(toLeafMethod(parsed("C"))).toEqual({ method: { kind: "C" }, action: "replace" });
  });
  it("rejects RP/R% without a reference, row methods and holds", () => {
    for (const code of ["RP5", "R%5", "SL1:2", "GR1:2", "H"]) {
      expect(toLeafMethod(parsed(code))).toMatchObject({ ok: false, code: "BAD_ARGUMENT" });
    }
  });
});
