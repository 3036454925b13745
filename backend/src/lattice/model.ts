/**
 * Plain-data shapes of a cube's definition and its leaf cells: what the model loader produces, what
 * the store persists, and what the lattice engine is built from. Pure data, no behaviour, so that it
 * crosses worker and storage boundaries unchanged.
 */

/** One member of a dimension's hierarchy. */
export interface MemberDef {
  /** The member's own name, e.g. `CA`. Unique among its siblings. */
  name: string;
  /** Display caption when it differs from the name (e.g. a customer's full name). */
  caption?: string;
  /** Index of the parent in `DimensionDef.members`, or -1 for a top-level member. */
  parent: number;
  /** Weight with which the member adds into its parent: 1 by default, -1 to subtract. */
  weight?: number;
  /** Index into `DimensionDef.levels` of the member's level (ragged hierarchies may skip levels). */
  level: number;
  /** Other names the member can be addressed by (bare), e.g. a product's SKU. */
  aliases?: string[];
  /** Source key of a leaf member (e.g. customer_id), for tracing back to the input data. */
  key?: string;
  /**
   * How Excel shows the cells of this member: an Excel number format code (Mondrian's
   * `formatString`), e.g. `#,##0.00` or `0.0%`. Set on measures (and calculated members) by the
   * model file; a cell's format is chosen by `Cube.formatOf`.
   */
  formatString?: string;
}

/** A dimension with one hierarchy. */
export interface DimensionDef {
  /** Dimension name, e.g. `Store`; the first part of every unique name in it. */
  name: string;
  /**
   * Level names from the top down. When `hasAll` is true the first level is the All level
   * (e.g. `(All)`), holding exactly one member.
   */
  levels: string[];
  /** Whether the hierarchy has an All member at the top. */
  hasAll: boolean;
  /** Members, each parent before its children. */
  members: MemberDef[];
  /**
   * Unique name of the member used when an address leaves this dimension out. Defaults to the All
   * member, or the first top-level member when there is no All level.
   */
  defaultMember?: string;
}

/**
 * A member formula (a calculated member): the cells of `member` are computed by `expression` from
 * other cells instead of being stored. See `formulas/parse.ts` for the language and
 * `formulas/evaluate.ts` for empty cells and division by zero.
 */
export interface CubeFormula {
  /** Unique name of the calculated member, e.g. `[Measures].[Profit]`. */
  member: string;
  /** The expression, e.g. `[Measures].[Store Sales] - [Measures].[Store Cost]`. */
  expression: string;
  /**
   * Which formula computes a cell whose address holds formula members of several dimensions: the
   * highest solve order wins (ties: the dimension listed first in the cube), as MDX's SOLVE_ORDER.
   * Default 0.
   */
  solveOrder?: number;
}

/** A cube's definition. Dimension order is the order of leaf coordinates. */
export interface CubeDef {
  /** Cube name, e.g. `Sales`. */
  name: string;
  description?: string;
  dimensions: DimensionDef[];
  /**
   * Member formulas, in declaration order. A formula member is a top-level leaf member of a
   * dimension without an All level (it must not add into a consolidated member) and has no stored
   * cells. Absent or empty: no calculated members.
   */
  formulas?: CubeFormula[];
}

/**
 * Leaf cells in columnar form. Row `r` is the cell whose member in dimension `d` is
 * `coords[d][r]` (an index into that dimension's `members`, always a leaf) holding `values[r]`.
 * Rows are unique by coordinates.
 */
export interface LeafCells {
  /** Number of rows. */
  count: number;
  /** One column per dimension, `count` long. */
  coords: Int32Array[];
  /** Cell values, `count` long. NaN marks a cleared cell: empty, but it keeps its version. */
  values: Float64Array;
  /** Cell versions (0 for loaded facts never written), `count` long; optional on load. */
  versions?: Float64Array;
}

/**
 * Committed leaf changes as columns (see Cube.applyColumns): row k is the leaf at
 * `coords[k * dims .. (k + 1) * dims)` taking `values[k]` (NaN: empty) at version `versions[k]`.
 */
export interface LeafColumns {
  count: number;
  /** Member ids, row-major, `count * dims` long. */
  coords: Int32Array;
  values: Float64Array;
  versions: Float64Array;
  /** The store row of each leaf when the plan was made, -1 for a new cell (optional). */
  rows?: Int32Array;
}

/** Who last wrote a leaf cell and when; kept only for cells written after the load. */
export interface CellWriter {
  user: string;
  /** Milliseconds since the epoch. */
  at: number;
}
