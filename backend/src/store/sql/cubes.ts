/** Cubes in the store: list, save (bulk insert or COPY) and load (keyset pages) a cube's leaf cells. */
import type { CellWriter, CubeDef, LeafCells } from "../../lattice";
import type { SqlDriver, SqlRunner } from "../driver";
import type { ProgressFn, StoredCube } from "../types";
import type { SecurityModel } from "../../security/model";
import { DEFAULT_TENANT } from "../../../../common/tenants";
import { copyChunks, epochMs, parseCoordList, sortedRowOrder, validateCells } from "./codecs";
import { type CellColumns, decodeCellCopy } from "./copy-binary";
import { insertSecurity, loadSecurity } from "./security";
import { CUBE_SOURCE_SQL, type CellsFingerprint } from "../snapshot";

/** Stored cubes of every tenant, ordered by id; `loadedAt` in ms since the epoch. */
export async function listCubes(db: SqlRunner): Promise<{ id: number; name: string; tenant: string; loadedAt: number }[]> {
  const rows = await db.query<{ id: number; name: string; tenant: string; loaded_at: unknown }>(
    `SELECT id, name, tenant, ${epochMs("loaded_at")} AS loaded_at FROM cube ORDER BY id`,
  );
  return rows.map((r) => ({ id: Number(r.id), name: r.name, tenant: r.tenant, loadedAt: Number(r.loaded_at) }));
}

/**
 * Stores `def` and `cells` as a new cube (new id), deleting a cube of the same name with its cells,
 * audit records and comments, all in one transaction. On a PostgreSQL server the cells go in with
 * `COPY FROM STDIN` (pg-copy-streams) inside that transaction; on PGlite with batched
 * `INSERT ... unnest`. Every cell is stored with version 0 and no
 * writer (`cells.versions` is ignored); NaN values are stored as NULL (cleared cells). Cells are
 * inserted sorted by coordinates in batches (10,000 rows by default); `onProgress(done, total)` is called
 * after each batch, and an exception it throws aborts the save like any other error.
 * `security` (the cube's rights, canonical; null: an open cube) is saved with it at version 1.
 * The cube belongs to `tenant` (common/tenants.ts): only a cube of the same name in that tenant is
 * replaced. Resolves to the new cube id.
 * @throws Error before touching the database when `cells` does not fit `def` (no name or no
 * dimensions, number of coordinate columns, column lengths, duplicate coordinates); otherwise the
 * database error (or the one `onProgress` threw). On any error the transaction is rolled back: a previous cube of that name stays intact.
 */
export async function saveCube(
  db: SqlDriver,
  batchRows: number,
  def: CubeDef,
  cells: LeafCells,
  onProgress?: ProgressFn,
  security: SecurityModel | null = null,
  tenant: string = DEFAULT_TENANT,
): Promise<number> {
  validateCells(def, cells);
  const dims = def.dimensions.length;
  const total = cells.count;
  const order = sortedRowOrder(cells);
  const coords = cells.coords.map((column) => {
    const out = new Int32Array(total);
    for (let i = 0; i < total; i++) out[i] = column[order[i]];
    return out;
  });
  const values = new Float64Array(total);
  for (let i = 0; i < total; i++) values[i] = cells.values[order[i]];

  const cols = coords.map((_, d) => `c${d}`);
  const insertSql = `INSERT INTO cell (cube_id, coords, value)
    SELECT $1, ARRAY[${cols.map((c) => `u.${c}`).join(", ")}], NULLIF(u.v, 'NaN'::float8)
    FROM unnest($2::float8[], ${cols.map((_, d) => `$${d + 3}::int[]`).join(", ")}) AS u(v, ${cols.join(", ")})`;

  return db.transaction(async (tx) => {
    // Cells and audit rows have no foreign key to cube (migrations 003 and 006: it slowed bulk loads
    // and commits), so delete them first.
    await tx.query("DELETE FROM cell WHERE cube_id IN (SELECT id FROM cube WHERE name = $1 AND tenant = $2)", [def.name, tenant]);
    await tx.query("DELETE FROM audit_log WHERE cube_id IN (SELECT id FROM cube WHERE name = $1 AND tenant = $2)", [def.name, tenant]);
    await tx.query("DELETE FROM cube WHERE name = $1 AND tenant = $2", [def.name, tenant]);
    const [{ id }] = await tx.query<{ id: number }>(
      "INSERT INTO cube (name, def, tenant) VALUES ($1, $2::jsonb, $3) RETURNING id",
      [def.name, JSON.stringify(def), tenant],
    );
    if (security) await insertSecurity(tx, Number(id), security);
    if (db.kind === "postgres" && tx.copyFrom) {
      // PostgreSQL server: COPY FROM STDIN, in this transaction (a failure rolls it all back).
      const copied = await tx.copyFrom(
        "COPY cell (cube_id, coords, value) FROM STDIN",
        copyChunks(Number(id), coords, values, batchRows, onProgress),
      );
      if (copied !== total) throw new Error(`COPY stored ${copied} cells of ${total}`);
    } else {
      for (let start = 0; start < total; start += batchRows) {
        const end = Math.min(total, start + batchRows);
        const params: unknown[] = [id, `{${values.subarray(start, end).join(",")}}`];
        for (let d = 0; d < dims; d++) params.push(`{${coords[d].subarray(start, end).join(",")}}`);
        await tx.query(insertSql, params);
        onProgress?.(end, total);
      }
    }
    // Fresh statistics keep the planner on the primary key for loadCube and commitWrites
    // (PGlite runs no autovacuum).
    await tx.exec("ANALYZE cell");
    return Number(id);
  });
}

