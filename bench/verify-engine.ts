/**
 * A randomized check of the lattice's consolidation on batches large enough to take the paths the
 * unit test's small cube does not reach (the narrow-cell pass, several groups per batch, marginals,
 * rollups (pre-aggregated rows) kept current by writes, a cell over the accumulator limit), against a brute-force weighted
 * sum, values and versions, before and after writes. The split over helper threads (0.5M rows and
 * up) is checked by the benchmark itself, against DuckDB. Run: `node bin/run-ts.cjs bench/verify-engine.ts`.
 */
import { Cube } from "../backend/src/lattice";
import type { CubeDef, DimensionDef, LeafCells } from "../backend/src/lattice";
import { weightTo } from "./random-cube";
import { Rng } from "./rng";

/** A random ragged, weighted hierarchy of `size` members. */
function randomDim(name: string, rng: Rng, size: number, fan: number): DimensionDef {
  const members: DimensionDef["members"] = [{ name: `All ${name}`, parent: -1, level: 0 }];
  const depth = [0];
  for (let i = 1; i < size; i++) {
    // Prefer recent parents so the hierarchy gets deep and bushy rather than flat.
    const parent = Math.max(0, i - 1 - rng.int(fan));
    depth.push(depth[parent] + 1);
    const r = rng.float();
    members.push({ name: `${name}${i}`, parent, level: Math.min(depth[i], 5), weight: r < 0.1 ? -1 : r < 0.13 ? 0.5 : 1 });
  }
  return { name, levels: ["(All)", "L1", "L2", "L3", "L4", "L5"], hasAll: true, members };
}

/**
 * Runs the check with the given seed and sizes.
 * @returns the number of cells compared; throws on the first mismatch.
 */
export function verifyEngine(seed = 1, rows = 30_000, cellsPerBatch = 1500, rollups = true): number {
  const rng = new Rng(seed);
  const dims = [randomDim("A", rng, 900, 40), randomDim("B", rng, 700, 25), randomDim("C", rng, 40, 6), randomDim("D", rng, 12, 3)];
  const def: CubeDef = { name: "V", dimensions: dims };
  const leaves = dims.map((d) => {
    const hasChild = new Uint8Array(d.members.length);
    for (const m of d.members) if (m.parent >= 0) hasChild[m.parent] = 1;
    return d.members.map((_, i) => i).filter((i) => !hasChild[i]);
  });
  const seen = new Map<string, number>();
  const data: number[][] = [];
  while (data.length < rows) {
    const c = leaves.map((l) => rng.pick(l));
    const key = c.join(",");
    if (seen.has(key)) continue;
    seen.set(key, data.length);
    data.push([...c, rng.int(1_000_000) / 100, 0]);
  }
  const nd = dims.length;
  const cells: LeafCells = {
    count: data.length,
    coords: dims.map((_, d) => Int32Array.from(data.map((r) => r[d]))),
    values: Float64Array.from(data.map((r) => r[nd])),
  };
  const cube = new Cube(def, cells);
  if (rollups) {
    // Keep rollups even on this small cube, and large ones, so that reads go through them.
    cube.rollupPolicy.minRows = 0;
    cube.rollupPolicy.maxRowsFraction = 16;
  } else {
    cube.rollupPolicy.maxRollups = 0;
  }
  // Weight of every (leaf, member) pair per dimension, as a map for the brute force.
  const wcache = dims.map(() => new Map<number, number | null>());
  const wt = (d: number, leaf: number, anc: number): number | null => {
    const k = leaf * 100_000 + anc;
    let w = wcache[d].get(k);
    if (w === undefined) {
      w = weightTo(dims[d], leaf, anc);
      wcache[d].set(k, w);
    }
    return w;
  };
  const brute = (addr: Int32Array): { value: number | null; version: number } => {
    let sum = 0;
    let any = false;
    let version = 0;
    for (const r of data) {
      let w = 1;
      for (let d = 0; d < nd; d++) {
        const x = wt(d, r[d], addr[d]);
        if (x === null) {
          w = Number.NaN;
          break;
        }
        w *= x;
      }
      if (Number.isNaN(w)) continue;
      version = Math.max(version, r[nd + 1]);
      if (Number.isNaN(r[nd])) continue;
      any = true;
      sum += w * r[nd];
    }
    return { value: any ? sum : null, version };
  };
  // Members by depth, so batches mix coarse and fine members in every dimension.
  const byDepth = dims.map((def) => {
    const depth: number[] = [];
    const lists: number[][] = [];
    def.members.forEach((m, i) => {
      depth[i] = m.parent < 0 ? 0 : depth[m.parent] + 1;
      if (!lists[depth[i]]) lists[depth[i]] = [];
      lists[depth[i]].push(i);
    });
    return lists.filter((l) => l && l.length > 0);
  });
  // One batch in the upper levels (rollups can serve it), one anywhere.
  const batches: Int32Array[][] = [[], []];
  for (let k = 0; k < cellsPerBatch; k++) {
    const which = k % 3 === 2 ? 1 : 0;
    const c = new Int32Array(nd);
    for (let d = 0; d < nd; d++) {
      const levels = byDepth[d].slice(0, which === 0 ? 3 : 99);
      c[d] = rng.float() < 0.3 ? 0 : rng.pick(rng.pick(levels));
    }
    batches[which].push(c);
  }
  let compared = 0;
  let groups = 0;
  const check = (when: string): void => {
    for (const batch of batches) {
      const scans = cube.stats.scans;
      const got = cube.getCells(batch);
      groups += cube.stats.scans - scans;
      batch.forEach((addr, i) => {
        const b = brute(addr);
        const want = b.value;
        const v = got[i].value;
        const ok = want === null ? v === null : v !== null && Math.abs(v - want) <= 1e-6 * Math.max(1, Math.abs(want));
        if (!ok) throw new Error(`${when}: cell ${Array.from(addr).join(",")}: lattice ${v}, brute force ${want}`);
        if (got[i].version !== b.version) throw new Error(`${when}: cell ${Array.from(addr).join(",")}: version ${got[i].version}, brute force ${b.version}`);
        compared++;
      });
    }
  };
  const write = (k: number): void => {
    const c = leaves.map((l) => rng.pick(l));
    const v = rng.float() < 0.2 ? null : rng.int(500_000) / 100;
    const key = c.join(",");
    const at = seen.get(key);
    if (at !== undefined) {
      data[at][nd] = v === null ? Number.NaN : v;
      data[at][nd + 1] = 1000 + k;
    } else {
      seen.set(key, data.length);
      data.push([...c, v === null ? Number.NaN : v, 1000 + k]);
    }
    cube.applyChanges([{ coords: c, value: v, version: 1000 + k, writer: { user: "v", at: 0 } }]);
  };
  check("initial");
  for (let k = 0; k < 100; k++) write(k);
  // The second read at the same depths builds rollups (from the leaf rows as they are now).
  check("after writes");
  for (let k = 100; k < 400; k++) write(k);
  // Rollups kept current by the writes.
  check("after more writes");
  for (let k = 400; k < 410; k++) write(k);
  check("after a few more writes");
  if (process.env.VERBOSE) console.log(`seed ${seed}: ${compared} cells, ${groups} scans, ${cube.stats.rollupBuilds} rollups built`);
  return compared;
}

