/**
 * Member formulas (calculated members): the parser, the dependency graph and the evaluator, pure
 * and independent of the engine. See `parse.ts` for the language and `evaluate.ts` for how empty
 * cells and division by zero are treated.
 */
export {
  buildFormulaGraph,
  type CompiledFormula,
  type FormulaDef,
  type FormulaGraph,
  FormulaGraphError,
  type FormulaIssue,
  type FormulaMember,
  formulaRefs,
  memberKey,
  type ResolvedExpr,
  type ResolveMember,
  topoSort,
} from "./graph";
export { type CellValue, evaluateFormula, formulaBaseReads, formulaLeafReads, type LeafRead } from "./evaluate";
export { type BinaryOp, type Expr, FormulaSyntaxError, type FunctionName, forEachRef, parseFormula } from "./parse";
