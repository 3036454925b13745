import { bracket, escapeName, joinUniqueName, type NameErrorCode, parseUniqueName, readBracketed } from "./names";

describe("escaping", () => {
  it("doubles ] inside brackets and joins parts", () => {
    expect(escapeName("a]b]")).toBe("a]]b]]");
    expect(bracket("Q1")).toBe("[Q1]");
    expect(joinUniqueName(["Store", "a]b", "CA"])).toBe("[Store].[a]]b].[CA]");
  });
  it("round-trips through the parser", () => {
    const parts = ["Store", "a]]b", " x ", "St. Louis", "[y]"];
    expect(parseUniqueName(joinUniqueName(parts))).toEqual({ ok: true, parts });
    expect(parseUniqueName(joinUniqueName(parts), { bareNames: "dotted" })).toEqual({ ok: true, parts });
  });
});

describe("readBracketed", () => {
  it("reads one segment at a position and returns the index after it", () => {
    expect(readBracketed("x + [a]]b].[c]", 4)).toEqual({ ok: true, name: "a]b", end: 10 });
    expect(readBracketed("[]", 0)).toEqual({ ok: true, name: "", end: 2 });
  });
  it("names the unclosed bracket, or a missing one", () => {
    expect(readBracketed("1 + [A", 4)).toMatchObject({ ok: false, code: "UNCLOSED", position: 4, message: 'unbalanced "[" at character 5 (no closing "]")' });
    expect(readBracketed("[a]]", 0)).toMatchObject({ ok: false, code: "UNCLOSED", position: 0 });
    expect(readBracketed("A", 0)).toMatchObject({ ok: false, code: "EXPECTED_OPEN", position: 0 });
  });
});

describe("parseUniqueName, bare names whole (the resolver)", () => {
  it.each<[string, string[]]>([
    ["[Store].[USA].[CA]", ["Store", "USA", "CA"]],
    ["  [Store].[USA]  ", ["Store", "USA"]],
    ["CA", ["CA"]],
    [" St. Louis ", ["St. Louis"]],
    ["[a]]b]", ["a]b"]],
    ["[ x ]", [" x "]],
  ])("%j", (text, parts) => {
    expect(parseUniqueName(text)).toEqual({ ok: true, parts });
  });

  it.each<[string, NameErrorCode, number, string]>([
    ["", "EMPTY", 0, "the member name is empty"],
    ["   ", "EMPTY", 0, "the member name is empty"],
    ["CA]", "MIXED", 2, '"CA]" mixes bare text with brackets (at character 3)'],
    ["[Store].[USA", "UNCLOSED", 8, '"[Store].[USA": unbalanced "[" at character 9 (no closing "]")'],
    [" [Store].[USA", "UNCLOSED", 9, '" [Store].[USA": unbalanced "[" at character 10 (no closing "]")'],
    ["[Store].[ ]", "EMPTY_NAME", 8, '"[Store].[ ]": empty name in brackets at character 9'],
    ["[Store].USA", "EXPECTED_OPEN", 8, '"[Store].USA": expected "[" at character 9'],
    ["[Store]x", "EXPECTED_DOT", 7, '"[Store]x": expected "." at character 8'],
    ["[Store].", "ENDS_WITH_DOT", 8, '"[Store].": ends with "." (character 8)'],
  ])("%j is %s at %i", (text, code, position, message) => {
    expect(parseUniqueName(text)).toEqual({ ok: false, code, position, message });
  });
});

describe("parseUniqueName, dotted bare names (the loader)", () => {
  it.each<[string, string[]]>([
    ["[Time].[1997].[Q1]", ["Time", "1997", "Q1"]],
    ["Time.1997", ["Time", "1997"]],
    ["[Time]. 1997 ", ["Time", "1997"]],
    ["Time.[a]]b]", ["Time", "a]b"]],
  ])("%j", (text, parts) => {
    expect(parseUniqueName(text, { bareNames: "dotted" })).toEqual({ ok: true, parts });
  });

  it.each<[string, NameErrorCode, number]>([
    ["[Time", "UNCLOSED", 0],
    ["Time..Q1", "BAD_BARE_NAME", 5],
    ["Time.Q1]", "BAD_BARE_NAME", 5],
    ["Time.", "ENDS_WITH_DOT", 5],
    ["[Time] .Q1", "EXPECTED_DOT", 6],
  ])("%j is %s at %i", (text, code, position) => {
    expect(parseUniqueName(text, { bareNames: "dotted" })).toMatchObject({ ok: false, code, position });
  });
});
