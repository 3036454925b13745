/**
 * "Explain this number" (LatticeService/ExplainCell): where a cell's value comes from, as the caller
 * may see it. For each dimension whose member has children: the children's cells, each times its
 * weight into the member (a consolidated cell is the weighted sum of its children on any one
 * dimension), largest first, with their shares of the cell; for a calculated cell: its formula and
 * the cells the formula reads directly. Hidden children and unreadable cells are left out and
 * counted, never shown.
 */
import type { CellState } from "../lattice";
import { RIGHT } from "../security";
import { type Access, type CellResult, cellResult, requireCell } from "./access";
import { clampLimit } from "./checks";

/** Most contributors one dimension lists, and how many when the request does not say. */
export const MAX_EXPLAIN_TOP = 50;
const DEFAULT_EXPLAIN_TOP = 5;

/** A child member's part in the cell (see Contributor in lattice.proto). */
export interface Contributor {
  member: string;
  caption: string;
  /** Its cell's value times its weight (null: empty). */
  value: number | null;
  share: number;
  hasChildren: boolean;
}

/** The contributors of one dimension (see DimensionContributors in lattice.proto). */
export interface DimensionContributors {
  dimension: string;
  member: string;
  contributors: Contributor[];
  children: number;
  /** The sum of the readable children not listed (null: none). */
  others: number | null;
  hidden: number;
}

/** A cell a formula reads (see FormulaOperand in lattice.proto). */
export interface FormulaOperand {
  members: string[];
  value: number | null;
  calculated: boolean;
  hidden: boolean;
}

/** What ExplainCell answers. */
export interface Explanation {
  members: string[];
  cell: CellResult;
  dimensions: DimensionContributors[];
  formula: string;
  operands: FormulaOperand[];
}

/**
 * Explains a cell as `access.user` (see the module comment).
 * @param read reads cells' states (the cube's, or through a sandbox), in order.
 * @throws DomainError as requireCell (not_found, invalid_argument, permission_denied without Read);
 *   invalid_argument for `topN` out of range (0: the default).
 */
export function explainCell(access: Access, members: readonly string[], topN: number, read: (coords: Int32Array[]) => CellState[]): Explanation {
  const top = clampLimit(topN, DEFAULT_EXPLAIN_TOP, MAX_EXPLAIN_TOP, "top_n");
  const { cube } = access.served;
  const { rights } = access;
  const coords = requireCell(access, members, RIGHT.read, "explain");
  const { dims, formulas } = cube;

  // Every child cell of every dimension, and the formula's operands, read in one batch.
  const asked: Int32Array[] = [coords];
  const perDim = dims.map((dim, d) => {
    if (formulas?.isFormulaMember(d, coords[d])) return null;
    const kids = dim.children[coords[d]];
    if (kids.length === 0) return null;
    const shown: { id: number; at: number }[] = [];
    let hidden = 0;
    for (const id of kids) {
      const c = Int32Array.from(coords);
      c[d] = id;
      if (!rights.visible(d, id) || rights.cell(c) < RIGHT.read) {
        hidden++;
        continue;
      }
      shown.push({ id, at: asked.length });
      asked.push(c);
    }
    return { d, kids: kids.length, shown, hidden };
  });
  const operandCells = formulas?.operands(coords) ?? [];
  const operandAt = operandCells.map((c) => {
    if (rights.cell(c) < RIGHT.read) return -1;
    asked.push(c);
    return asked.length - 1;
  });
  const states = read(asked);

  const total = states[0].value;
  const dimensions: DimensionContributors[] = [];
  for (const entry of perDim) {
    if (entry === null) continue;
    const dim = dims[entry.d];
    const parts = entry.shown.map(({ id, at }) => {
      const v = states[at].value;
      const value = v === null ? null : v * dim.weight[id];
      return { id, value };
    });
    parts.sort((a, b) => Math.abs(b.value ?? 0) - Math.abs(a.value ?? 0) || a.id - b.id);
    const listed = parts.slice(0, top);
    const rest = parts.slice(top).filter((p) => p.value !== null);
    dimensions.push({
      dimension: dim.name,
      member: dim.uniqueName(coords[entry.d]),
      contributors: listed.map((p) => ({
        member: dim.uniqueName(p.id),
        caption: dim.captions[p.id],
        value: p.value,
        share: total ? (p.value ?? 0) / total : 0,
        hasChildren: dim.children[p.id].length > 0,
      })),
      children: entry.kids,
      others: rest.length > 0 ? rest.reduce((s, p) => s + (p.value ?? 0), 0) : null,
      hidden: entry.hidden,
    });
  }
  const operands = operandCells.map((c, k) => ({
    members: cube.uniqueNames(c),
    value: operandAt[k] < 0 ? null : states[operandAt[k]].value,
    calculated: cube.isCalculated(c),
    hidden: operandAt[k] < 0,
  }));
  return {
    members: cube.uniqueNames(coords),
    cell: cellResult(cube, coords, states[0]),
    dimensions,
    formula: cube.formulaOf(coords)?.expression ?? "",
    operands,
  };
}