/**
 * Reads cube `name` of `tenant` with every committed write applied, from one consistent snapshot. On
 * a PostgreSQL server the rows come in one binary COPY (storage order, decoded straight into the
 * columns: sql/copy-binary.ts); on PGlite in coordinate order, in pages (50,000 rows by default).
 * `onProgress(done, total)` is called as rows arrive. `cells.versions` is always set; cleared cells
 * have NaN values. `writers` holds the rows with a recorded writer (cells written through
 * `commitWrites`); `security` the cube's rights (null: open).
 * @throws Error `cube "NAME" is not stored` when there is no such cube.
 */
export async function loadCube(db: SqlDriver, pageRows: number, name: string, onProgress?: ProgressFn, tenant: string = DEFAULT_TENANT): Promise<StoredCube> {
  return db.transaction(async (tx) => {
    await tx.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    const stored = await cubeRow(tx, name, tenant);
    const id = Number(stored.id);
    const def = stored.def;
    const [{ n }] = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM cell WHERE cube_id = $1", [id]);
    const total = Number(n);
    const dims = def.dimensions.length;
    const coords = Array.from({ length: dims }, () => new Int32Array(total));
    const values = new Float64Array(total);
    const versions = new Float64Array(total);
    const writers = new Map<number, CellWriter>();

    let row = 0;
    if (tx.copyTo) {
      // PostgreSQL server: one binary COPY of the cube's rows, in storage order, decoded into the columns.
      if (!Number.isSafeInteger(id)) throw new Error(`cube id ${id} is not an integer`);
      row = await decodeCellCopy(
        tx.copyTo(`COPY (SELECT coords, value, version, updated_by, updated_at FROM cell WHERE cube_id = ${id}) TO STDOUT (FORMAT binary)`),
        { coords, values, versions, writers },
        (done) => onProgress?.(done, total),
      );
    } else {
      row = await loadPages(tx, id, pageRows, total, { coords, values, versions, writers }, name, onProgress);
    }
    if (row !== total) throw new Error(`cube "${name}" changed while loading`);
    return {
      id,
      def,
      cells: { count: total, coords, values, versions },
      writers,
      loadedAt: Number(stored.loaded_at),
      tenant,
      security: await loadSecurity(tx, id),
    };
  });
}

/**
 * The cube row of `name` in `tenant`: id, definition, `loaded_at` (ms since the epoch).
 * @throws Error `cube "NAME" is not stored` when there is no such cube.
 */
async function cubeRow(tx: SqlRunner, name: string, tenant: string): Promise<{ id: number; def: CubeDef; loaded_at: unknown }> {
  const cubes = await tx.query<{ id: number; def: CubeDef; loaded_at: unknown }>(
    `SELECT id, def, ${epochMs("loaded_at")} AS loaded_at FROM cube WHERE name = $1 AND tenant = $2`,
    [name, tenant],
  );
  if (cubes.length === 0) throw new Error(`cube "${name}" is not stored${tenant === DEFAULT_TENANT ? "" : ` in tenant ${tenant}`}`);
  return cubes[0];
}

