/**
 * Member formulas inside a cube (calculated members): which formula computes a cell, the base cells
 * a formula cell reads (through other formula cells), and its value and version computed from the
 * states of those base cells. The pure formula core (parser, graph, evaluator) is in `formulas/`;
 * this module applies it to cells of a cube.
 *
 * **Solve order.** When an address holds formula members of several dimensions (e.g.
 * `[Measures].[Margin %]` and `[Scenario].[Variance]`), the formula with the highest `solveOrder`
 * computes the cell; on a tie, the formula of the dimension listed first in the cube. This is MDX's
 * SOLVE_ORDER. The winning formula reads its operands at the same address with its references
 * substituted, so the other formula members of the address are computed by their own formulas
 * inside it: with Variance (`[Scenario].[Plan] - [Scenario].[Actual]`) at solve order 1 and
 * Margin % at 0, (Margin %, Variance) = (Margin %, Plan) - (Margin %, Actual), a difference of
 * ratios (percentage points), while Margin % at 1 and Variance at 0 would give
 * (Profit, Variance) / (Store Sales, Variance), a ratio of differences.
 *
 * **Termination.** With an acyclic formula graph (`buildFormulaGraph` rejects cycles, across
 * dimensions too), evaluation ends: each step replaces the winning formula member by members its
 * references name, which are lower in the graph, so the formula members of the address decrease in
 * the multiset order of their heights in the graph.
 *
 * **Version.** A formula cell's version is the highest version of the base cells it reads through
 * all its references (both branches of an IF included, whichever is taken), so that a write based
 * on a stale read of it is detected as with a consolidated cell.
 */
import type { Dimension } from "./dimension";
import { buildFormulaGraph, evaluateFormula, type FormulaGraph, type FormulaMember, forEachRef, type ResolveMember } from "./formulas";
import type { CubeFormula } from "./model";
import { keyOf } from "./watch";

/** The state of a cell as the cube reports it (see `CellState` in cube.ts, which is the same shape). */
export interface CalcState {
  value: number | null;
  version: number;
  calculated?: boolean;
}

/** A formula as the cube reports it: the calculated member's unique name, its expression, its solve order. */
export interface FormulaInfo {
  /** Unique name of the calculated member, e.g. `[Measures].[Profit]`. */
  member: string;
  /** The expression as declared. */
  expression: string;
  /** Solve order (0 unless declared). */
  solveOrder: number;
}

/**
 * The compiled formulas of one cube and which one computes a cell. A formula member is a top-level
 * leaf member (it must not add into a consolidated member), so it holds no stored cells.
 */
export class CubeFormulas {
  /** The parsed, resolved formulas, in declaration order. */
  readonly graph: FormulaGraph;
  /** Solve order of each formula, by index into `graph.formulas`. */
  readonly solveOrder: Float64Array;
  /** Indexes of the dimensions that hold formula members, in cube order. */
  readonly dims: Int32Array;
  /** Per dimension, the formula index of each member (-1 for a stored member); null without formulas. */
  private readonly byMember: (Int32Array | null)[];
  private readonly infos: FormulaInfo[];

  /**
   * Compiles the formulas of a cube.
   * @param dims the cube's dimensions, in order.
   * @param resolve resolves member names (e.g. `(name) => resolver.member(name)`).
   * @param defs the formulas as the cube definition declares them (`CubeDef.formulas`).
   * @throws FormulaGraphError for a syntax error, an unknown member, a duplicate formula or a cycle
   *   (see buildFormulaGraph); Error when a formula member has children or adds into a parent, or a
   *   solve order is not a finite number.
   */
  constructor(dims: readonly Dimension[], resolve: ResolveMember, defs: readonly CubeFormula[]) {
    this.graph = buildFormulaGraph(defs, resolve);
    const n = this.graph.formulas.length;
    this.solveOrder = new Float64Array(n);
    this.byMember = dims.map(() => null);
    this.infos = [];
    const used: number[] = [];
    const declared = new Map(defs.map((d) => [d.member, d]));
    this.graph.formulas.forEach((f, i) => {
      const order = declared.get(f.member)?.solveOrder ?? 0;
      if (!Number.isFinite(order)) throw new Error(`formula for ${f.member}: solve order ${order} is not a finite number`);
      this.solveOrder[i] = order;
      const { dim: d, id } = f.target;
      const dim = dims[d];
      if (!dim.isLeaf(id)) throw new Error(`formula for ${f.member}: a formula member cannot have members below it`);
      if (dim.parent[id] >= 0) {
        throw new Error(
          `formula for ${f.member}: a formula member must not add into a consolidated member (here ${dim.uniqueName(dim.parent[id])}); make it a top-level member of a dimension without an All level`,
        );
      }
      let col = this.byMember[d];
      if (col === null) {
        col = new Int32Array(dim.size).fill(-1);
        this.byMember[d] = col;
        used.push(d);
      }
      col[id] = i;
      this.infos.push({ member: dim.uniqueName(id), expression: f.expression, solveOrder: order });
    });
    this.dims = Int32Array.from(used.sort((a, b) => a - b));
  }

