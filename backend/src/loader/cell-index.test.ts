/** CellKeyIndex against a Map: random keys up to 2^53 with repeats, grown from a small table. */
import { mulberry32 } from "../../../bench/rng";
import { CellKeyIndex } from "./cell-index";

describe("CellKeyIndex", () => {
  it("gives each key the cell it was first added with, across grows, as a Map does", () => {
    const rand = mulberry32(77);
    const index = new CellKeyIndex(4);
    const map = new Map<number, number>();
    // Small keys (dense, colliding in the low bits), keys past 2^32 and near 2^53, each drawn again often.
    const pool = Array.from({ length: 5000 }, (_, i) =>
      i % 3 === 0 ? i : i % 3 === 1 ? Math.floor(rand() * 2 ** 40) * 4096 : Number.MAX_SAFE_INTEGER - Math.floor(rand() * 1e6),
    );
    let cells = 0;
    for (let n = 0; n < 40_000; n++) {
      const key = pool[Math.floor(rand() * pool.length)];
      const got = index.getOrAdd(key, cells);
      const want = map.get(key);
      if (want === undefined) {
        expect(got).toBe(-1);
        map.set(key, cells++);
      } else {
        expect(got).toBe(want);
      }
    }
    expect(index.count).toBe(map.size);
    expect(map.size).toBeGreaterThan(4000);
  });
});
