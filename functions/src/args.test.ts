/** Argument checks of the QATOM functions, before any request (pure): wrong types are #VALUE! with the argument named. */
import { cubeArg, depthArg, dimensionArg, MAX_MEMBERS, membersArg, nameArg, parentArg } from "./args";

describe("QATOM function arguments", () => {
  it("takes text and whole numbers as names (Excel stores a typed 1997 as a number), and nothing else", () => {
    expect(nameArg(" [Store].[USA] ", "member 1")).toBe("[Store].[USA]");
    expect(nameArg(1997, "member 1")).toBe("1997");
    expect(nameArg(null, "member 1")).toBe("");
    expect(() => nameArg(true, "member 2")).toThrow("member 2 must be text (a name), got boolean true");
    expect(() => nameArg(2.5, "member 2")).toThrow(/member 2 must be text \(a name\), got number 2.5/);
    expect(() => nameArg({}, "member 2")).toThrow(/an error or a non-scalar value/);
    expect(() => nameArg(true, "member 2")).toThrow(expect.objectContaining({ code: "invalidValue" }));
  });

  it("requires a cube and a dimension", () => {
    expect(cubeArg("Sales")).toBe("Sales");
    expect(() => cubeArg("")).toThrow(/cube is required/);
    expect(() => cubeArg(false)).toThrow("cube must be text (a name), got boolean false");
    expect(dimensionArg("Store")).toBe("Store");
    expect(() => dimensionArg(null)).toThrow(/dimension is required/);
  });

  it("flattens member arguments and ranges, skips empty cells, and needs 1 to 64 members", () => {
    expect(membersArg([[["[Measures].[Units]"]], [["a", ""], [null, 1997]]])).toEqual(["[Measures].[Units]", "a", "1997"]);
    expect(() => membersArg([[["", null]]])).toThrow(/give at least one member/);
    expect(membersArg(Array.from({ length: MAX_MEMBERS }, (_, i) => `m${i}`))).toHaveLength(MAX_MEMBERS);
    expect(() => membersArg(Array.from({ length: MAX_MEMBERS + 1 }, (_, i) => `m${i}`))).toThrow(`${MAX_MEMBERS + 1} members; a cell has at most ${MAX_MEMBERS}`);
    expect(() => membersArg([["Sales", true]])).toThrow("member 2 must be text (a name), got boolean true");
  });

  it("refuses names over the server's limits before any request", () => {
    expect(() => cubeArg("c".repeat(257))).toThrow("cube has 257 characters; the limit is 256");
    expect(() => dimensionArg("d".repeat(300))).toThrow(expect.objectContaining({ code: "invalidValue", message: "dimension has 300 characters; the limit is 256" }));
    expect(() => membersArg(["a", "m".repeat(4097)])).toThrow("member 2 has 4097 characters; the limit is 4096");
    expect(() => parentArg("p".repeat(100_000))).toThrow("parent has 100000 characters; the limit is 4096");
    expect(cubeArg("c".repeat(256))).toHaveLength(256);
    expect(membersArg(["m".repeat(4096)])[0]).toHaveLength(4096);
    expect(parentArg(null)).toBe("");
  });

  it("reads QATOM.MEMBERS' depth: omitted is 1, 0 is every level below", () => {
    expect(depthArg(undefined)).toBe(1);
    expect(depthArg("")).toBe(1);
    expect(depthArg(0)).toBe(0);
    expect(depthArg(3)).toBe(3);
    expect(() => depthArg(-1)).toThrow(/depth must be a whole number/);
    expect(() => depthArg(1.5)).toThrow(/got number 1.5/);
  });
});