  /**
   * The formula that computes a cell: among the formula members of the address, the one with the
   * highest solve order (ties: the dimension listed first). Returns its index into
   * `graph.formulas`, or -1 for a cell with no formula member (a stored or consolidated cell).
   */
  winner(coords: ArrayLike<number>): number {
    let best = -1;
    const dims = this.dims;
    for (let k = 0; k < dims.length; k++) {
      const d = dims[k];
      const f = this.byMember[d]![coords[d]];
      if (f >= 0 && (best < 0 || this.solveOrder[f] > this.solveOrder[best])) best = f;
    }
    return best;
  }

  /**
   * The cells the formula computing `coords` reads directly: each of its references, with the
   * reference's members in place of the cell's on their dimensions (an operand may itself be
   * calculated), once each in order of first occurrence; null when no formula computes the cell.
   */
  operands(coords: ArrayLike<number>): Int32Array[] | null {
    const f = this.winner(coords);
    if (f < 0) return null;
    const out = new Map<string, Int32Array>();
    forEachRef(this.graph.formulas[f].expr, (r) => {
      const c = Int32Array.from(coords);
      for (const m of r.members) c[m.dim] = m.id;
      const key = c.join(",");
      if (!out.has(key)) out.set(key, c);
    });
    return [...out.values()];
  }

  /** The index (into `graph.formulas`) of the formula of member `id` of dimension `d`, or -1. */
  ofMember(d: number, id: number): number {
    const col = this.byMember[d];
    return col === null ? -1 : col[id];
  }

  /** True when member `id` of dimension `d` is a formula member. */
  isFormulaMember(d: number, id: number): boolean {
    return this.ofMember(d, id) >= 0;
  }

  /** The formula at index `i` of `graph.formulas`, as the cube reports it. */
  info(i: number): FormulaInfo {
    return this.infos[i];
  }
}

/** `coords` with the members of a reference substituted. */
function substitute(coords: Int32Array, members: readonly FormulaMember[]): Int32Array {
  const c = coords.slice();
  for (const m of members) c[m.dim] = m.id;
  return c;
}

/**
 * Formula cells over one set of base cells (cells no formula computes, leaf or consolidated):
 * `deps` lists the base cells a formula cell reads through all its references, recursively through
 * other formula cells, registering each with `indexOf`; `state` computes a formula cell's value and
 * version from the base states `baseState` gives. Dependencies are memoized for the object's life,
 * values for one pass: call `newPass` when base states changed.
 */
export class FormulaCells {
  private readonly depsMemo = new Map<string, Int32Array>();
  private readonly values = new Map<string, number | null>();

  /**
   * @param indexOf the index of a base cell (registering it on first sight); `key` is `keyOf(coords)`.
   * @param baseState the current state of a base cell by that index; called only after `deps` of
   *   the cells asked about.
   */
  constructor(
    private readonly formulas: CubeFormulas,
    private readonly indexOf: (coords: Int32Array, key: string) => number,
    private readonly baseState: (index: number) => CalcState,
  ) {}

  /**
   * Indexes (ascending, without repeats) of the base cells the formula cell at `coords` reads.
   * @param coords a cell that a formula computes (`CubeFormulas.winner(coords) >= 0`).
   * @param key `keyOf(coords)`.
   */
  deps(coords: Int32Array, key: string): Int32Array {
    const hit = this.depsMemo.get(key);
    if (hit) return hit;
    const formulas = this.formulas;
    const f = formulas.graph.formulas[formulas.winner(coords)];
    const set = new Set<number>();
    forEachRef(f.expr, (r) => {
      const c = substitute(coords, r.members);
      const k = keyOf(c);
      if (formulas.winner(c) < 0) set.add(this.indexOf(c, k));
      else for (const b of this.deps(c, k)) set.add(b);
    });
    const out = Int32Array.from(set).sort();
    this.depsMemo.set(key, out);
    return out;
  }

  /**
   * The state of a formula cell: its value (see formulas/evaluate.ts) and the highest version of the
   * base cells it reads; `calculated` is true.
   */
  state(coords: Int32Array, key: string): CalcState {
    const deps = this.deps(coords, key);
    let version = 0;
    for (let j = 0; j < deps.length; j++) {
      const v = this.baseState(deps[j]).version;
      if (v > version) version = v;
    }
    return { value: this.value(coords, key), version, calculated: true };
  }

  /** Forgets computed values (dependencies stay): base states have changed. */
  newPass(): void {
    this.values.clear();
  }

  private value(coords: Int32Array, key: string): number | null {
    const fi = this.formulas.winner(coords);
    if (fi < 0) return this.baseState(this.indexOf(coords, key)).value;
    const hit = this.values.get(key);
    if (hit !== undefined) return hit;
    const v = evaluateFormula(this.formulas.graph.formulas[fi].expr, coords, (c) => this.value(c, keyOf(c)));
    this.values.set(key, v);
    return v;
  }
}
