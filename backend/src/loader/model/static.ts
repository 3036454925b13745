/**
 * Compiling a static dimension (listed members): the member tree, formula members, the fact
 * member and seeded copies with their exact factors.
 */
import { parseScaled } from "../decimal";
import type { PlanFactor, PlanStaticDimension, PlanStaticMember } from "./plan";
import type { ModelFile, ModelPath, ModelStaticMember } from "./schema";
import type { ModelSource } from "./source";

/**
 * Compiles a static dimension of the model: flattens its members parents first, checks formula
 * members, and resolves the fact member and the seeded members (chains of seeds multiply their
 * factors).
 * @throws LoadError at the offending member or key.
 */
export function compileStatic(
  source: ModelSource,
  d: Extract<ModelFile["dimensions"][number], { kind: "static" }>,
  at: ModelPath,
  allMemberName: string,
  allLevelName: string,
): PlanStaticDimension {
  const { error } = source;
  const members: PlanStaticMember[] = [];
  const seeds: { member: number; from: string; factor: PlanFactor; at: ModelPath }[] = [];
  let maxDepth = 0;
  const walk = (list: ModelStaticMember[], parent: number, depth: number, listAt: ModelPath) => {
    const siblings = new Set<string>();
    list.forEach((m, i) => {
      const mat: ModelPath = [...listAt, i];
      if (siblings.has(m.name)) throw error(mat, `member "${m.name}" is listed twice under the same parent`);
      siblings.add(m.name);
      const index = members.length;
      const member: PlanStaticMember = { name: m.name, caption: m.caption, weight: m.weight, parent, depth, at: mat };
      members.push(member);
      maxDepth = Math.max(maxDepth, depth);
      if (m.formula !== undefined) {
        member.formula = { expression: m.formula, solveOrder: m.solveOrder, at: [...mat, "formula"] };
        if (m.formatString !== undefined) member.formatString = m.formatString;
        if (d.hasAll) {
          throw error(
            [...mat, "formula"],
            `member "${m.name}" has a formula, but the dimension has an All member, into which every member adds: a formula member must not add into a consolidated member (set hasAll: false)`,
          );
        }
        if (parent !== -1) {
          throw error(
            [...mat, "formula"],
            `member "${m.name}" has a formula, but it adds into "${members[parent].name}": a formula member must not add into a consolidated member (make it a top-level member)`,
          );
        }
        if (m.children !== undefined && m.children.length > 0) {
          throw error([...mat, "children"], `member "${m.name}" has a formula, so it cannot have members below it`);
        }
        for (const key of ["seedFrom", "seedFactor", "weight"] as const) {
          if (m[key] !== undefined) throw error([...mat, key], `member "${m.name}" has a formula, so it has no ${key}: its cells are calculated, not stored`);
        }
      } else if (m.solveOrder !== undefined) {
        throw error([...mat, "solveOrder"], `member "${m.name}": solveOrder applies to a formula`);
      } else if (m.formatString !== undefined) {
        throw error([...mat, "formatString"], `member "${m.name}": formatString applies to a formula member (a stored cell shows in its measure's format)`);
      }
      if (m.seedFactor !== undefined && m.seedFrom === undefined) {
        throw error([...mat, "seedFactor"], `member "${m.name}": seedFactor applies to a member seeded with seedFrom`);
      }
      if (m.seedFrom !== undefined) {
        seeds.push({ member: index, from: m.seedFrom, factor: seedFactor(source, m.seedFactor, [...mat, "seedFactor"]), at: [...mat, "seedFrom"] });
      }
      if (m.children && m.children.length > 0) {
        if (m.seedFrom !== undefined) throw error([...mat, "seedFrom"], "only a leaf member can be seeded");
        walk(m.children, index, depth + 1, [...mat, "children"]);
      }
    });
  };
  walk(d.members, -1, 0, [...at, "members"]);
  const isLeaf = (i: number) => !members.some((m) => m.parent === i);
  const find = (name: string, p: ModelPath): number => {
    const hits = members.flatMap((m, i) => (m.name === name ? [i] : []));
    if (hits.length === 0) throw error(p, `no member "${name}" in dimension "${d.name}"`);
    if (hits.length > 1) throw error(p, `member name "${name}" is ambiguous in dimension "${d.name}"`);
    return hits[0];
  };
  let factMember: number;
  if (d.factMember !== undefined) {
    factMember = find(d.factMember, [...at, "factMember"]);
  } else {
    factMember = members.findIndex((m, i) => isLeaf(i) && m.formula === undefined);
  }
  if (factMember < 0 || !isLeaf(factMember)) {
    throw error([...at, "factMember"], factMember < 0 ? "the dimension needs a leaf member without a formula to receive the facts" : `the fact member "${members[factMember].name}" must be a leaf member`);
  }
  if (members[factMember].formula !== undefined) {
    throw error([...at, "factMember"], `the fact member "${members[factMember].name}" has a formula: its cells are calculated, so it cannot receive facts`);
  }
  // A seeded member is a copy of the member it seeds from; follow chains to the fact member,
  // multiplying the factors along the way.
  const seedOf = new Map<number, { from: number; factor: PlanFactor; at: ModelPath }>();
  for (const s of seeds) {
    const from = find(s.from, s.at);
    if (members[from].formula !== undefined) {
      throw error(s.at, `"${members[s.member].name}" is seeded from "${members[from].name}", a formula member, which has no stored cells`);
    }
    seedOf.set(s.member, { from, factor: s.factor, at: s.at });
  }
  const factLeaves = [factMember];
  const factFactors: PlanFactor[] = [{ num: 1, exp: 0, at: null }];
  for (const s of seeds) {
    let m = s.member;
    const seen = new Set<number>();
    let factor: PlanFactor = { num: 1, exp: 0, at: null };
    while (m !== factMember) {
      const next = seedOf.get(m);
      if (!next) {
        throw error(s.at, `"${members[s.member].name}" is seeded from "${members[m].name}", which receives no facts`);
      }
      if (seen.has(m)) throw error(s.at, `seeding of "${members[s.member].name}" runs in a circle`);
      seen.add(m);
      factor = multiplyFactors(source, factor, next.factor);
      m = next.from;
    }
    if (s.member === factMember) throw error(s.at, "the fact member cannot be seeded");
    factLeaves.push(s.member);
    factFactors.push(factor);
  }
  const levelCount = maxDepth + 1;
  if (d.levels !== undefined && d.levels.length !== levelCount) {
    throw error([...at, "levels"], `${d.levels.length} level names given for ${levelCount} levels of members`);
  }
  const levels = d.levels ?? Array.from({ length: levelCount }, (_, i) => (i === 0 ? d.name : `${d.name} ${i + 1}`));
  return {
    kind: "static",
    name: d.name,
    hasAll: d.hasAll,
    allMemberName,
    allLevelName,
    levels,
    members,
    defaultMember: d.defaultMember,
    factLeaves,
    factFactors,
    at,
  };
}

