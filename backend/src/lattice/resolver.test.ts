/**
 * The resolver's bounds on hostile text: long text and long names are INVALID_ADDRESS before any
 * lookup, messages repeat at most a short piece of the text, and the closest-name search compares
 * a bounded number of names however large the cube.
 */
import { MAX_MEMBER_TEXT_LENGTH, MAX_NAME_LENGTH } from "../../../common/limits";
import { Dimension } from "./dimension";
import type { DimensionDef } from "./model";
import { closestNames, MAX_CLOSEST_COMPARED, Resolver, type SearchAllowance } from "./resolver";

const region: DimensionDef = {
  name: "Region",
  levels: ["(All)", "Area", "City"],
  hasAll: true,
  members: [
    { name: "All Regions", parent: -1, level: 0 },
    { name: "North", parent: 0, level: 1 },
    { name: "Oslo", parent: 1, level: 2 },
    { name: "Bergen", parent: 1, level: 2 },
    { name: "South", parent: 0, level: 1 },
    { name: "Rome", parent: 4, level: 2 },
  ],
};

/** A flat dimension of `n` members named `m0` … `m{n-1}` under one All member. */
function flat(n: number): Dimension {
  const members = [{ name: "All", parent: -1, level: 0 }];
  for (let i = 0; i < n; i++) members.push({ name: `m${i}`, parent: 0, level: 1 });
  return new Dimension({ name: "Flat", levels: ["(All)", "Member"], hasAll: true, members });
}

describe("Resolver on hostile text", () => {
  const resolver = new Resolver([new Dimension(region)]);

  it("refuses text over MAX_MEMBER_TEXT_LENGTH, and a part over MAX_NAME_LENGTH, with short messages", () => {
    const huge = "x".repeat(100_000);
    for (const [text, pattern] of [
      [huge, /has 100000 characters; the limit is 4096 \(MAX_MEMBER_TEXT_LENGTH\)$/],
      ["y".repeat(MAX_NAME_LENGTH + 1), /part 1 is a name of 257 characters; the limit is 256 \(MAX_NAME_LENGTH\)$/],
      [`[Region].[North].[${"z".repeat(300)}]`, /part 3 is a name of 300 characters; the limit is 256 \(MAX_NAME_LENGTH\)$/],
      [`[Region].[${"a".repeat(1000)}`, /unbalanced "\["/],
    ] as const) {
      const r = resolver.member(text);
      expect(r).toMatchObject({ code: "INVALID_ADDRESS", candidates: [] });
      expect("message" in r && r.message).toMatch(pattern);
      expect(("message" in r && r.message.length) || 0).toBeLessThan(400);
    }
    expect(resolver.member(`[Region].[North].[${"z".repeat(MAX_NAME_LENGTH)}]`)).toMatchObject({ code: "UNKNOWN_MEMBER" });
    expect(resolver.member("o".repeat(MAX_MEMBER_TEXT_LENGTH))).toMatchObject({ code: "INVALID_ADDRESS" });
  });

  it("still lists the closest names of an unknown member, nearest first", () => {
    expect(resolver.member("[Region].[North].[Olso]")).toMatchObject({ code: "UNKNOWN_MEMBER", candidates: ["[Region].[North].[Oslo]"] });
    expect(resolver.member("Rom")).toMatchObject({ code: "UNKNOWN_MEMBER", candidates: ["[Region].[South].[Rome]"] });
  });

  it("looks at most at MAX_CLOSEST_COMPARED members, however many there are", () => {
    const dim = flat(MAX_CLOSEST_COMPARED + 20_000);
    let visited = 0;
    let compared = 0;
    const t0 = performance.now();
    const out = closestNames("m1234", [dim], (visit) => {
      for (let id = 1; id < dim.size; id++) {
        visited++;
        if (dim.names[id].length <= 7) compared++;
        if (!visit(0, id)) return;
      }
    });
    console.log(`closest names over ${dim.size} members: ${visited} looked at, ${compared} of similar length, ${(performance.now() - t0).toFixed(1)} ms`);
    expect(visited).toBe(MAX_CLOSEST_COMPARED);
    expect(out[0]).toBe("[Flat].[m1234]");
    expect(out).toHaveLength(5);
    expect(closestNames("q".repeat(MAX_NAME_LENGTH + 1), [dim], () => {
      throw new Error("not searched");
    })).toEqual([]);
  });

  it("skips closest-name searches once the allowance is spent, caches nothing it skipped, and searches again as it refills", () => {
    let now = 0;
    const allowance: SearchAllowance = { capacity: 25_000, perSecond: 10_000, now: () => now };
    const big = new Resolver([new Dimension(region), flat(20_000)], allowance);
    const first = big.member("m123x");
    expect(first).toMatchObject({ code: "UNKNOWN_MEMBER" });
    expect("candidates" in first && first.candidates[0]).toBe("[Flat].[m123]");
    // 20,006 members looked at; 4,994 left: the next search is cut short, the one after skipped
    for (const text of ["m124x", "m125x"]) {
      const r = big.member(text);
      expect(r).toMatchObject({ code: "UNKNOWN_MEMBER" });
    }
    const skipped = big.member("m126x");
    expect(skipped).toMatchObject({ code: "UNKNOWN_MEMBER", candidates: [] });
    expect("message" in skipped && skipped.message).toMatch(/closest names not searched: too many unknown names were looked up just now\)$/);
    now += 2_500; // 25,000 members' worth refilled
    expect(big.member("m126x")).toMatchObject({ code: "UNKNOWN_MEMBER", candidates: ["[Flat].[m126]", "[Flat].[m1260]", "[Flat].[m1261]", "[Flat].[m1262]", "[Flat].[m1263]"] });
    // a complete result is cached: no allowance spent on it again
    expect(big.member("m123x")).toBe(first);
  });
});
