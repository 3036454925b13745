import { mulberry32 as rng } from "../../../bench/rng";
import { LeafStore } from "./leaf-store";

/** `n` distinct random cells of 3 dimensions (ids below 200), shuffled. */
function cells(n: number, seed: number): number[][] {
  const rand = rng(seed);
  const seen = new Set<string>();
  const out: number[][] = [];
  while (out.length < n) {
    const c = [0, 1, 2].map(() => Math.floor(rand() * 200));
    if (seen.has(c.join())) continue;
    seen.add(c.join());
    out.push(c);
  }
  return out;
}

const columns = (rows: number[][]) => ({
  count: rows.length,
  coords: [0, 1, 2].map((d) => Int32Array.from(rows.map((r) => r[d]))),
  values: Float64Array.from(rows, (_, i) => i),
});

describe("LeafStore hash index", () => {
  test("a built store finds every row (rows keep their order) and misses absent cells", () => {
    const rows = cells(50_000, 1);
    const s = LeafStore.from(columns(rows));
    const wrong = rows.filter((c, r) => s.find(c) !== r);
    expect(wrong).toEqual([]);
    expect(s.find([200, 0, 0])).toBe(-1);
  });

  test("two rows with the same coordinates are refused, naming both", () => {
    const rows = cells(1000, 2);
    rows[700] = [...rows[123]];
    expect(() => LeafStore.from(columns(rows))).toThrow("leaf cells: rows 123 and 700 have the same coordinates");
  });

  test("findOrAdd through several rehashes and a reserve keeps every row findable, once", () => {
    const rows = cells(40_000, 3);
    const s = new LeafStore(3, 16);
    const added = rows.map((c, i) => {
      const r = s.findOrAdd(c);
      if (i === 20_000) s.reserve(100_000);
      return r;
    });
    expect(added.every((r, i) => r === i)).toBe(true);
    expect(rows.filter((c, i) => s.findOrAdd(c) !== i)).toEqual([]);
    expect(s.count).toBe(rows.length);
  });
});
