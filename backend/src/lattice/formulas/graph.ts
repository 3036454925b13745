/**
 * Compiles a cube's member formulas: parses them, resolves their references against the cube,
 * builds the dependency graph between formula members and orders it (dependencies first), the way
 * hyperformula's TopSort does, reporting cycles with the members in them in order.
 */
import { type Expr, FormulaSyntaxError, forEachRef, parseFormula } from "./parse";

/** A resolved member: the index of its dimension in the cube and its id there (as `Resolver.member`). */
export interface FormulaMember {
  dim: number;
  id: number;
}

/**
 * Resolves a member name, e.g. `(name) => resolver.member(name)`: a member, or an error with a
 * message for a person (`AddressError` fits).
 */
export type ResolveMember = (name: string) => FormulaMember | { message: string };

/** One formula as declared: the calculated member's unique name and its expression. */
export interface FormulaDef {
  member: string;
  expression: string;
}

/** A formula's tree with every reference resolved: a `ref` node holds one member per named dimension. */
export type ResolvedExpr = Expr<FormulaMember>;

/** A parsed, resolved formula. */
export interface CompiledFormula {
  /** The member's unique name as declared. */
  member: string;
  /** The calculated member. */
  target: FormulaMember;
  expression: string;
  expr: ResolvedExpr;
  /** Indexes (into `FormulaGraph.formulas`) of the formulas this one reads directly, without repeats. */
  dependsOn: number[];
}

/** The compiled formulas of a cube. */
export interface FormulaGraph {
  /** The formulas in declaration order. */
  formulas: CompiledFormula[];
  /** Indexes into `formulas`, each formula after every formula it reads. */
  order: number[];
  /** Index into `formulas` of the formula defining a member, by `memberKey`. */
  byMember: Map<string, number>;
}

/** What went wrong with one formula (or, for a cycle, with several). */
export interface FormulaIssue {
  kind: "syntax" | "member" | "reference" | "duplicate" | "cycle";
  /** The formula's member as declared (for a cycle, the first member of the cycle). */
  member: string;
  message: string;
  /** For a syntax or reference error: the 1-based column in the expression. */
  column?: number;
  /** For a cycle: the members in it in order, the first repeated at the end. */
  cycle?: string[];
}

/** Thrown by `buildFormulaGraph` with every problem found; the message lists them, one a line. */
export class FormulaGraphError extends Error {
  /** @param issues the problems, in declaration order (cycles last). */
  constructor(readonly issues: FormulaIssue[]) {
    super(issues.map((i) => i.message).join("\n"));
    this.name = "FormulaGraphError";
  }
}

/** A key identifying a member of the cube, for maps. */
export function memberKey(m: FormulaMember): string {
  return `${m.dim}:${m.id}`;
}

function isMember(r: FormulaMember | { message: string }): r is FormulaMember {
  return !("message" in r);
}

/**
 * Parses and resolves formulas and orders them by dependency.
 *
 * A reference names one member per dimension it sets; the other coordinates come from the cell
 * being computed. Formula F depends on formula G when one of F's references names G's member. A
 * reference that names no member of F's own dimension would read F itself (at other coordinates,
 * endlessly), so it is reported as a self-reference cycle.
 *
 * @param defs the formulas, in declaration order.
 * @param resolve resolves member names (the formula's member and its references).
 * @throws FormulaGraphError listing every syntax error, unknown or invalid reference, duplicate
 *   formula and cycle (e.g. `formula cycle: [Measures].[A] -> [Measures].[B] -> [Measures].[A]`).
 */
