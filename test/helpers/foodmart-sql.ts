/**
 * An independent oracle for the FoodMart cube: the raw CSVs of data/foodmart read into an in-memory
 * DuckDB and joined as Mondrian's "Sales" cube uses them (see data/foodmart/README.md). It shares
 * no code with the model loader on purpose: the schema below is written from the README, and member
 * filters are built from member paths of names.
 */
import path from "node:path";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";

export const FOODMART_DIR = path.resolve(__dirname, "../../data/foodmart");

/** One level of a hierarchy: the column of the wide fact view that holds its member names. */
export interface LevelSpec {
  name: string;
  column: string;
  /** The level's members are keyed by this column (a customer_id), not named by it. */
  keyed?: boolean;
}

/** A dimension over the dimension tables, as Mondrian's FoodMart.xml defines it. */
export interface DimSpec {
  name: string;
  /** Name of the All member, or null when the hierarchy has no All level. */
  allName: string | null;
  /** Levels below the All level, top first. */
  levels: LevelSpec[];
  /** The dimension table the members come from (the SQL of its rows, with the level columns). */
  membersFrom: string;
}

/** Null values of level columns are members named this (as Mondrian names them). */
export const NULL_NAME = "#null";

export const TABLE_DIMS: readonly DimSpec[] = [
  {
    name: "Store",
    allName: "All Stores",
    levels: [
      { name: "Store Country", column: "store_country" },
      { name: "Store State", column: "store_state" },
      { name: "Store City", column: "store_city" },
      { name: "Store Name", column: "store_name" },
    ],
    membersFrom: "store",
  },
  {
    name: "Store Type",
    allName: "All Store Types",
    levels: [{ name: "Store Type", column: "store_type" }],
    membersFrom: "store",
  },
  {
    name: "Time",
    allName: null,
    levels: [
      { name: "Year", column: "the_year" },
      { name: "Quarter", column: "quarter" },
      { name: "Month", column: "month_of_year" },
    ],
    membersFrom: "time_by_day",
  },
  {
    name: "Product",
    allName: "All Products",
    levels: [
      { name: "Product Family", column: "product_family" },
      { name: "Product Department", column: "product_department" },
      { name: "Product Category", column: "product_category" },
      { name: "Product Subcategory", column: "product_subcategory" },
      { name: "Brand Name", column: "brand_name" },
      { name: "Product Name", column: "product_name" },
    ],
    membersFrom: "product p JOIN product_class pc ON pc.product_class_id = p.product_class_id",
  },
  {
    name: "Promotion Media",
    allName: "All Media",
    levels: [{ name: "Media Type", column: "media_type" }],
    membersFrom: "promotion",
  },
  {
    name: "Promotions",
    allName: "All Promotions",
    levels: [{ name: "Promotion Name", column: "promotion_name" }],
    membersFrom: "promotion",
  },
  {
    name: "Customers",
    allName: "All Customers",
    levels: [
      { name: "Country", column: "country" },
      { name: "State Province", column: "state_province" },
      { name: "City", column: "city" },
      { name: "Name", column: "customer_id", keyed: true },
    ],
    membersFrom: "customer",
  },
  {
    name: "Education Level",
    allName: "All Education Levels",
    levels: [{ name: "Education Level", column: "education" }],
    membersFrom: "customer",
  },
  {
    name: "Gender",
    allName: "All Gender",
    levels: [{ name: "Gender", column: "gender" }],
    membersFrom: "customer",
  },
  {
    name: "Marital Status",
    allName: "All Marital Status",
    levels: [{ name: "Marital Status", column: "marital_status" }],
    membersFrom: "customer",
  },
  {
    name: "Yearly Income",
    allName: "All Yearly Incomes",
    levels: [{ name: "Yearly Income", column: "yearly_income" }],
    membersFrom: "customer",
  },
];

/** Every level column of the wide fact view, in a fixed order. */
export const LEVEL_COLUMNS: readonly string[] = TABLE_DIMS.flatMap((d) => d.levels.map((l) => l.column));

/** The aggregates of a set of fact rows: row count and exact decimal sums (as text). */
export interface FactAggregate {
  rows: number;
  unitSales: string;
  storeSales: string;
  storeCost: string;
}

/** A cell for the oracle: equality filters on level columns (all of them ANDed). */
export interface OracleCell {
  filters: ReadonlyMap<string, string>;
}

