import { Cube } from "./cube";
import { parseMemberName } from "./dimension";
import type { CubeDef, DimensionDef, LeafCells } from "./model";
import { mulberry32 as rng } from "../../../bench/rng";
import { leafSource } from "./evaluate/batch";
import { evaluateNarrow } from "./evaluate/narrow";
import { LeafStore } from "./leaf-store";
import { randomDim, weightedSum } from "../../../bench/random-cube";

/** Region: All > {North > {N1, N2}, South (a ragged leaf at depth 1), East > Metro > {E1}}. */
const region: DimensionDef = {
  name: "Region",
  levels: ["(All)", "Area", "District", "City"],
  hasAll: true,
  members: [
    { name: "All Regions", parent: -1, level: 0 }, // 0
    { name: "North", parent: 0, level: 1 }, // 1
    { name: "N1", parent: 1, level: 2 }, // 2
    { name: "N2", parent: 1, level: 2 }, // 3
    { name: "South", parent: 0, level: 1 }, // 4 (leaf at depth 1)
    { name: "East", parent: 0, level: 1 }, // 5
    { name: "Metro", parent: 5, level: 2 }, // 6
    { name: "E1", parent: 6, level: 3 }, // 7
  ],
};

/** Account: Net = Revenue - Cost, Cost = Material + Labour (weights -1). */
const account: DimensionDef = {
  name: "Account",
  levels: ["Total", "Group", "Line"],
  hasAll: false,
  members: [
    { name: "Net", parent: -1, level: 0 }, // 0
    { name: "Revenue", parent: 0, level: 1 }, // 1
    { name: "Cost", parent: 0, level: 1, weight: -1 }, // 2
    { name: "Material", parent: 2, level: 2 }, // 3
    { name: "Labour", parent: 2, level: 2 }, // 4
    { name: "Headcount", parent: -1, level: 0 }, // 5 (second root, leaf)
  ],
};

const scenario: DimensionDef = {
  name: "Scenario",
  levels: ["Scenario"],
  hasAll: false,
  defaultMember: "[Scenario].[Actual]",
  members: [
    { name: "Actual", parent: -1, level: 0 },
    { name: "Plan", parent: -1, level: 0 },
  ],
};

const def: CubeDef = { name: "Test", dimensions: [region, account, scenario] };

function cellsOf(rows: [number, number, number, number][]): LeafCells {
  return {
    count: rows.length,
    coords: [0, 1, 2].map((d) => Int32Array.from(rows.map((r) => r[d]))),
    values: Float64Array.from(rows.map((r) => r[3])),
  };
}

const rows: [number, number, number, number][] = [
  [2, 1, 0, 100], // N1 Revenue Actual
  [2, 3, 0, 30], // N1 Material Actual
  [3, 1, 0, 50], // N2 Revenue
  [3, 4, 0, 20], // N2 Labour
  [4, 1, 0, 70], // South Revenue
  [7, 1, 0, 10], // E1 Revenue
  [7, 3, 1, 5], // E1 Material Plan
];

function value(cube: Cube, members: string[]): number | null {
  const c = cube.resolve(members);
  if (!(c instanceof Int32Array)) throw new Error(c.message);
  return cube.getCells([c])[0].value;
}

describe("parseMemberName", () => {
  it("splits bracketed paths and unescapes ]]", () => {
    expect(parseMemberName("[Store].[USA].[CA]")).toEqual(["Store", "USA", "CA"]);
    expect(parseMemberName("CA")).toEqual(["CA"]);
    expect(parseMemberName("[a]]b]")).toEqual(["a]b"]);
  });
  it("reports malformed names", () => {
    expect(parseMemberName("[Store].[USA")).toMatch(/unbalanced/);
    expect(parseMemberName("")).toMatch(/empty/);
    expect(parseMemberName("[Store].")).toMatch(/ends with/);
    expect(parseMemberName("[Store]x")).toMatch(/expected "\."/);
  });
});