/**
 * A cell whose segments alone exceed the accumulator limit: two dimensions of 2,100 leaves whose
 * weights alternate. Checks the direct weighted pass against a brute-force sum.
 * @returns 1 (cells compared); throws on a mismatch.
 */
export function verifyAlternatingWeights(): number {
  const rng = new Rng(9);
  const dim = (name: string): DimensionDef => ({
    name,
    levels: ["(All)", "Leaf"],
    hasAll: true,
    members: [
      { name: `All ${name}`, parent: -1, level: 0 },
      ...Array.from({ length: 2100 }, (_, i) => ({ name: `${name}${i}`, parent: 0, level: 1, weight: i % 2 === 0 ? 1 : -1 })),
    ],
  });
  const n = 50_000;
  const seen = new Set<number>();
  const a = new Int32Array(n);
  const b = new Int32Array(n);
  const values = new Float64Array(n);
  let want = 0;
  for (let r = 0; r < n; ) {
    const x = 1 + rng.int(2100);
    const y = 1 + rng.int(2100);
    if (seen.has(x * 10_000 + y)) continue;
    seen.add(x * 10_000 + y);
    a[r] = x;
    b[r] = y;
    values[r] = rng.int(100_000) / 100;
    want += values[r] * (x % 2 === 1 ? 1 : -1) * (y % 2 === 1 ? 1 : -1);
    r++;
  }
  const cube = new Cube({ name: "W", dimensions: [dim("E"), dim("F")] }, { count: n, coords: [a, b], values });
  const got = cube.getCells([Int32Array.from([0, 0])])[0].value ?? Number.NaN;
  if (!(Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want)))) throw new Error(`alternating weights: lattice ${got}, brute force ${want}`);
  return 1;
}

if (/verify-engine\.ts$/.test(process.argv[1] ?? "")) {
  const t0 = performance.now();
  let n = 0;
  for (const seed of [1, 2, 3]) n += verifyEngine(seed);
  n += verifyEngine(4, 30_000, 1500, false);
  n += verifyAlternatingWeights();
  console.log(`verify-engine: ${n} cells match the brute force (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