/** The store's {@link CUBE_SOURCE_SQL} for a cube (its database and load time); "" when there is no such cube. */
export async function cubeSourceOf(tx: SqlRunner, cubeId: number): Promise<string> {
  const rows = await tx.query<{ source: string }>(`SELECT ${CUBE_SOURCE_SQL} AS source FROM cube WHERE id = $1`, [cubeId]);
  return rows[0]?.source ?? "";
}

/**
 * A cube of `tenant` without its cells: its definition, `loaded_at` and security, and the
 * fingerprint of its stored cells (see ../snapshot.ts: rows holding a value or a version, the sum
 * and the highest of their versions), all from one consistent snapshot. One scan of the cube's rows
 * in the database, none sent.
 * @throws Error `cube "NAME" is not stored` when there is no such cube.
 */
export async function cubeState(db: SqlDriver, name: string, tenant: string = DEFAULT_TENANT): Promise<Omit<StoredCube, "cells" | "writers"> & { source: string; fingerprint: CellsFingerprint }> {
  return db.transaction(async (tx) => {
    await tx.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    const row = await cubeRow(tx, name, tenant);
    const id = Number(row.id);
    const [f] = await tx.query<{ rows: string; vsum: string; vmax: string }>(
      `SELECT (count(*) FILTER (WHERE version > 0 OR value IS NOT NULL))::text AS rows,
              coalesce(sum(version), 0)::text AS vsum, coalesce(max(version), 0)::text AS vmax
       FROM cell WHERE cube_id = $1`,
      [id],
    );
    return {
      id,
      def: row.def,
      loadedAt: Number(row.loaded_at),
      tenant,
      security: await loadSecurity(tx, id),
      source: await cubeSourceOf(tx, id),
      fingerprint: { rows: String(f.rows), versionSum: String(f.vsum), maxVersion: String(f.vmax) },
    };
  });
}

/**
 * PGlite: the cube's rows in keyset pages over the primary key (`pageRows` each, in coordinate
 * order), into `out`; returns the rows read.
 * @throws Error `cube "NAME" changed while loading` when more rows come than counted.
 */
async function loadPages(
  tx: SqlRunner,
  id: number,
  pageRows: number,
  total: number,
  out: CellColumns,
  name: string,
  onProgress?: ProgressFn,
): Promise<number> {
  const { coords, values, versions, writers } = out;
  let row = 0;
  // Keyset pages over the primary key; without these the planner may pick a bitmap scan and a
  // sort of the whole remaining cube for every page when statistics are stale.
  await tx.exec("SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off");
  const pageSql = `SELECT count(*)::int AS n,
      string_agg(array_to_string(p.coords, ','), ',') AS c,
      string_agg(coalesce(p.value::text, 'NaN'), ',') AS v,
      string_agg(p.version::text, ',') AS ver,
      string_agg(CASE WHEN p.updated_by IS NULL THEN '' ELSE coalesce(${epochMs("p.updated_at")}, 0)::text END, ',') AS w_at,
      (json_agg(p.updated_by) FILTER (WHERE p.updated_by IS NOT NULL))::text AS w_by,
      max(p.coords)::text AS last
    FROM (SELECT coords, value, version, updated_by, updated_at FROM cell
          WHERE cube_id = $1 AND coords > $2::int[] ORDER BY coords LIMIT $3) AS p`;
  let last = "{}"; // sorts before every non-empty int[]
  while (row < total) {
    const [page] = await tx.query<{
      n: number;
      c: string | null;
      v: string | null;
      ver: string | null;
      w_at: string | null;
      w_by: string | null;
      last: string | null;
    }>(pageSql, [id, last, pageRows]);
    const count = Number(page.n);
    if (count === 0) break;
    if (row + count > total) throw new Error(`cube "${name}" changed while loading`);
    parseCoordList(page.c!, coords, row);
    const vs = page.v!.split(",");
    for (let i = 0; i < count; i++) values[row + i] = Number(vs[i]);
    const vers = page.ver!.split(",");
    for (let i = 0; i < count; i++) versions[row + i] = Number(vers[i]);
    if (page.w_by !== null) {
      const users = JSON.parse(page.w_by) as string[];
      const ats = page.w_at!.split(",");
      let u = 0;
      for (let i = 0; i < count; i++) {
        if (ats[i] !== "") writers.set(row + i, { user: users[u++], at: Number(ats[i]) });
      }
    }
    row += count;
    last = page.last!;
    onProgress?.(row, total);
  }
  return row;
}
