/**
 * The batches of consolidated cells the benchmark reads: a report-like grid (rows x columns of
 * consolidated members with the other dimensions fixed) and a scattered random set (every
 * dimension at a random level), each as member ids and as unique-name addresses for the API.
 */
import type { Cube, Dimension } from "../backend/src/lattice";
import type { Rng } from "./rng";

/** A batch of cells: engine coordinates and the same cells as API addresses. */
export interface CellBatch {
  name: string;
  /** One member id per dimension, per cell. */
  coords: Int32Array[];
  /** Unique names of the members, per cell (every dimension named). */
  addresses: string[][];
}

/** The dimension named `name` (case-insensitive). @throws Error when the cube has none. */
export function dimIndex(cube: Cube, name: string): number {
  const d = cube.dims.findIndex((x) => x.name.toLowerCase() === name.toLowerCase());
  if (d < 0) throw new Error(`cube ${cube.name} has no dimension ${name} (dimensions: ${cube.dims.map((x) => x.name).join(", ")})`);
  return d;
}

/** Member ids of a dimension at a depth below the top (0 = top-level members), in id order. */
export function membersAtDepth(dim: Dimension, depth: number): number[] {
  const out: number[] = [];
  for (let m = 0; m < dim.size; m++) if (dim.depth[m] === depth) out.push(m);
  return out;
}

/** Member ids of the level named `level` (case-insensitive) of a dimension. */
export function membersAtLevel(dim: Dimension, level: string): number[] {
  const l = dim.levels.findIndex((x) => x.toLowerCase() === level.toLowerCase());
  if (l < 0) throw new Error(`dimension ${dim.name} has no level ${level} (levels: ${dim.levels.join(", ")})`);
  const out: number[] = [];
  for (let m = 0; m < dim.size; m++) if (dim.level[m] === l) out.push(m);
  return out;
}

/** Resolves one unique name to a member id. @throws Error when it does not resolve. */
export function memberId(cube: Cube, uniqueName: string): { d: number; id: number } {
  const c = cube.member(uniqueName);
  if ("code" in c) throw new Error(`${uniqueName}: ${c.message}`);
  return { d: c.dim, id: c.id };
}

/** Descendants of a member (itself excluded) in depth-first order. */
export function descendants(dim: Dimension, m: number): number[] {
  const out: number[] = [];
  const walk = (x: number): void => {
    for (const c of dim.children[x]) {
      out.push(c);
      walk(c);
    }
  };
  walk(m);
  return out;
}

function toAddress(cube: Cube, c: Int32Array): string[] {
  return cube.dims.map((dim, d) => dim.uniqueName(c[d]));
}

/**
 * A report grid: every row member crossed with every column member, the other dimensions at
 * `fixed` (member ids by dimension index) or their default member; cut to `limit` cells.
 */
export function gridCells(
  cube: Cube,
  name: string,
  rows: { d: number; members: number[] },
  cols: { d: number; members: number[] },
  fixed: Map<number, number>,
  limit = 1000,
  extra?: { d: number; members: number[] },
): CellBatch {
  const base = new Int32Array(cube.dims.length);
  cube.dims.forEach((dim, d) => {
    base[d] = fixed.get(d) ?? dim.defaultMember;
  });
  const coords: Int32Array[] = [];
  const layers = extra ? extra.members : [-1];
  outer: for (const z of layers) {
    for (const r of rows.members) {
      for (const c of cols.members) {
        if (coords.length >= limit) break outer;
        const x = base.slice();
        x[rows.d] = r;
        x[cols.d] = c;
        if (extra) x[extra.d] = z;
        coords.push(x);
      }
    }
  }
  return { name, coords, addresses: coords.map((c) => toAddress(cube, c)) };
}

/**
 * `n` distinct consolidated cells scattered over the cube: for each cell and dimension a uniformly
 * random depth of the hierarchy (the top included, leaves included), then a uniformly random
 * member at that depth; cells that come out as leaf cells are drawn again.
 */
export function scatteredCells(cube: Cube, n: number, rng: Rng, name = "scattered"): CellBatch {
  // Stored members only: cells of calculated members are not sums of leaves (and the DuckDB peer
  // computes sums).
  const byDepth = cube.dims.map((dim, d) => {
    let maxDepth = 0;
    for (let m = 0; m < dim.size; m++) if (dim.depth[m] > maxDepth) maxDepth = dim.depth[m];
    const lists: number[][] = [];
    for (let k = 0; k <= maxDepth; k++) lists.push(membersAtDepth(dim, k).filter((m) => cube.memberFormula(d, m) === null));
    return lists;
  });
  const seen = new Set<string>();
  const coords: Int32Array[] = [];
  while (coords.length < n) {
    const c = new Int32Array(cube.dims.length);
    for (let d = 0; d < c.length; d++) c[d] = rng.pick(rng.pick(byDepth[d]));
    if (!cube.isConsolidated(c)) continue;
    const key = c.join(",");
    if (seen.has(key)) continue;
    seen.add(key);
    coords.push(c);
  }
  return { name, coords, addresses: coords.map((c) => toAddress(cube, c)) };
}
