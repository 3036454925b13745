/**
 * applyColumnsNewer (apply.ts): committed leaf changes as columns go into the lattice only where
 * they are newer than the lattice's version, whether the planned store row still holds the cell,
 * points at another cell, or the cell is new; watched totals move once with them.
 */
import { Cube, type CubeDef } from "../lattice";
import { applyColumnsNewer } from "./apply";

const def: CubeDef = {
  name: "Apply",
  dimensions: [
    {
      name: "A",
      levels: ["(All)", "A"],
      hasAll: true,
      members: [{ name: "All", parent: -1, level: 0 }, ...["a1", "a2", "a3", "a4"].map((name) => ({ name, parent: 0, level: 1 }))],
    },
  ],
};

function served() {
  const cube = new Cube(def, { count: 3, coords: [Int32Array.of(1, 2, 3)], values: Float64Array.of(10, 20, 30) });
  return { id: 1, cube, loadedAt: 0 };
}
const value = (s: ReturnType<typeof served>, m: number) => s.cube.getCells([Int32Array.of(m)])[0];
const writer = { user: "ann", at: 5 };

describe("applyColumnsNewer", () => {
  it("applies the newer changes at their rows, looks up stale rows and new cells, and skips older ones", () => {
    const s = served();
    s.cube.applyChanges([{ coords: Int32Array.of(2), value: 21, version: 50, writer: { user: "bob", at: 1 } }]);
    const rowOf = (m: number) => s.cube.store.find(Int32Array.of(m));
    const changes = {
      count: 4,
      coords: Int32Array.of(1, 2, 3, 4),
      values: Float64Array.of(11, 22, Number.NaN, 44),
      versions: Float64Array.of(60, 40, 61, 62),
      // a1 at its row; a2 (older than the lattice's 50: skipped); a3 with a stale row (a1's); a4 new.
      rows: Int32Array.of(rowOf(1), rowOf(2), rowOf(1), -1),
    };
    expect(applyColumnsNewer(s, changes, writer)).toBe(3);
    expect(value(s, 1)).toMatchObject({ value: 11, version: 60 });
    expect(value(s, 2)).toMatchObject({ value: 21, version: 50 });
    expect(value(s, 3)).toMatchObject({ value: null, version: 61 });
    expect(value(s, 4)).toMatchObject({ value: 44, version: 62 });
    expect(value(s, 0).value).toBe(11 + 21 + 44);
    // Applying the same changes again changes nothing.
    expect(applyColumnsNewer(s, changes, writer)).toBe(0);
  });

  it("moves a watched total once for the whole batch", () => {
    const s = served();
    const seen: number[] = [];
    const watch = s.cube.watch([Int32Array.of(0)], () => seen.push(value(s, 0).value ?? Number.NaN));
    applyColumnsNewer(s, { count: 2, coords: Int32Array.of(1, 3), values: Float64Array.of(1, 2), versions: Float64Array.of(7, 8), rows: Int32Array.of(-1, -1) }, writer);
    expect(seen).toEqual([1 + 20 + 2]);
    watch.close();
  });
});