describe("Cube", () => {
  const cube = new Cube(def, cellsOf(rows));

  it("reads leaf cells and empty cells", () => {
    expect(value(cube, ["[Region].[North].[N1]", "[Account].[Net].[Revenue]"])).toBe(100);
    expect(value(cube, ["N1", "Labour"])).toBeNull();
  });

  it("consolidates with weights, ragged leaves and defaults", () => {
    // Net for N1 = 100 - 30
    expect(value(cube, ["N1", "Net"])).toBe(70);
    // All regions, Net, Actual: revenue 230 - cost 50
    expect(value(cube, ["[Account].[Net]"])).toBe(180);
    expect(value(cube, ["Cost"])).toBe(50);
    expect(value(cube, ["South", "Net"])).toBe(70);
    expect(value(cube, ["East", "Net", "Plan"])).toBe(-5);
    expect(value(cube, ["[Region].[All Regions].[North]", "Revenue"])).toBe(150);
    expect(value(cube, ["Headcount"])).toBeNull();
  });

  it("gives per-cell errors for unknown, ambiguous and duplicate members", () => {
    const unknown = cube.resolve(["[Region].[North].[N3]"]);
    expect(unknown).toMatchObject({ code: "UNKNOWN_MEMBER" });
    expect((unknown as { message: string }).message).toMatch(/Region.*N3.*\[Region\]\.\[North\]\.\[N1\]/);
    const dup = cube.resolve(["N1", "N2"]);
    expect(dup).toMatchObject({ code: "DUPLICATE_DIMENSION" });
    const bad = cube.resolve(["[Region].[North"]);
    expect(bad).toMatchObject({ code: "INVALID_ADDRESS" });
  });

  it("resolves among visible members only: a hidden member reads as one that does not exist", () => {
    // Hide East (and so Metro and E1 below it) and Labour.
    const hidden = new Set(["0:5", "0:6", "0:7", "1:4"]);
    const visible = (d: number, id: number) => !hidden.has(`${d}:${id}`);
    expect(cube.resolve(["N1", "Revenue"], visible)).toBeInstanceOf(Int32Array);
    const east = cube.resolve(["[Region].[East]"], visible) as { code: string; message: string; candidates: string[] };
    const nowhere = cube.resolve(["[Region].[Eest]"], visible) as { code: string; message: string; candidates: string[] };
    expect(east.code).toBe("UNKNOWN_MEMBER");
    expect(east.message).toBe('unknown member [Region].[East]: dimension Region has no member "East" at the top of dimension Region');
    // A typo near East suggests it to someone who sees it, never to someone who does not.
    expect((cube.resolve(["[Region].[Eest]"]) as { candidates: string[] }).candidates).toContain("[Region].[East]");
    expect(nowhere.message).not.toMatch(/\[Region\]\.\[East\]/);
    expect(east.candidates).not.toContain("[Region].[East]");
    // Below a hidden member, and by bare name: the same, and hidden names are never candidates.
    expect(cube.resolve(["[Region].[East].[Metro].[E1]"], visible)).toMatchObject({ code: "UNKNOWN_MEMBER" });
    const bare = cube.resolve(["E1"], visible) as { message: string; candidates: string[] };
    expect(bare.message).toMatch(/no member of the cube is named "E1"/);
    expect(bare.candidates.join()).not.toMatch(/E1|East|Metro/);
    expect(cube.resolve(["Labour"], visible)).toMatchObject({ code: "UNKNOWN_MEMBER" });
    // The unfiltered resolution (cached) is unchanged.
    expect(cube.resolve(["E1"])).toBeInstanceOf(Int32Array);
    // A dimension left out, or named alone, takes its default member even when hidden.
    const noActual = (d: number, id: number) => !(d === 2 && id === 0);
    expect(Array.from(cube.resolve(["N1"], noActual) as Int32Array)).toEqual([2, 0, 0]);
    expect(Array.from(cube.resolve(["N1", "[Scenario]"], noActual) as Int32Array)).toEqual([2, 0, 0]);
    expect(cube.resolve(["Actual"], noActual)).toMatchObject({ code: "UNKNOWN_MEMBER" });
    // A hidden All member hides the whole dimension.
    expect(cube.resolve(["[Region].[All Regions].[North]"], (d, id) => !(d === 0 && id === 0))).toMatchObject({ code: "UNKNOWN_MEMBER" });
  });


  /** Region beside a dimension Other whose member North has the same bare name as [Region].[North]; no cells. */
  function regionAndOtherNorth(): Cube {
    const amb: DimensionDef = {
      name: "Other",
      levels: ["(All)", "X"],
      hasAll: true,
      members: [
        { name: "All Other", parent: -1, level: 0 },
        { name: "North", parent: 0, level: 1 },
      ],
    };
    return new Cube({ name: "T2", dimensions: [region, amb] }, { count: 0, coords: [new Int32Array(0), new Int32Array(0)], values: new Float64Array(0) });
  }

  it("makes a bare name unambiguous when all but one of its members are hidden", () => {
    const c2 = regionAndOtherNorth();
    const r = c2.resolve(["North"], (d, id) => !(d === 1 && id === 1));
    expect(Array.from(r as Int32Array)).toEqual([1, 0]);
  });

  it("reports an ambiguous bare name with its candidates", () => {
    const c2 = regionAndOtherNorth();
    const r = c2.resolve(["North"]);
    expect(r).toMatchObject({ code: "AMBIGUOUS_MEMBER", candidates: ["[Region].[North]", "[Other].[North]"] });
    expect(c2.resolve(["[Other].[North]"])).toBeInstanceOf(Int32Array);
  });

  it("streams changes to watched leaf and consolidated cells, and versions totals", () => {
    const c = new Cube(def, cellsOf(rows));
    const addrs = [["N1", "Revenue"], ["Net"], ["North", "Net", "Plan"], ["South", "Revenue"]].map((m) => c.resolve(m) as Int32Array);
    const seen: number[][] = [];
    const w = c.watch(addrs, (idx) => seen.push(idx));
    expect(w.states().map((s) => s.value)).toEqual([100, 180, null, 70]);
    c.applyChanges([{ coords: [2, 3, 0], value: 40, version: 7, writer: { user: "ann", at: 1 } }]);
    expect(seen).toEqual([[1]]);
    expect(w.states([1])[0]).toEqual({ value: 170, version: 7 });
    c.applyChanges([{ coords: [2, 1, 1], value: 9, version: 8, writer: { user: "bob", at: 2 } }]);
    expect(seen[1]).toEqual([2]);
    expect(w.states([2])[0]).toEqual({ value: 9, version: 8 });
    // the consolidated read agrees with the watched state, version included
    const read = c.getCells([addrs[1], addrs[2]]);
    expect(read).toEqual([
      { value: 170, version: 7 },
      { value: 9, version: 8 },
    ]);
    // clearing makes the total empty again but keeps the newer version
    c.applyChanges([{ coords: [2, 1, 1], value: null, version: 9, writer: { user: "bob", at: 3 } }]);
    expect(w.states([2])[0]).toEqual({ value: null, version: 9 });
    expect(c.getCells([addrs[2]])[0]).toEqual({ value: null, version: 9 });
    expect(c.leafState([2, 1, 1])).toEqual({ value: null, version: 9, writer: { user: "bob", at: 3 } });
    w.close();
    expect(c.watchedCellCount()).toBe(0);
  });
});