/** SQL text literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

const AGGREGATES =
  "count(f.product_id) AS n, sum(f.unit_sales)::VARCHAR AS u, sum(f.store_sales)::VARCHAR AS s, sum(f.store_cost)::VARCHAR AS k";

type Row = Record<string, unknown>;

function toAggregate(r: Row): FactAggregate {
  return {
    rows: Number(r.n),
    unitSales: String(r.u ?? "0"),
    storeSales: String(r.s ?? "0"),
    storeCost: String(r.k ?? "0"),
  };
}

/** The DuckDB side: tables loaded from the CSVs and a wide fact view `f`. */
export class FoodMartSql {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
  ) {}

  static async open(dir = FOODMART_DIR): Promise<FoodMartSql> {
    const instance = await DuckDBInstance.create(":memory:", { threads: "2" });
    const conn = await instance.connect();
    const db = new FoodMartSql(instance, conn);
    try {
      await db.load(dir);
    } catch (err) {
      db.close();
      throw err;
    }
    return db;
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }

  async rows(sql: string): Promise<Row[]> {
    const reader = await this.conn.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Row[];
  }

  private async load(dir: string): Promise<void> {
    const file = (t: string) => sqlString(path.join(dir, `${t}.csv`));
    // Fact measures as exact decimals; keys as integers.
    await this.conn.run(
      `CREATE TABLE sales_fact_1997 AS SELECT * FROM read_csv(${file("sales_fact_1997")}, header = true, delim = ',',
        quote = '"', auto_detect = false, columns = {'product_id': 'INTEGER', 'time_id': 'INTEGER',
        'customer_id': 'INTEGER', 'promotion_id': 'INTEGER', 'store_id': 'INTEGER',
        'store_sales': 'DECIMAL(18,4)', 'store_cost': 'DECIMAL(18,4)', 'unit_sales': 'DECIMAL(18,4)'})`,
    );
    // Dimension tables as text (member names are the text of the CSV fields; empty is NULL).
    for (const t of ["time_by_day", "store", "product", "product_class", "customer", "promotion"]) {
      await this.conn.run(`CREATE TABLE ${t} AS SELECT * FROM read_csv(${file(t)}, header = true, all_varchar = true)`);
    }
    // The star (and the product snowflake), one row per fact row, every level column as text.
    const col = (c: string, from: string) => `coalesce(${from}.${c}, ${sqlString(NULL_NAME)}) AS ${c}`;
    await this.conn.run(
      `CREATE TABLE f AS SELECT
        row_number() OVER (ORDER BY s.product_id, s.time_id, s.customer_id, s.promotion_id, s.store_id,
          s.store_sales, s.store_cost, s.unit_sales) AS rn,
        s.product_id, s.promotion_id, s.unit_sales, s.store_sales, s.store_cost,
        ${["store_country", "store_state", "store_city", "store_name", "store_type"].map((c) => col(c, "st")).join(", ")},
        ${["the_year", "quarter", "month_of_year"].map((c) => col(c, "t")).join(", ")},
        ${["product_family", "product_department", "product_category", "product_subcategory"].map((c) => col(c, "pc")).join(", ")},
        ${["brand_name", "product_name"].map((c) => col(c, "p")).join(", ")},
        ${["media_type", "promotion_name"].map((c) => col(c, "pr")).join(", ")},
        ${["country", "state_province", "city", "customer_id", "education", "gender", "marital_status", "yearly_income"]
          .map((c) => col(c, "c"))
          .join(", ")}
      FROM sales_fact_1997 s
        JOIN time_by_day t ON t.time_id::INTEGER = s.time_id
        JOIN store st ON st.store_id::INTEGER = s.store_id
        JOIN product p ON p.product_id::INTEGER = s.product_id
        JOIN product_class pc ON pc.product_class_id = p.product_class_id
        JOIN customer c ON c.customer_id::INTEGER = s.customer_id
        JOIN promotion pr ON pr.promotion_id::INTEGER = s.promotion_id`,
    );
  }

  /** Number of rows of the fact table as read from the CSV, and of the joined view. */
  async factRowCounts(): Promise<{ csv: number; joined: number }> {
    const [r] = await this.rows("SELECT (SELECT count(*) FROM sales_fact_1997) AS csv, (SELECT count(*) FROM f) AS joined");
    return { csv: Number(r.csv), joined: Number(r.joined) };
  }

  /** Aggregates of the facts matching `where` (SQL over `f`). */
  async aggregate(where = "TRUE"): Promise<FactAggregate> {
    const [r] = await this.rows(`SELECT ${AGGREGATES} FROM f WHERE ${where}`);
    return toAggregate(r);
  }

  /** Level columns of fact rows `rn` (1-based, in a fixed order of the facts). */
  async factRows(rns: readonly number[]): Promise<Map<number, Record<string, string>>> {
    const out = new Map<number, Record<string, string>>();
    if (rns.length === 0) return out;
    const rows = await this.rows(`SELECT rn, ${LEVEL_COLUMNS.join(", ")} FROM f WHERE rn IN (${[...new Set(rns)].join(", ")})`);
    for (const r of rows) {
      const rec: Record<string, string> = {};
      for (const c of LEVEL_COLUMNS) rec[c] = String(r[c]);
      out.set(Number(r.rn), rec);
    }
    return out;
  }

  /**
   * Aggregates of many cells. Cells are grouped by the set of columns they constrain; each group is
   * one hash join of a table of its cells' filter values with the facts, grouped by cell.
   */
  async aggregateCells(cells: readonly OracleCell[]): Promise<FactAggregate[]> {
    const groups = new Map<string, number[]>();
    cells.forEach((c, i) => {
      const key = [...c.filters.keys()].sort().join(",");
      const g = groups.get(key);
      if (g) g.push(i);
      else groups.set(key, [i]);
    });
    await this.conn.run(
      `CREATE OR REPLACE TABLE oracle_cells (id INTEGER, grp INTEGER, ${LEVEL_COLUMNS.map((c) => `${c} VARCHAR`).join(", ")})`,
    );
    const appender = await this.conn.createAppender("oracle_cells");
    let grp = 0;
    for (const ids of groups.values()) {
      for (const id of ids) {
        appender.appendInteger(id);
        appender.appendInteger(grp);
        for (const c of LEVEL_COLUMNS) {
          const v = cells[id].filters.get(c);
          if (v === undefined) appender.appendNull();
          else appender.appendVarchar(v);
        }
        appender.endRow();
      }
      grp++;
    }
    appender.closeSync();
    const out: FactAggregate[] = new Array(cells.length);
    const parts: string[] = [];
    grp = 0;
    for (const key of groups.keys()) {
      const cols = key === "" ? [] : key.split(",");
      const on = cols.length === 0 ? "TRUE" : cols.map((c) => `f.${c} = c.${c}`).join(" AND ");
      parts.push(`SELECT c.id, ${AGGREGATES} FROM oracle_cells c LEFT JOIN f ON ${on} WHERE c.grp = ${grp} GROUP BY c.id`);
      grp++;
    }
    for (const r of await this.rows(parts.join("\nUNION ALL\n"))) out[Number(r.id)] = toAggregate(r);
    return out;
  }

  /**
   * Aggregates of every member of one level of a dimension (by its path of column values), over the
   * facts matching `where`.
   */
  async aggregateLevel(dim: DimSpec, depth: number, where = "TRUE"): Promise<Map<string, FactAggregate>> {
    const cols = dim.levels.slice(0, depth + 1).map((l) => l.column);
    const rows = await this.rows(`SELECT ${cols.join(", ")}, ${AGGREGATES} FROM f WHERE ${where} GROUP BY ALL`);
    const out = new Map<string, FactAggregate>();
    for (const r of rows) out.set(pathKey(cols.map((c) => String(r[c]))), toAggregate(r));
    return out;
  }

  /** The distinct paths of a level's members in the dimension table (not the facts), as path keys. */
  async levelPaths(dim: DimSpec, depth: number): Promise<string[]> {
    const cols = dim.levels.slice(0, depth + 1).map((l) => `coalesce(${l.column}, ${sqlString(NULL_NAME)}) AS ${l.column}`);
    const names = dim.levels.slice(0, depth + 1).map((l) => l.column);
    const rows = await this.rows(`SELECT DISTINCT ${cols.join(", ")} FROM ${dim.membersFrom}`);
    return rows.map((r) => pathKey(names.map((c) => String(r[c]))));
  }

  /** Number of distinct members of a level, by SQL COUNT(DISTINCT) over the dimension table. */
  async countDistinct(dim: DimSpec, depth: number): Promise<number> {
    const cols = dim.levels.slice(0, depth + 1).map((l) => `coalesce(${l.column}, ${sqlString(NULL_NAME)})`);
    const [r] = await this.rows(`SELECT count(DISTINCT (${cols.join(", ")})) AS n FROM ${dim.membersFrom}`);
    return Number(r.n);
  }
}

/** Key of a path of names (joined by a character that no name holds). */
export function pathKey(parts: readonly string[]): string {
  return parts.join("\u0001");
}
