/**
 * The generated benchmark cube: six dimensions (five with 3-5 level hierarchies, one flat), filled
 * with a seeded random set of unique leaf cells, e.g. 10 million.
 *
 * - Time: All Years > Year (3) > Quarter (12) > Month (36 leaves)
 * - Product: All Products > Family (5) > Category (50) > Subcategory (250) > SKU (3,000 leaves)
 * - Geography: All Geography > Region (5) > Country (20) > City (100) > Store (500 leaves)
 * - Channel: All Channels > Type (2) > Channel (6 leaves)
 * - Account: Net Income > {Gross Margin > {Revenue, Cost of Sales (-1)}, Operating Expenses (-1)}
 *   > lines (10 leaves); weights -1 make Net = Revenue - Cost of Sales - Operating Expenses
 * - Scenario: Actual (default), Plan, Forecast (flat)
 *
 * Coordinates are drawn as uniform random mixed-radix keys over the leaf cross product, sorted and
 * deduplicated (topped up until the count is exact), so rows come out time-major as a load of
 * date-ordered facts would. Values have two decimals.
 */
import type { CubeDef, DimensionDef, LeafCells, MemberDef } from "../backend/src/lattice";
import { Rng } from "./rng";

/** Name of the generated cube. */
export const GENERATED_CUBE = "Generated";

/** Builds a balanced dimension from a list of level names and the fan-out below each level. */
function balanced(
  name: string,
  levels: string[],
  fanout: number[],
  label: (depth: number, index: number, parentName: string) => string,
): DimensionDef {
  // levels[0] is the All level; fanout[k] is how many children each member at depth k has.
  const members: MemberDef[] = [{ name: label(0, 0, ""), parent: -1, level: 0 }];
  const counters = new Array(levels.length).fill(0);
  // Depth-first so that member ids of leaves follow the depth-first leaf order.
  const build = (parent: number, depth: number): void => {
    if (depth >= levels.length) return;
    for (let k = 0; k < fanout[depth - 1]; k++) {
      const idx = counters[depth]++;
      members.push({ name: label(depth, idx, members[parent].name), parent, level: depth });
      build(members.length - 1, depth + 1);
    }
  };
  build(0, 1);
  return { name, levels, hasAll: true, members };
}

/** The generated cube's definition (no cells). */
export function generatedCubeDef(): CubeDef {
  const time = balanced("Time", ["(All)", "Year", "Quarter", "Month"], [3, 4, 3], (depth, i, parent) => {
    if (depth === 0) return "All Years";
    if (depth === 1) return String(2023 + i);
    if (depth === 2) return `Q${(i % 4) + 1}`;
    const monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    void parent;
    return monthNames[i % 12];
  });
  const product = balanced(
    "Product",
    ["(All)", "Family", "Category", "Subcategory", "SKU"],
    [5, 10, 5, 12],
    (depth, i) => ["All Products", `Family ${i + 1}`, `Category ${i + 1}`, `Subcategory ${i + 1}`, `SKU ${String(i + 1).padStart(5, "0")}`][depth],
  );
  const geography = balanced(
    "Geography",
    ["(All)", "Region", "Country", "City", "Store"],
    [5, 4, 5, 5],
    (depth, i) => ["All Geography", `Region ${i + 1}`, `Country ${i + 1}`, `City ${i + 1}`, `Store ${i + 1}`][depth],
  );
  const channelNames = ["Online", "Retail", "Phone", "Wholesale", "Distributor", "Marketplace"];
  const channel = balanced("Channel", ["(All)", "Type", "Channel"], [2, 3], (depth, i) => ["All Channels", i === 0 ? "Direct" : "Partner", channelNames[i]][depth]);
  const account: DimensionDef = {
    name: "Account",
    levels: ["Total", "Group", "Subgroup", "Line"],
    hasAll: false,
    members: [
      { name: "Net Income", parent: -1, level: 0 }, // 0
      { name: "Gross Margin", parent: 0, level: 1 }, // 1
      { name: "Revenue", parent: 1, level: 2 }, // 2
      { name: "Product Revenue", parent: 2, level: 3 }, // 3
      { name: "Service Revenue", parent: 2, level: 3 }, // 4
      { name: "Other Revenue", parent: 2, level: 3 }, // 5
      { name: "Cost of Sales", parent: 1, level: 2, weight: -1 }, // 6
      { name: "Material", parent: 6, level: 3 }, // 7
      { name: "Labour", parent: 6, level: 3 }, // 8
      { name: "Freight", parent: 6, level: 3 }, // 9
      { name: "Operating Expenses", parent: 0, level: 1, weight: -1 }, // 10
      { name: "Personnel", parent: 10, level: 2 }, // 11
      { name: "Salaries", parent: 11, level: 3 }, // 12
      { name: "Benefits", parent: 11, level: 3 }, // 13
      { name: "Facilities", parent: 10, level: 2 }, // 14
      { name: "Rent", parent: 14, level: 3 }, // 15
      { name: "Utilities", parent: 14, level: 3 }, // 16
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
      { name: "Forecast", parent: -1, level: 0 },
    ],
  };
  return {
    name: GENERATED_CUBE,
    description: "generated benchmark cube (seeded random leaf cells)",
    dimensions: [time, product, geography, channel, account, scenario],
  };
}