function depthOf(members: DimensionDef["members"], m: number): number {
  let d = 0;
  for (let p = members[m].parent; p >= 0; p = members[p].parent) d++;
  return d;
}

/**
 * A random cube of ragged, weighted dimensions (three of 40, 25 and 12 members, or `sizes`), about
 * `rows` distinct leaf rows, and a brute-force evaluator.
 */
function randomCube(seed: number, sizes: number[] = [40, 25, 12], rows = 600) {
  const rand = rng(seed);
  const dims = sizes.map((n, d) => randomDim(String.fromCharCode(65 + d), rand, n));
  const nd = dims.length;
  const leaves = dims.map((d) => d.members.map((_, i) => i).filter((i) => !d.members.some((m) => m.parent === i)));
  const seen = new Set<string>();
  const rowsR: number[][] = [];
  for (let k = 0; k < rows; k++) {
    const c = leaves.map((l) => l[Math.floor(rand() * l.length)]);
    const key = c.join(",");
    if (seen.has(key)) continue;
    seen.add(key);
    rowsR.push([...c, Math.round(rand() * 10000) / 100]);
  }
  const cells: LeafCells = {
    count: rowsR.length,
    coords: dims.map((_, d) => Int32Array.from(rowsR.map((r) => r[d]))),
    values: Float64Array.from(rowsR.map((r) => r[nd])),
  };
  const cube = new Cube({ name: "R", dimensions: dims }, cells);
  /** The weighted sum over the current rows, or null when no row lies below the address. */
  const brute = (addr: number[]): number | null => weightedSum(dims, rowsR, addr);
  const check = (batch: Int32Array[]) => {
    const got = cube.getCells(batch);
    batch.forEach((addr, i) => {
      const want = brute(Array.from(addr));
      if (want === null) expect(got[i].value).toBeNull();
      else expect(got[i].value).toBeCloseTo(want, 6);
    });
  };
  /** Applies `n` random writes (some clearing cells) to the cube and to the brute-force rows. */
  const writeRandom = (n: number, firstVersion: number) => {
    for (let k = 0; k < n; k++) {
      const c = leaves.map((l) => l[Math.floor(rand() * l.length)]);
      const v = rand() < 0.2 ? null : Math.round(rand() * 5000) / 100;
      const existing = rowsR.find((r) => c.every((x, d) => r[d] === x));
      if (existing) {
        if (v === null) rowsR.splice(rowsR.indexOf(existing), 1);
        else existing[nd] = v;
      } else if (v !== null) rowsR.push([...c, v]);
      cube.applyChanges([{ coords: c, value: v, version: firstVersion + k, writer: { user: "t", at: 0 } }]);
    }
  };
  return { rand, dims, cube, check, writeRandom, rows: rowsR, brute };
}

