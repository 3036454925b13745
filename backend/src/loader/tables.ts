/**
 * The load's tables: the dimension tables read from CSV (only the columns the model uses), their
 * join keys indexed, and the snowflake joins resolved row by row.
 */
import { CsvRecordError, recordError, streamCsv } from "./csv";
import { LoadError } from "./errors";
import type { ModelPlan, PlanTable } from "./model";

/** The needed columns of a dimension table, in memory. */
export interface TableData {
  plan: PlanTable;
  header: string[];
  rows: number;
  /** Values by column name (only the columns the model uses). */
  values: Map<string, string[]>;
  /** For a join target: value of the target column -> row. */
  index?: Map<string, number>;
  /** For a table reached from a dimension table: row of this table for each row of its parent. */
  link?: Int32Array;
}

/** Checks a CSV header against the columns the model uses; returns column name -> field index. */
export function checkHeader(plan: ModelPlan, t: PlanTable, header: string[]): Map<string, number> {
  const positions = new Map<string, number>();
  for (const [column, at] of t.columns) {
    const i = header.indexOf(column);
    if (i === -1) {
      throw plan.source.error(
        at,
        `table "${t.name}" (${t.file}) has no column "${column}"; its columns are: ${header.join(", ")}`,
      );
    }
    if (header.indexOf(column, i + 1) !== -1) {
      throw new LoadError(t.file, 1, header.indexOf(column, i + 1) + 1, `column "${column}" appears twice in the header`);
    }
    positions.set(column, i);
  }
  return positions;
}

/**
 * Reads the columns of table `t` that the model uses, and indexes its join key (a duplicate key is
 * an error at its record).
 * @param onBytes bytes of the file read so far, for progress.
 */
export async function readTable(plan: ModelPlan, t: PlanTable, onBytes: (bytes: number) => void): Promise<TableData> {
  const values = new Map<string, string[]>();
  for (const c of t.columns.keys()) values.set(c, []);
  let header: string[] = [];
  let cols: string[][] = [];
  let fields: number[] = [];
  const keyColumn = t.join?.to.column;
  let keyField = -1;
  let index: Map<string, number> | undefined;
  const { records } = await streamCsv(t.file, {
    onHeader(h) {
      header = h;
      const positions = checkHeader(plan, t, h);
      fields = [...t.columns.keys()].map((c) => positions.get(c)!);
      cols = [...t.columns.keys()].map((c) => values.get(c)!);
      if (keyColumn !== undefined) {
        keyField = positions.get(keyColumn)!;
        index = new Map();
      }
    },
    onRecord(record, i) {
      for (let c = 0; c < fields.length; c++) cols[c].push(record[fields[c]]);
      if (index !== undefined) {
        const key = record[keyField];
        const first = index.get(key);
        if (first !== undefined) {
          throw new CsvRecordError(
            i,
            keyField + 1,
            `duplicate key ${keyColumn} = ${JSON.stringify(key)} in table "${t.name}"`,
            first,
          );
        }
        index.set(key, i);
      }
    },
    onBytes,
  });
  return { plan: t, header, rows: records, values, index };
}

/** Resolves the snowflake joins (dimension table -> table) row by row. */
export async function linkTables(plan: ModelPlan, data: Map<string, TableData>): Promise<void> {
  for (const t of data.values()) {
    const j = t.plan.join!;
    if (j.from.table === plan.fact) continue;
    const parent = data.get(j.from.table)!;
    const fk = parent.values.get(j.from.column)!;
    const link = new Int32Array(parent.rows);
    for (let r = 0; r < parent.rows; r++) {
      const row = t.index!.get(fk[r]);
      if (row === undefined) {
        throw await recordError(
          parent.plan.file,
          r,
          parent.header.indexOf(j.from.column) + 1,
          `${j.from.table}.${j.from.column} = ${JSON.stringify(fk[r])} has no match in ${j.to.table}.${j.to.column}`,
        );
      }
      link[r] = row;
    }
    t.link = link;
  }
}

/** For each row of `from`, the row of `to` it reaches through the joins (`to` below `from`). */
export function rowMap(plan: ModelPlan, data: Map<string, TableData>, from: string, to: string): Int32Array {
  const chain: TableData[] = [];
  for (let t = to; t !== from; t = plan.tables.get(t)!.join!.from.table) chain.unshift(data.get(t)!);
  const rows = data.get(from)!.rows;
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let x = r;
    for (const t of chain) x = t.link![x];
    out[r] = x;
  }
  return out;
}