export function buildFormulaGraph(defs: readonly FormulaDef[], resolve: ResolveMember): FormulaGraph {
  const issues: FormulaIssue[] = [];
  const formulas: CompiledFormula[] = [];
  const byMember = new Map<string, number>();
  /** Member key -> the name under which a formula for it was first declared. */
  const declared = new Map<string, string>();
  /** Per formula, the member keys its references name on each dimension (with the reference text). */
  const named: { key: string; text: string }[][] = [];

  for (const def of defs) {
    const target = resolve(def.member);
    if (!isMember(target)) {
      issues.push({ kind: "member", member: def.member, message: `formula for ${def.member}: the member does not resolve: ${target.message}` });
      continue;
    }
    const tkey = memberKey(target);
    const prev = declared.get(tkey);
    if (prev !== undefined) {
      issues.push({
        kind: "duplicate",
        member: def.member,
        message: `formula for ${def.member}: the member already has a formula (declared as ${prev})`,
      });
      continue;
    }
    declared.set(tkey, def.member);
    let ast: Expr<string>;
    try {
      ast = parseFormula(def.expression);
    } catch (e) {
      if (!(e instanceof FormulaSyntaxError)) throw e;
      issues.push({ kind: "syntax", member: def.member, column: e.column, message: `formula for ${def.member}: ${e.message} in "${def.expression}"` });
      continue;
    }
    const refs: { key: string; text: string }[] = [];
    let ok = true;
    const expr = mapRefs(ast, (names, text, pos) => {
      const members: FormulaMember[] = [];
      let refOk = true;
      for (const name of names) {
        const r = resolve(name);
        if (!isMember(r)) {
          issues.push({
            kind: "reference",
            member: def.member,
            column: pos,
            message: `formula for ${def.member}: bad reference ${name} at column ${pos}: ${r.message}`,
          });
          refOk = false;
          continue;
        }
        const clash = members.find((m) => m.dim === r.dim);
        if (clash) {
          issues.push({
            kind: "reference",
            member: def.member,
            column: pos,
            message: `formula for ${def.member}: reference ${text} at column ${pos} names two members of the same dimension`,
          });
          refOk = false;
          continue;
        }
        members.push(r);
      }
      if (refOk && !members.some((m) => m.dim === target.dim)) {
        issues.push({
          kind: "cycle",
          member: def.member,
          cycle: [def.member, def.member],
          message: `formula cycle: ${def.member} -> ${def.member} (reference ${text} at column ${pos} names no member of the formula's own dimension, so it reads ${def.member} itself)`,
        });
        refOk = false;
      }
      if (!refOk) ok = false;
      for (const m of members) refs.push({ key: memberKey(m), text });
      return members;
    });
    if (!ok) continue;
    byMember.set(tkey, formulas.length);
    formulas.push({ member: def.member, target, expression: def.expression, expr, dependsOn: [] });
    named.push(refs);
  }

  // Edges: formula -> formulas whose members its references name.
  formulas.forEach((f, i) => {
    const seen = new Set<number>();
    for (const r of named[i]) {
      const j = byMember.get(r.key);
      if (j !== undefined && !seen.has(j)) {
        seen.add(j);
        f.dependsOn.push(j);
      }
    }
  });

  const { order, cycles } = topoSort(formulas.map((f) => f.dependsOn));
  for (const c of cycles) {
    const names = c.map((i) => formulas[i].member);
    issues.push({ kind: "cycle", member: names[0], cycle: names, message: `formula cycle: ${names.join(" -> ")}` });
  }
  if (issues.length > 0) throw new FormulaGraphError(issues);
  return { formulas, order, byMember };
}

/** Copies a tree, replacing each reference's member names by `resolve(names, text, pos)`. */
function mapRefs<A, B>(e: Expr<A>, resolve: (members: A[], text: string, pos: number) => B[]): Expr<B> {
  switch (e.kind) {
    case "number":
      return e;
    case "ref":
      return { kind: "ref", members: resolve(e.members, e.text, e.pos), text: e.text, pos: e.pos };
    case "neg":
      return { kind: "neg", operand: mapRefs(e.operand, resolve), pos: e.pos };
    case "binary":
      return { kind: "binary", op: e.op, left: mapRefs(e.left, resolve), right: mapRefs(e.right, resolve), pos: e.pos };
    case "call":
      return { kind: "call", fn: e.fn, args: e.args.map((a) => mapRefs(a, resolve)), pos: e.pos };
  }
}

/**
 * Orders the nodes of a directed graph so that every node comes after the nodes it points to
 * (depth-first, iteratively, visiting nodes and edges in the order given).
 * @param edges for each node, the nodes it depends on.
 * @returns every node, in dependency order (meaningful only when there are no cycles), and each
 *   cycle met (one per back edge) as the nodes along it, the first repeated at the end.
 */
export function topoSort(edges: readonly (readonly number[])[]): { order: number[]; cycles: number[][] } {
  const n = edges.length;
  const state = new Uint8Array(n); // 0 new, 1 on the path, 2 done
  const order: number[] = [];
  const cycles: number[][] = [];
  const path: number[] = [];
  const nextEdge: number[] = [];
  for (let s = 0; s < n; s++) {
    if (state[s] !== 0) continue;
    path.push(s);
    nextEdge.push(0);
    state[s] = 1;
    while (path.length > 0) {
      const top = path.length - 1;
      const v = path[top];
      const out = edges[v];
      if (nextEdge[top] < out.length) {
        const w = out[nextEdge[top]++];
        if (state[w] === 0) {
          state[w] = 1;
          path.push(w);
          nextEdge.push(0);
        } else if (state[w] === 1) {
          const from = path.lastIndexOf(w);
          cycles.push([...path.slice(from), w]);
        }
        continue;
      }
      state[v] = 2;
      order.push(v);
      path.pop();
      nextEdge.pop();
    }
  }
  return { order, cycles };
}

/** Every member reference of a resolved formula, in source order. */
export function formulaRefs(f: CompiledFormula): FormulaMember[][] {
  const out: FormulaMember[][] = [];
  forEachRef(f.expr, (r) => out.push(r.members));
  return out;
}
