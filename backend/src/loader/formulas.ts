/**
 * The load's member formulas: collected from the plan as the cube stores them, and checked against
 * the built dimensions as the engine will compile them.
 */
import { Dimension } from "../lattice";
import { buildFormulaGraph, FormulaGraphError } from "../lattice";
import type { CubeFormula } from "../lattice";
import { Resolver } from "../lattice";
import type { BuiltDimension } from "./dimensions";
import { LoadError } from "./errors";
import type { ModelPlan, PlanFormula } from "./model";
import { memberUniqueName } from "./names";

/**
 * The model's member formulas as the cube stores them, checked by compiling them against the built
 * dimensions (as the engine will).
 * @throws LoadError at the formula (the character at fault where known) for a syntax error, an
 *   unknown or invalid reference, or a cycle (naming its members in order).
 */
export function compileFormulas(plan: ModelPlan, built: BuiltDimension[]): CubeFormula[] {
  const formulas: CubeFormula[] = [];
  const where = new Map<string, PlanFormula>();
  plan.dimensions.forEach((d, i) => {
    const def = built[i].def;
    const listed = d.kind === "measures" ? d.members : d.kind === "static" ? d.members : [];
    const offset = d.kind === "static" && d.hasAll ? 1 : 0;
    listed.forEach((m, j) => {
      if (m.formula === undefined) return;
      const member = memberUniqueName(def, j + offset);
      const f: CubeFormula = { member, expression: m.formula.expression };
      if (m.formula.solveOrder !== undefined) f.solveOrder = m.formula.solveOrder;
      formulas.push(f);
      where.set(member, m.formula);
    });
  });
  if (formulas.length === 0) return formulas;
  const resolver = new Resolver(built.map((b) => new Dimension(b.def)));
  try {
    buildFormulaGraph(formulas, (name) => resolver.member(name));
  } catch (err) {
    if (!(err instanceof FormulaGraphError)) throw err;
    const issue = err.issues[0];
    const at = where.get(issue.member)!;
    const pos = plan.source.textPosition(at.at, issue.column ?? 1);
    const more = err.issues.length > 1 ? ` (and ${err.issues.length - 1} more problem${err.issues.length > 2 ? "s" : ""} with formulas)` : "";
    throw new LoadError(plan.source.file, pos.line, pos.column, `${issue.message}${more}`);
  }
  return formulas;
}
