/**
 * Applying leaf changes as columns (Cube.applyColumns) leaves a cube exactly as applying the same
 * changes one object at a time (Cube.applyChanges): values and versions at every level (rollups
 * included), each leaf's writer, and what watches are told; the writer table and the leaf store's
 * reserve on their own; rows made in steps before an apply (Cube.prepareRowsSteps) change nothing a
 * reader sees.
 */
import { generateCells, generatedCubeDef } from "../../../bench/generate";
import { mulberry32 } from "../../../bench/rng";
import { Cube } from "./cube";
import { LeafStore } from "./leaf-store";
import type { CellWriter, LeafCells } from "./model";
import { RowWriters } from "./writers";

const def = generatedCubeDef();

function twoCubes(cells: LeafCells): [Cube, Cube, Cube] {
  const copy = (): LeafCells => ({ count: cells.count, coords: cells.coords.map((c) => c.slice()), values: cells.values.slice() });
  const cubes: [Cube, Cube, Cube] = [new Cube(def, copy()), new Cube(def, copy()), new Cube(def, copy())];
  for (const c of cubes) c.rollupPolicy.minRows = 0;
  return cubes;
}

/** Random cells at every level: each dimension's member drawn from all its members. */
function randomCells(cube: Cube, n: number, random: () => number): Int32Array[] {
  return Array.from({ length: n }, () => Int32Array.from(cube.dims, (d) => Math.floor(random() * d.size)));
}

describe("Cube.applyColumns", () => {
  it("leaves the cube as applyChanges does: values and versions at every level, writers, and watch notifications; rows prepared in steps first change nothing before", () => {
    const random = mulberry32(7);
    const cells = generateCells(def, { count: 30_000, seed: 11 });
    const [a, b, p] = twoCubes(cells);
    const probes = randomCells(a, 400, random);
    // Reads first, so that rollups exist and must be kept current by both paths.
    a.getCells(probes);
    b.getCells(probes);
    const seen: number[][][] = [[], []];
    // The top cell (every change is below it) and cells at random levels.
    const watched = [Int32Array.from(a.dims, (d) => d.roots[0]), ...probes.slice(0, 99)];
    a.watch(watched, (ix) => seen[0].push(ix));
    b.watch(watched, (ix) => seen[1].push(ix));

    const nd = a.dims.length;
    const n = 5_000;
    const coords = new Int32Array(n * nd);
    const values = new Float64Array(n);
    const versions = new Float64Array(n);
    const rows = new Int32Array(n);
    const used = new Set<string>();
    for (let k = 0; k < n; k++) {
      let c: Int32Array;
      let r: number;
      do {
        if (random() < 0.7) {
          // an existing leaf (with its row as a plan gives it, or a stale hint now and then)
          r = Math.floor(random() * cells.count);
          c = Int32Array.from(cells.coords, (col) => col[r]);
          if (random() < 0.1) r = (r + 1) % cells.count;
        } else {
          // a new leaf: random leaf members
          c = Int32Array.from(a.dims, (d) => {
            const leaves = [...Array(d.size).keys()].filter((m) => d.isLeaf(m));
            return leaves[Math.floor(random() * leaves.length)];
          });
          r = a.store.find(c);
        }
      } while (used.has(c.join()));
      used.add(c.join());
      coords.set(c, k * nd);
      values[k] = random() < 0.05 ? Number.NaN : Math.round(random() * 1e6) / 100;
      versions[k] = 100 + k;
      rows[k] = r;
    }
    const writer: CellWriter = { user: "ann", at: 1234 };
    a.applyChanges(
      Array.from({ length: n }, (_, k) => ({ coords: coords.subarray(k * nd, (k + 1) * nd), value: values[k] === values[k] ? values[k] : null, version: versions[k], writer })),
    );
    b.applyColumns({ count: n, coords, values, versions, rows: rows.slice() }, writer);

    // The third cube makes the rows first, in steps: between them every cell reads as before
    // (new cells empty), the data version stays and no watch is told; then the same apply.
    const before = p.getCells(probes);
    const dataVersion = p.dataVersion;
    const told: number[][] = [];
    p.watch(watched, (ix) => told.push(ix));
    const prepared = { count: n, coords, values, versions, rows: rows.slice() };
    let steps = 0;
    for (const _ of p.prepareRowsSteps(prepared, 500)) {
      steps++;
      expect(p.getCells(probes)).toEqual(before);
    }
    expect(steps).toBeGreaterThan(5);
    expect(p.dataVersion).toBe(dataVersion);
    expect(told).toEqual([]);
    for (let k = 0; k < n; k++) expect(p.store.rowEquals(prepared.rows[k], coords.subarray(k * nd, (k + 1) * nd))).toBe(true);
    p.applyColumns(prepared, writer);
    expect(p.getCells(probes)).toEqual(a.getCells(probes));
    expect(p.versionStamp()).toBe(a.versionStamp());
    expect(told).toEqual(seen[0]);

    expect(b.getCells(probes)).toEqual(a.getCells(probes));
    expect(b.leafRowCount()).toBe(a.leafRowCount());
    expect(b.writerCount()).toBe(a.writerCount());
    expect(b.versionStamp()).toBe(a.versionStamp());
    for (let k = 0; k < n; k += 7) {
      const c = coords.subarray(k * nd, (k + 1) * nd);
      expect(b.leafState(c)).toEqual(a.leafState(c));
    }
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[0].length).toBeGreaterThan(0);
  });

  it("refuses a change addressed to a consolidated cell, as applyChanges does", () => {
    const [cube] = twoCubes(generateCells(def, { count: 1_000, seed: 3 }));
    const top = Int32Array.from(cube.dims, (d) => d.roots[0]);
    expect(() => cube.applyColumns({ count: 1, coords: top, values: Float64Array.of(1), versions: Float64Array.of(1) }, { user: "x", at: 0 })).toThrow(/consolidated cell/);
  });
});

describe("RowWriters", () => {
  it("keeps one writer per row, one table entry per batch, and counts the rows with a writer", () => {
    const ann = { user: "ann", at: 1 };
    const bob = { user: "bob", at: 2 };
    const w = new RowWriters(new Map([[3, ann]]));
    expect(w.get(3)).toBe(ann);
    expect(w.get(4)).toBeUndefined();
    w.setMany(Int32Array.of(3, 5000, 7), 3, bob);
    expect([w.get(3), w.get(5000), w.get(7)]).toEqual([bob, bob, bob]);
    expect(w.size).toBe(3);
    w.set(8, ann);
    expect(w.get(8)).toBe(ann);
    expect(w.size).toBe(4);
  });
});

describe("LeafStore.reserve", () => {
  it("makes room at once and keeps every row findable", () => {
    const s = new LeafStore(2, 16);
    const rows = Array.from({ length: 40 }, (_, i) => s.findOrAdd([i, i * 2]));
    s.reserve(100_000);
    for (let i = 0; i < 40; i++) expect(s.find([i, i * 2])).toBe(rows[i]);
    for (let i = 40; i < 5_000; i++) s.findOrAdd([i, i * 2]);
    expect(s.count).toBe(5_000);
    expect(s.find([4_999, 9_998])).toBe(4_999);
    expect(s.find([1, 3])).toBe(-1);
  });
});
