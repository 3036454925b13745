import type { TransactionChanges } from "../store/types";
import { undoLeaves } from "./undo";

/** Changes of a 2-dimension cube: [coords, old, new, version] each. */
function changes(list: [number, number, number | null, number | null, number][]): TransactionChanges {
  return {
    count: list.length,
    dims: 2,
    coords: Int32Array.from(list.flatMap((c) => c.slice(0, 2))),
    oldValues: Float64Array.from(list.map((c) => c[2] ?? Number.NaN)),
    newValues: Float64Array.from(list.map((c) => c[3] ?? Number.NaN)),
    versions: Float64Array.from(list.map((c) => c[4])),
  };
}

describe("undoLeaves", () => {
  // Rows by coordinates: any injective map stands for the leaf store's.
  const rowOf = (c: Int32Array) => c[0] * 100 + c[1];

  it("restores a leaf changed twice in one transaction to its value before the first change, checked against the last version", () => {
    const leaves = undoLeaves(
      changes([
        [1, 2, 5, 6, 10],
        [3, 4, null, 7, 11],
        [1, 2, 6, 8, 12],
        [5, 6, 9, null, 13],
        [1, 2, 8, 1, 14],
      ]),
      rowOf,
    );
    expect(leaves.map((l) => ({ coords: Array.from(l.coords), restore: l.restore, version: l.version }))).toEqual([
      { coords: [1, 2], restore: 5, version: 14 },
      { coords: [3, 4], restore: null, version: 11 },
      { coords: [5, 6], restore: 9, version: 13 },
    ]);
  });

  it("refuses a leaf the lattice has no row for", () => {
    expect(() => undoLeaves(changes([[1, 2, 5, 6, 10]]), () => -1)).toThrow("leaf 0 of the transaction is not in the lattice");
  });
});