/** Leaf member ids of a dimension in definition (depth-first) order. */
export function leafIds(dim: DimensionDef): Int32Array {
  const hasChild = new Uint8Array(dim.members.length);
  for (const m of dim.members) if (m.parent >= 0) hasChild[m.parent] = 1;
  const out: number[] = [];
  for (let i = 0; i < dim.members.length; i++) if (!hasChild[i]) out.push(i);
  return Int32Array.from(out);
}

/** Options of {@link generateCells}. */
export interface GenerateOptions {
  /** Number of unique leaf cells. */
  count: number;
  seed?: number;
  /** Shuffle the rows (seeded) instead of keeping them in key (time-major) order. */
  shuffle?: boolean;
}

/**
 * Draws `count` unique leaf cells of `def`: uniform random mixed-radix keys over the leaf cross
 * product (dimension 0 most significant), sorted and deduplicated, topped up until exact.
 * @throws Error when `count` exceeds the number of leaf combinations or 2^53.
 */
export function generateCells(def: CubeDef, opts: GenerateOptions): LeafCells {
  const rng = new Rng(opts.seed ?? 20240607);
  const leaves = def.dimensions.map(leafIds);
  const radix = leaves.map((l) => l.length);
  const space = radix.reduce((a, b) => a * b, 1);
  const n = opts.count;
  if (n > space || space > 2 ** 53) throw new Error(`cannot draw ${n} unique cells from ${space} leaf combinations`);
  let keys = new Float64Array(0);
  let have = 0;
  while (have < n) {
    const need = n - have;
    // Over-draw a little so one round usually suffices (expected duplicates ~ n^2 / (2 * space)).
    const extra = Math.ceil(need * 1.002 + (n * n) / space) + 16;
    const next = new Float64Array(have + extra);
    next.set(keys.subarray(0, have));
    for (let i = have; i < next.length; i++) next[i] = Math.floor(rng.float53() * space);
    next.sort();
    let w = 0;
    for (let i = 0; i < next.length; i++) if (w === 0 || next[i] !== next[w - 1]) next[w++] = next[i];
    keys = next;
    have = w;
  }
  if (have > n) {
    // Drop a seeded random selection of the surplus so the kept keys stay uniform.
    const drop = new Uint8Array(have);
    let surplus = have - n;
    while (surplus > 0) {
      const i = rng.int(have);
      if (!drop[i]) {
        drop[i] = 1;
        surplus--;
      }
    }
    let w = 0;
    for (let i = 0; i < have; i++) if (!drop[i]) keys[w++] = keys[i];
    have = w;
  }
  keys = keys.subarray(0, n);
  if (opts.shuffle) {
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = keys[i];
      keys[i] = keys[j];
      keys[j] = t;
    }
  }
  const dims = def.dimensions.length;
  const coords = Array.from({ length: dims }, () => new Int32Array(n));
  const values = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let k = keys[r];
    for (let d = dims - 1; d >= 0; d--) {
      const q = Math.floor(k / radix[d]);
      coords[d][r] = leaves[d][k - q * radix[d]];
      k = q;
    }
    values[r] = rng.int(100_000_00) / 100;
  }
  return { count: n, coords, values };
}
