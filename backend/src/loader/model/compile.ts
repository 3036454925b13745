/**
 * Cross-reference validation: from the validated model file to a plan the loader executes.
 */
import path from "node:path";
import { type ExprTerm, parseExpression } from "../expression";
import type {
  ColumnRef,
  ModelPlan,
  PlanDimension,
  PlanExpr,
  PlanJoin,
  PlanLevel,
  PlanMeasure,
  PlanMeasuresDimension,
  PlanTable,
} from "./plan";
import type { ModelPath } from "./schema";
import type { ModelSource } from "./source";
import { compileStatic } from "./static";

/**
 * Resolves a validated model file's cross-references: tables, joins (a tree rooted at the fact
 * table: each table is the target of at most one join), the tables and columns of levels,
 * expressions, static members, measures, and name uniqueness.
 * @throws LoadError pointing at the offending key of the model file.
 */
export function compileModel(source: ModelSource): ModelPlan {
  const { model, error } = source;
  const declared = model.tables;
  if (!Object.hasOwn(declared, model.fact)) {
    throw error(["fact"], `fact table "${model.fact}" is not declared under tables`);
  }
  const tables = new Map<string, PlanTable>();
  const tableEntry = (name: string): PlanTable => {
    let t = tables.get(name);
    if (!t) {
      t = {
        name,
        file: path.resolve(source.dir, declared[name].file),
        at: ["tables", name],
        columns: new Map(),
      };
      tables.set(name, t);
    }
    return t;
  };
  const need = (ref: ColumnRef) => {
    const t = tableEntry(ref.table);
    if (!t.columns.has(ref.column)) t.columns.set(ref.column, ref.at);
  };

  // Joins: parse, check, and index by target table.
  const joinTo = new Map<string, PlanJoin>();
  model.joins.forEach((j, index) => {
    const [fromTable, fromColumn] = splitQualified(j.from);
    if (fromColumn === undefined) {
      throw error(["joins", index, "from"], `join "from" must be <table>.<column>, got "${j.from}"`);
    }
    if (!Object.hasOwn(declared, fromTable)) {
      throw error(["joins", index, "from"], `table "${fromTable}" is not declared under tables`);
    }
    const [toTable, toColumnGiven] = splitQualified(j.to);
    if (!Object.hasOwn(declared, toTable)) {
      throw error(["joins", index, "to"], `table "${toTable}" is not declared under tables`);
    }
    const toColumn = toColumnGiven ?? declared[toTable].key;
    if (toColumn === undefined) {
      throw error(
        ["joins", index, "to"],
        `join to "${toTable}" names no column and the table declares no key (write ${toTable}.<column> or give it a key)`,
      );
    }
    if (toTable === model.fact) throw error(["joins", index, "to"], "a join cannot lead to the fact table");
    if (toTable === fromTable) throw error(["joins", index, "to"], "a join cannot lead from a table to itself");
    if (joinTo.has(toTable)) {
      throw error(
        ["joins", index, "to"],
        `table "${toTable}" is already the target of joins[${joinTo.get(toTable)!.index}]; declare the table a second time under another name to join it twice`,
      );
    }
    const toAt: ModelPath = toColumnGiven === undefined ? ["tables", toTable, "key"] : ["joins", index, "to"];
    joinTo.set(toTable, {
      from: { table: fromTable, column: fromColumn, at: ["joins", index, "from"] },
      to: { table: toTable, column: toColumn, at: toAt },
      index,
    });
  });
  // Every join must hang off the fact table (directly or through other joins).
  const rootOf = (table: string, seen = new Set<string>()): string => {
    const j = joinTo.get(table);
    if (!j) return table;
    if (seen.has(table)) return table;
    seen.add(table);
    return rootOf(j.from.table, seen);
  };
  for (const j of joinTo.values()) {
    if (rootOf(j.to.table) !== model.fact) {
      throw error(
        ["joins", j.index, "from"],
        `table "${j.from.table}" is not reached from the fact table "${model.fact}" by the joins`,
      );
    }
  }
  /** Tables on the way from the fact table to `table`, the fact table first. */
  const chain = (table: string): string[] => {
    const out = [table];
    let t = table;
    while (joinTo.has(t)) {
      t = joinTo.get(t)!.from.table;
      out.unshift(t);
    }
    return out;
  };
  /** Adds `table` and the tables and join columns on the way to it. */
  const use = (table: string) => {
    const c = chain(table);
    tableEntry(c[0]);
    for (let i = 1; i < c.length; i++) {
      const j = joinTo.get(c[i])!;
      const t = tableEntry(c[i]);
      t.join = j;
      need(j.from);
      need(j.to);
    }
  };
  use(model.fact);

  /**
   * Resolves a column reference written in the model: `table.column` when the part before the first
   * `.` is a declared table, else a column of `defaultTable`. The table must be `defaultTable` or be
   * reached from it by joins.
   */
  const columnRef = (text: string, defaultTable: string, at: ModelPath): ColumnRef => {
    const [t, c] = splitQualified(text);
    let table = defaultTable;
    let column = text;
    if (c !== undefined && Object.hasOwn(declared, t)) {
      table = t;
      column = c;
    }
    if (table !== defaultTable && !chain(table).includes(defaultTable)) {
      throw error(at, `table "${table}" is not reached from table "${defaultTable}" by the joins`);
    }
    const ref = { table, column, at };
    use(table);
    need(ref);
    return ref;
  };
  const expr = (text: string, defaultTable: string, at: ModelPath): PlanExpr => {
    let terms: ExprTerm[];
    try {
      terms = parseExpression(text);
    } catch (err) {
      throw error(at, `invalid expression ${JSON.stringify(text)}: ${(err as Error).message}`);
    }
    return terms.map((term) =>
      term.kind === "literal" ? term : { kind: "column" as const, ref: columnRef(term.ref, defaultTable, at) },
    );
  };

  /** A measure's column: a column of the fact table. */
  const factColumn = (text: string, at: ModelPath): ColumnRef => {
    const ref = columnRef(text, model.fact, at);
    if (ref.table !== model.fact) throw error(at, `a measure's column must be a column of the fact table "${model.fact}"`);
    return ref;
  };

  const dimensions: PlanDimension[] = [];
  const dimNames = new Map<string, number>();
  let measuresCount = 0;
  model.dimensions.forEach((d, di) => {
    const at: ModelPath = ["dimensions", di];
    if (dimNames.has(d.name)) {
      throw error([...at, "name"], `dimension "${d.name}" is defined twice (also dimensions[${dimNames.get(d.name)}])`);
    }
    dimNames.set(d.name, di);
    const allMemberName =
      "allMemberName" in d && d.allMemberName ? d.allMemberName : `All ${d.name}${d.name.endsWith("s") ? "" : "s"}`;
    const allLevelName = "allLevelName" in d && d.allLevelName ? d.allLevelName : "(All)";
    switch (d.kind) {
      case "levels":
      case "attribute": {
        let table: string;
        let levels: { name: string; column: string; nameExpression?: string; captionExpression?: string; uniqueMembers: boolean; order: "name" | "key" | "file"; at: ModelPath; columnAt: ModelPath }[];
        if (d.kind === "levels") {
          table = d.table;
          if (!Object.hasOwn(declared, table)) throw error([...at, "table"], `table "${table}" is not declared under tables`);
          levels = d.levels.map((l, li) => ({ ...l, at: [...at, "levels", li], columnAt: [...at, "levels", li, "column"] }));
        } else {
          const [t, c] = splitQualified(d.attribute);
          if (c === undefined || !Object.hasOwn(declared, t)) {
            throw error([...at, "attribute"], `attribute must be <table>.<column> of a declared table, got "${d.attribute}"`);
          }
          table = t;
          levels = [
            {
              name: d.levelName ?? d.name,
              column: c,
              nameExpression: d.nameExpression,
              captionExpression: d.captionExpression,
              uniqueMembers: true,
              order: d.order,
              at,
              columnAt: [...at, "attribute"],
            },
          ];
        }
        if (table === model.fact) {
          throw error(
            [...at, d.kind === "levels" ? "table" : "attribute"],
            "a dimension on the fact table itself (a degenerate dimension) is not supported; use a dimension table",
          );
        }
        if (!joinTo.has(table)) {
          throw error(
            [...at, d.kind === "levels" ? "table" : "attribute"],
            `table "${table}" is not reached from the fact table "${model.fact}" by the joins`,
          );
        }
        use(table);
        const levelNames = new Set<string>([allLevelName]);
        const planLevels: PlanLevel[] = levels.map((l) => {
          if (levelNames.has(l.name)) throw error([...l.at, "name"], `level name "${l.name}" is used twice in dimension "${d.name}"`);
          levelNames.add(l.name);
          return {
            name: l.name,
            column: columnRef(l.column, table, l.columnAt),
            nameExpr: l.nameExpression === undefined ? undefined : expr(l.nameExpression, table, d.kind === "levels" ? [...l.at, "nameExpression"] : [...at, "nameExpression"]),
            captionExpr:
              l.captionExpression === undefined
                ? undefined
                : expr(l.captionExpression, table, d.kind === "levels" ? [...l.at, "captionExpression"] : [...at, "captionExpression"]),
            uniqueMembers: l.uniqueMembers,
            order: l.order,
            at: l.at,
          };
        });
        dimensions.push({
          kind: "table",
          name: d.name,
          table,
          hasAll: d.hasAll,
          allMemberName,
          allLevelName,
          defaultMember: d.defaultMember,
          levels: planLevels,
          at,
        });
        break;
      }
      case "static":
        dimensions.push(compileStatic(source, d, at, allMemberName, allLevelName));
        break;
      case "measures": {
        measuresCount++;
        if (measuresCount > 1) throw error(at, "a cube has one measures dimension; this is the second");
        const names = new Set<string>();
        const members: PlanMeasuresDimension["members"] = [];
        const measures: PlanMeasure[] = [];
        d.measures.forEach((m, mi) => {
          const mat: ModelPath = [...at, "measures", mi];
          if (names.has(m.name)) throw error([...mat, "name"], `measure "${m.name}" is defined twice`);
          names.add(m.name);
          if (m.formula !== undefined) {
            for (const key of ["aggregator", "column", "decimals"] as const) {
              if (m[key] !== undefined) {
                throw error([...mat, key], `measure "${m.name}" has a formula, so it has no ${key}: its cells are calculated, not loaded`);
              }
            }
            members.push({ name: m.name, caption: m.caption, formatString: m.formatString, formula: { expression: m.formula, solveOrder: m.solveOrder, at: [...mat, "formula"] } });
            return;
          }
          if (m.solveOrder !== undefined) throw error([...mat, "solveOrder"], `measure "${m.name}": solveOrder applies to a formula`);
          if (m.aggregator === undefined) {
            throw error(mat, `measure "${m.name}" needs an aggregator (sum or count) or a formula`);
          }
          if (m.aggregator === "sum" && m.column === undefined) {
            throw error(mat, `measure "${m.name}": aggregator sum needs a column`);
          }
          members.push({ name: m.name, caption: m.caption, formatString: m.formatString });
          measures.push({
            name: m.name,
            caption: m.caption,
            member: mi,
            aggregator: m.aggregator,
            column: m.column === undefined ? undefined : factColumn(m.column, [...mat, "column"]),
            decimals: m.aggregator === "count" ? 0 : (m.decimals ?? 4),
            at: mat,
          });
        });
        if (measures.length === 0) throw error([...at, "measures"], "the measures dimension needs at least one stored measure (with an aggregator)");
        dimensions.push({
          kind: "measures",
          name: d.name,
          levelName: d.levelName ?? "MeasuresLevel",
          members,
          measures,
          defaultMember: d.defaultMember,
          at,
        });
        break;
      }
    }
  });
  if (measuresCount === 0) {
    throw error(["dimensions"], "the cube needs a measures dimension (a dimension with `measures:`)");
  }
  return { source, cube: model.cube, description: model.description, tables, fact: model.fact, dimensions };
}

/** Splits `table.column` at the first dot; the column is undefined when there is no dot. */
function splitQualified(text: string): [string, string | undefined] {
  const dot = text.indexOf(".");
  if (dot <= 0 || dot === text.length - 1) return [text, undefined];
  return [text.slice(0, dot), text.slice(dot + 1)];
}