/** Most decimal places of a seedFactor. */
const MAX_FACTOR_DECIMALS = 6;

/**
 * A seedFactor as an exact decimal (1 when not given).
 * @throws LoadError at `at` when it has more than 6 decimal places or is too large.
 */
function seedFactor(source: ModelSource, factor: number | undefined, at: ModelPath): PlanFactor {
  if (factor === undefined) return { num: 1, exp: 0, at: null };
  const scaled = parseScaled(String(factor), MAX_FACTOR_DECIMALS);
  if (!Number.isFinite(factor) || Number.isNaN(scaled)) {
    throw source.error(at, `seedFactor ${factor} must be a plain decimal with at most ${MAX_FACTOR_DECIMALS} decimal places, e.g. 1.05`);
  }
  let num = scaled;
  let exp = MAX_FACTOR_DECIMALS;
  while (exp > 0 && num % 10 === 0) {
    num /= 10;
    exp--;
  }
  return { num, exp, at };
}

/**
 * The product of two exact decimal factors (chained seeds).
 * @throws LoadError when the product cannot be held exactly.
 */
function multiplyFactors(source: ModelSource, a: PlanFactor, b: PlanFactor): PlanFactor {
  const num = a.num * b.num;
  const exp = a.exp + b.exp;
  const at = a.at ?? b.at;
  if (!Number.isSafeInteger(num) || exp > 2 * MAX_FACTOR_DECIMALS) {
    throw source.error(at ?? [], "the seed factors along this chain of seeds multiply to a number that cannot be held exactly");
  }
  return { num, exp, at };
}