describe("consolidation against brute force", () => {
  it("matches a direct weighted sum for random batches, before and after writes", () => {
    const { rand, dims, cube, check, writeRandom } = randomCube(42);
    const batch = Array.from({ length: 400 }, () => Int32Array.from(dims.map((d) => Math.floor(rand() * d.members.length))));
    check(batch);
    const watch = cube.watch(batch, () => {});
    writeRandom(50, 100);
    check(batch);
    // the incrementally maintained watch states agree with a fresh computation
    const fresh = cube.getCells(batch);
    watch.states().forEach((s, i) => {
      if (fresh[i].value === null) expect(s.value).toBeNull();
      else expect(s.value).toBeCloseTo(fresh[i].value!, 6);
      expect(s.version).toBe(fresh[i].version);
    });
  });

  it("computes scattered cells in the narrow candidate pass like a direct sum, before and after writes", () => {
    const { rand, dims, cube, check, writeRandom, rows, brute } = randomCube(11, [90, 60, 30, 14], 9000);
    // Cells at every depth, most of them deep in some dimension: what a scattered batch asks.
    const batch = Array.from({ length: 300 }, () => Int32Array.from(dims.map((d) => Math.floor(rand() * d.members.length))));
    const consolidated = batch.map((_, i) => i).filter((i) => batch[i].some((m, d) => cube.dims[d].children[m].length > 0));
    expect(rows.length).toBeGreaterThan(4096);
    const narrowPass = () => {
      const store = LeafStore.from(
        {
          count: rows.length,
          coords: dims.map((_, d) => Int32Array.from(rows.map((r) => r[d]))),
          values: Float64Array.from(rows.map((r) => r[dims.length])),
        },
        cube.dims.map((d) => d.size),
      );
      const out = { values: new Float64Array(batch.length), counts: new Float64Array(batch.length), versions: new Float64Array(batch.length) };
      evaluateNarrow(cube.dims, leafSource(cube.dims, store), batch, consolidated, out);
      for (const i of consolidated) {
        const want = brute(Array.from(batch[i]));
        if (want === null) expect(out.counts[i]).toBe(0);
        else expect(out.values[i]).toBeCloseTo(want, 6);
      }
    };
    narrowPass();
    check(batch);
    writeRandom(200, 5000);
    narrowPass();
    check(batch);
  });

  it("serves from rollups (pre-aggregated rows) kept current by writes", () => {
    const { rand, dims, cube, check, writeRandom } = randomCube(7);
    Object.assign(cube.rollupPolicy, { minRows: 0, maxRollups: 4, maxRowsFraction: 1 });
    // batches whose members stop at a given depth, so that each asks for a rollup at those depths
    const atMostDepth = (depth: number) =>
      Array.from({ length: 150 }, () =>
        Int32Array.from(
          dims.map((d) => {
            const ok = d.members.map((_, i) => i).filter((i) => depthOf(d.members, i) <= depth);
            return ok[Math.floor(rand() * ok.length)];
          }),
        ),
      );
    const batches = [atMostDepth(1), atMostDepth(2)];
    let version = 1000;
    for (let round = 0; round < 3; round++) {
      for (const b of batches) {
        check(b);
        check(b);
      }
      writeRandom(30, version);
      version += 30;
    }
    expect(cube.stats.rollupBuilds).toBeGreaterThan(0);
    expect(cube.rollups.length).toBeGreaterThan(0);
    for (const b of batches) check(b);
  });
});
