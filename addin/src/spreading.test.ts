/** TM1 spreading codes typed over QATOM.CELL cells: parsing, what a code means over a cell, and the proto's Spread (pure). */
import { DataAction, SpreadMethod } from "../../proto/gen/quantatom/v1/lattice_pb";
import type { CellSnapshot } from "./contracts";
import { entryForCode, parseTypedText, type SpreadCode, spreadCodeText, splitMembers, toProtoSpread, wireValue } from "./spreading";
import { readTyped } from "./writeback";

describe("spreading codes typed over QATOM.CELL cells (pure)", () => {
  const snap = (value: number | null, consolidated: boolean, calculated = false): CellSnapshot => ({ value, version: 7n, consolidated, calculated });
  const code = (text: string) => {
    const t = parseTypedText(text);
    if (t?.kind !== "code") throw new Error(`${text} is not a code: ${JSON.stringify(t)}`);
    return t.code;
  };
  const cellCode = (text: string) => code(text) as Extract<SpreadCode, { kind: "P" | "S" | "R" | "RP" | "LS" | "LR" | "P%" | "R%" | "C" }>;

  it("reads typed text as a value, a code, a bad code (part and position named), or a note left alone", () => {
    expect(parseTypedText("250")).toEqual({ kind: "value", value: 250 });
    expect(parseTypedText(" -12.5 ")).toEqual({ kind: "value", value: -12.5 });
    expect(parseTypedText("")).toEqual({ kind: "value", value: null });
    expect(code("P100")).toEqual({ kind: "P", action: "replace", directions: [], value: 100 });
    expect(code("s+200")).toEqual({ kind: "S", action: "add", directions: [], value: 200 });
    expect(code("LS*50")).toMatchObject({ kind: "LS", allLeaves: true, value: 50 });
    expect(code("P%+10")).toMatchObject({ kind: "P%", action: "add", percent: 10 });
    expect(code("P%~5")).toMatchObject({ kind: "P%", action: "subtract", percent: 5 });
    expect(code("C")).toEqual({ kind: "C", directions: [] });
    expect(code("H")).toEqual({ kind: "H" });
    expect(code("rh")).toEqual({ kind: "RH" });
    // TM1 writes the direction after the method; after the arguments is accepted too
    expect(code("SL>100:200")).toMatchObject({ kind: "SL", directions: [">"], start: 100, end: 200 });
    expect(code("SL100:200>")).toMatchObject({ kind: "SL", directions: [">"], start: 100, end: 200 });
    expect(code("GR100:10|")).toMatchObject({ kind: "GR", directions: ["|"], start: 100, rate: 10 });
    expect(code("P%+10<")).toMatchObject({ kind: "P%", directions: ["<"], percent: 10 });
    for (const note of ["n/a", "Plan", "Check", "TBD", "R&D", "Sales up", "see Q1"]) expect(parseTypedText(note)).toBeUndefined();
    expect(parseTypedText("P1OO")).toEqual({ kind: "bad", text: "P1OO", message: expect.stringMatching(/^"P1OO" is not a spreading code \("OO" at character 3\): P: unexpected "OO"/) });
    expect(parseTypedText("SL100")).toMatchObject({ kind: "bad", message: expect.stringMatching(/character 6.*SL: expected ":"/) });
    expect(parseTypedText("C+")).toMatchObject({ kind: "bad", message: expect.stringMatching(/C takes no data action/) });
    // what the sheet holds: numbers, cleared cells, text codes; formulas and booleans are not typed values
    expect(readTyped({ address: "A1", formula: 42, valueType: "Double", value: 42 })).toEqual({ kind: "value", value: 42 });
    expect(readTyped({ address: "A1", formula: "", valueType: "Empty", value: "" })).toEqual({ kind: "value", value: null });
    expect(readTyped({ address: "A1", formula: "P%+10", valueType: "String", value: "P%+10" })).toMatchObject({ kind: "code", text: "P%+10" });
    expect(readTyped({ address: "A1", formula: "=1+1", valueType: "Double", value: 2 })).toBeUndefined();
    expect(readTyped({ address: "A1", formula: true, valueType: "Boolean", value: true })).toBeUndefined();
  });

  it("maps a code over a consolidated cell to its spread, and over a leaf to a value as TM1 applies it", () => {
    const total = snap(30, true);
    expect(entryForCode(cellCode("P100"), total)).toEqual({ ok: true, value: 100, spread: { method: "P", action: "replace" } });
    expect(entryForCode(cellCode("S+200"), total)).toEqual({ ok: true, value: 200, spread: { method: "S", action: "add" } });
    expect(entryForCode(cellCode("LS*50"), total)).toEqual({ ok: true, value: 50, spread: { method: "LS", action: "replace", includeEmpty: true } });
    expect(entryForCode(cellCode("LR~5"), total)).toEqual({ ok: true, value: 5, spread: { method: "LR", action: "subtract", includeEmpty: false } });
    expect(entryForCode(cellCode("R12"), total)).toEqual({ ok: true, value: 12, spread: { method: "R", action: "replace" } });
    expect(entryForCode(cellCode("P%+10"), total)).toEqual({ ok: true, value: 10, spread: { method: "P%", action: "add" } });
    expect(entryForCode(cellCode("RP100"), total)).toEqual({ ok: true, value: 100, spread: { method: "RP", action: "replace" } });
    expect(entryForCode(cellCode("R%+20"), total)).toEqual({ ok: true, value: 20, spread: { method: "R%", action: "add" } });
    expect(entryForCode(cellCode("C"), total)).toEqual({ ok: true, value: null, spread: { method: "C", action: "replace" } });

    const leaf = snap(10, false);
    expect(entryForCode(cellCode("P100"), leaf)).toEqual({ ok: true, value: 100 });
    expect(entryForCode(cellCode("S+200"), leaf)).toEqual({ ok: true, value: 210 });
    expect(entryForCode(cellCode("R~4"), leaf)).toEqual({ ok: true, value: 6 });
    expect(entryForCode(cellCode("P%+10"), leaf)).toEqual({ ok: true, value: 11 });
    expect(entryForCode(cellCode("P%~5"), leaf)).toEqual({ ok: true, value: 9.5 });
    expect(entryForCode(cellCode("P%50"), leaf)).toEqual({ ok: true, value: 5 });
    expect(entryForCode(cellCode("P%+10"), snap(null, false))).toEqual({ ok: true, value: null }); // empty stays empty
    expect(entryForCode(cellCode("S+5"), snap(null, false))).toEqual({ ok: true, value: 5 });
    expect(entryForCode(cellCode("C"), leaf)).toEqual({ ok: true, value: null });
    expect(entryForCode(cellCode("RP100"), leaf)).toEqual({ ok: true, value: 100 });
    expect(entryForCode(cellCode("R%+20"), leaf)).toMatchObject({ ok: false, message: expect.stringMatching(/R%.*leaf cell/) });
  });

  it("sends the proto's Spread: method, action, include_empty, percent, reference; no value for C and percentages", () => {
    const s = (method: "P" | "LS" | "P%" | "RP" | "C", action: "replace" | "add" | "subtract" = "replace", includeEmpty = false, reference: string[] = []) => ({ method, action, includeEmpty, reference });
    expect(toProtoSpread(s("P"), 100)).toEqual({ method: SpreadMethod.PROPORTIONAL, action: DataAction.REPLACE, includeEmpty: false, percent: 0, reference: [] });
    expect(toProtoSpread(s("LS", "add", true), 50)).toEqual({ method: SpreadMethod.EQUAL_LEAVES, action: DataAction.ADD, includeEmpty: true, percent: 0, reference: [] });
    expect(toProtoSpread(s("P%", "subtract"), 5)).toMatchObject({ method: SpreadMethod.PERCENT_CHANGE, action: DataAction.SUBTRACT, percent: 5 });
    expect(toProtoSpread(s("RP", "replace", false, [" [Scenario].[Actual] ", ""]), 100)).toMatchObject({ method: SpreadMethod.RELATIVE_PROPORTIONAL, reference: ["[Scenario].[Actual]"] });
    expect(toProtoSpread(s("C"), null)).toMatchObject({ method: SpreadMethod.CLEAR });
    expect(wireValue(100, s("P"))).toBe(100);
    expect(wireValue(10, s("P%"))).toBeUndefined();
    expect(wireValue(null, s("C"))).toBeUndefined();
    expect(wireValue(null, undefined)).toBeUndefined();
    expect(spreadCodeText(s("P"), 500)).toBe("500");
    expect(spreadCodeText(s("P%", "add"), 10)).toBe("P%+10");
    expect(spreadCodeText(s("LS", "subtract", true), 50)).toBe("LS~*50");
    expect(spreadCodeText(s("C"), null)).toBe("C");
    expect(splitMembers(" [Scenario].[Actual], [Customers].[Smith, Ann] ,Q1,")).toEqual(["[Scenario].[Actual]", "[Customers].[Smith, Ann]", "Q1"]);
  });
});
