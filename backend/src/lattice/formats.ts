/**
 * Number formats of cells: how Excel shows a cell's value (a format string such as `#,##0.00` or
 * `0.0%`, declared on measures and formula members in the model file; see docs/model-file.md).
 */
import type { CubeFormulas } from "./calculated";
import type { Dimension } from "./dimension";

/**
 * The format of the cell at `coords`: the format of the formula member that computes it when that
 * member has one (Margin % is a percentage), else of the first member of the address that has one
 * (the measure's, as model files give formats to measures); "" when none has.
 */
export function cellFormat(dims: readonly Dimension[], formulas: CubeFormulas | null, coords: ArrayLike<number>): string {
  const f = formulas?.winner(coords) ?? -1;
  const t = f < 0 ? null : formulas!.graph.formulas[f].target;
  const own = t === null ? undefined : dims[t.dim].formats.get(t.id);
  if (own !== undefined) return own;
  for (let d = 0; d < dims.length; d++) {
    const format = dims[d].formats.get(coords[d]);
    if (format !== undefined) return format;
  }
  return "";
}
