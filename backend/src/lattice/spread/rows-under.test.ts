/**
 * rowsUnder, a spread plan's scan for the stored rows under a cell, against a brute-force check of
 * every row's members up their parents, on random ragged hierarchies: targets consolidated on some
 * dimensions and leaves on others, on all dimensions, or the top cell (ranges over every leaf,
 * which the scan does not check).
 */
import { mulberry32 } from "../../../../bench/rng";
import { randomDim, weightTo } from "../../../../bench/random-cube";
import { allSteps } from "../steps";
import { Cube } from "../cube";
import type { CubeDef } from "../model";
import { rowsUnder } from "./rows-under";

describe("rowsUnder", () => {
  it("finds exactly the stored rows under random cells, in row order", () => {
    const rand = mulberry32(4242);
    for (let trial = 0; trial < 12; trial++) {
      const def: CubeDef = { name: "R", dimensions: [randomDim("A", rand, 40), randomDim("B", rand, 300), randomDim("C", rand, 7)] };
      const leaves = def.dimensions.map((dim) => dim.members.map((_, i) => i).filter((i) => !dim.members.some((m) => m.parent === i)));
      const seen = new Set<string>();
      const coords: number[][] = def.dimensions.map(() => []);
      const values: number[] = [];
      for (let i = 0; i < 3000; i++) {
        const row = leaves.map((ls) => ls[Math.floor(rand() * ls.length)]);
        if (seen.has(row.join())) continue;
        seen.add(row.join());
        for (let d = 0; d < row.length; d++) coords[d].push(row[d]);
        values.push(rand());
      }
      const cube = new Cube(def, { count: values.length, coords: coords.map((c) => Int32Array.from(c)), values: Float64Array.from(values) });
      for (let t = 0; t < 20; t++) {
        // Each dimension: its top (t === 0), a leaf, or any member.
        const target = Int32Array.from(def.dimensions, (dim, d) => (t === 0 ? 0 : rand() < 0.3 ? leaves[d][Math.floor(rand() * leaves[d].length)] : Math.floor(rand() * dim.members.length)));
        const fixed: number[] = [];
        const ranges: { d: number; lo: number; hi: number }[] = [];
        cube.dims.forEach((dim, d) => {
          if (dim.isLeaf(target[d])) fixed.push(d);
          else ranges.push({ d, lo: dim.leafLo[target[d]], hi: dim.leafHi[target[d]] });
        });
        const want: number[] = [];
        for (let r = 0; r < cube.store.count; r++) {
          if (def.dimensions.every((dim, d) => weightTo(dim, cube.store.cols[d][r], target[d]) !== null)) want.push(r);
        }
        expect(Array.from(allSteps(rowsUnder(cube.store, cube.dims, target, ranges, fixed)))).toEqual(want);
      }
    }
  });
});
