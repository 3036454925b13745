/**
 * The one implementation of `Store`, over a `SqlDriver`: the same SQL runs on embedded PGlite and
 * on a PostgreSQL server. Schema: `migrations/*.sql`.
 *
 * Bulk data crosses the driver as a few large text parameters and results (array literals,
 * `string_agg` lists, JSON) rather than one protocol row per cell, which is what makes saving and
 * loading hundreds of thousands of cells fast on PGlite.
 */
import type { CellWriter, CubeDef, LeafCells } from "../lattice/model";
import type { SqlDriver, SqlRunner } from "./driver";
import type {
  CommitOptions,
  CommitResult,
  OutboxRow,
  PendingWrite,
  ProgressFn,
  Store,
  StoredAuditRecord,
  StoredCellState,
  StoredComment,
  StoredCube,
} from "./types";
import { OUTBOX_TOPICS } from "./types";

/** Batch sizes of `SqlStore`; the defaults suit production, tests shrink them to exercise batching. */
export interface SqlStoreOptions {
  /** Rows per INSERT statement in `saveCube`. Default 10,000. */
  saveBatchRows?: number;
  /** Rows per page in `loadCube`. Default 50,000. */
  loadPageRows?: number;
  /** Distinct cells per statement in `commitWrites`. Default 10,000. */
  commitBatchCells?: number;
}

/**
 * Most leaf changes per outbox row: a larger transaction (a spread, a scenario copy) is published
 * as several messages per topic, each well under Kafka's default 1 MB message limit.
 */
export const OUTBOX_CHUNK = 2_000;

/** SQL for a timestamptz expression as whole milliseconds since the epoch (float8). */
function epochMs(expr: string): string {
  return `floor(extract(epoch FROM ${expr}) * 1000)::float8`;
}

/** A PostgreSQL array literal of integers, e.g. `{1,2,3}`. @throws Error on a non-integer. */
function intArrayLiteral(values: ArrayLike<number>, what: string): string {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
      throw new Error(`${what} must hold 32-bit integers, got ${String(v)} at ${i}`);
    }
  }
  return `{${Array.prototype.join.call(values, ",")}}`;
}

/** Converts a driver value (number, numeric string, or null) to a number or null. */
function toNumber(x: unknown): number | null {
  return x === null || x === undefined ? null : Number(x);
}

/** A float8 value as text for JSON parameters (JSON has no Infinity); NaN and null clear. */
function floatText(v: number | null): string | null {
  return v === null || Number.isNaN(v) ? null : String(v);
}

/** Lexicographic comparison of two rows of columnar coordinates. */
function compareRows(coords: Int32Array[], a: number, b: number): number {
  for (let d = 0; d < coords.length; d++) {
    const x = coords[d][a] - coords[d][b];
    if (x !== 0) return x;
  }
  return 0;
}

/** Lexicographic comparison of two coordinate tuples. */
function compareCoords(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  for (let d = 0; d < n; d++) {
    const x = a[d] - b[d];
    if (x !== 0) return x;
  }
  return a.length - b.length;
}

/**
 * The row order that sorts `cells` by coordinates (the primary key order, so inserts append to
 * the index and the heap is clustered by key).
 * @throws Error naming the coordinates when two rows share them.
 */
function sortedRowOrder(cells: LeafCells): Uint32Array {
  const n = cells.count;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = compareRows(cells.coords, i - 1, i) < 0;
  if (!sorted) order.sort((a, b) => compareRows(cells.coords, a, b));
  for (let i = 1; i < n; i++) {
    if (compareRows(cells.coords, order[i - 1], order[i]) === 0) {
      const at = cells.coords.map((c) => c[order[i]]);
      throw new Error(`cells hold two rows with coordinates [${at.join(",")}]`);
    }
  }
  return order;
}

/** @throws Error when `cells` does not fit `def` (column count or lengths). */
function validateCells(def: CubeDef, cells: LeafCells): void {
  const dims = def.dimensions.length;
  if (!def.name) throw new Error("cube definition has no name");
  if (dims === 0) throw new Error(`cube "${def.name}" has no dimensions`);
  if (!Number.isInteger(cells.count) || cells.count < 0) {
    throw new Error(`cells.count must be a non-negative integer, got ${cells.count}`);
  }
  if (cells.coords.length !== dims) {
    throw new Error(`cube "${def.name}" has ${dims} dimensions but cells have ${cells.coords.length} coordinate columns`);
  }
  cells.coords.forEach((column, d) => {
    if (column.length !== cells.count) {
      throw new Error(`coordinate column ${d} (${def.dimensions[d].name}) has ${column.length} rows, expected ${cells.count}`);
    }
  });
  if (cells.values.length !== cells.count) {
    throw new Error(`cells.values has ${cells.values.length} rows, expected ${cells.count}`);
  }
}

/** Parses `count * dims` comma-separated integers (row-major) into `coords` from row `row`. */
function parseCoordList(text: string, coords: Int32Array[], row: number): void {
  const dims = coords.length;
  let d = 0;
  let r = row;
  let x = 0;
  let neg = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 44 /* , */) {
      coords[d][r] = neg ? -x : x;
      x = 0;
      neg = false;
      if (++d === dims) {
        d = 0;
        r++;
      }
    } else if (ch === 45 /* - */) {
      neg = true;
    } else {
      x = x * 10 + (ch - 48);
    }
  }
  coords[d][r] = neg ? -x : x;
}

/**
 * Rows of the `cell` table (cube_id, coords, value) in COPY text format, `batchRows` rows per chunk,
 * calling `onProgress` after each chunk is produced (an exception from it aborts the COPY). NaN
 * values become `\N` (NULL).
 */
export function* copyChunks(
  cubeId: number,
  coords: Int32Array[],
  values: Float64Array,
  batchRows: number,
  onProgress?: ProgressFn,
): Generator<string> {
  const total = values.length;
  const dims = coords.length;
  const head = `${cubeId}\t{`;
  // Member ids are small: their decimal texts come from a table (number-to-string dominates otherwise).
  const texts = coords.map((col) => {
    let max = 0;
    for (let i = 0; i < col.length; i++) if (col[i] > max) max = col[i];
    return max < 1 << 20 ? Array.from({ length: max + 1 }, (_, k) => `,${k}`) : null;
  });
  for (let start = 0; start < total; start += batchRows) {
    const end = Math.min(total, start + batchRows);
    const lines: string[] = new Array(end - start);
    for (let i = start; i < end; i++) {
      let line = head + coords[0][i];
      for (let d = 1; d < dims; d++) {
        const x = coords[d][i];
        const t = texts[d];
        line += t !== null && x >= 0 ? t[x] : `,${x}`;
      }
      const v = values[i];
      lines[i - start] = `${line}}\t${v === v ? v : "\\N"}\n`;
    }
    yield lines.join("");
    onProgress?.(end, total);
  }
}

/** The stored state of one cell during a commit. */
interface CellState {
  key: string;
  coords: number[];
  value: number | null;
  version: number;
  updatedBy: string | null;
  updatedAt: number | null;
  /** Whether this commit inserted the row as an empty placeholder (the cell was absent). */
  placeholder: boolean;
  /** Value after the writes applied so far in this commit. */
  current: number | null;
  /** Version after the writes applied so far; undefined while none applied. */
  newVersion?: number;
}

interface CommentRow {
  id: unknown;
  coords: number[];
  members: string[];
  body: string;
  author: string;
  created_at: unknown;
}

function toComment(row: CommentRow): StoredComment {
  return {
    id: Number(row.id),
    coords: row.coords,
    members: row.members,
    text: row.body,
    author: row.author,
    createdAt: Number(row.created_at),
  };
}

/**
 * `Store` over a migrated database reached through `driver` (see `openStore`, which opens the
 * driver and runs the migrations). Safe for concurrent use: every multi-statement operation runs in
 * its own transaction.
 */
export class SqlStore implements Store {
  #closed = false;
  readonly #saveBatchRows: number;
  readonly #loadPageRows: number;
  readonly #commitBatchCells: number;

  /**
   * @param driver an open driver whose database has the current schema (`runMigrations`); the store
   * owns it and closes it in `close()`.
   * @param options batch sizes, each a positive integer.
   */
  constructor(
    private readonly driver: SqlDriver,
    options: SqlStoreOptions = {},
  ) {
    const size = (v: number | undefined, fallback: number, what: string) => {
      if (v === undefined) return fallback;
      if (!Number.isInteger(v) || v < 1) throw new Error(`${what} must be a positive integer, got ${v}`);
      return v;
    };
    this.#saveBatchRows = size(options.saveBatchRows, 10_000, "saveBatchRows");
    this.#loadPageRows = size(options.loadPageRows, 50_000, "loadPageRows");
    this.#commitBatchCells = size(options.commitBatchCells, 10_000, "commitBatchCells");
  }

  /** Stored cubes ordered by id; `loadedAt` in ms since the epoch. */
  async listCubes(): Promise<{ id: number; name: string; loadedAt: number }[]> {
    const rows = await this.driver.query<{ id: number; name: string; loaded_at: unknown }>(
      `SELECT id, name, ${epochMs("loaded_at")} AS loaded_at FROM cube ORDER BY id`,
    );
    return rows.map((r) => ({ id: Number(r.id), name: r.name, loadedAt: Number(r.loaded_at) }));
  }

  /**
   * Stores `def` and `cells` as a new cube (new id), deleting a cube of the same name with its cells,
   * audit records and comments, all in one transaction. On a PostgreSQL server the cells go in with
   * `COPY FROM STDIN` (pg-copy-streams) inside that transaction; on PGlite with batched
   * `INSERT ... unnest`. Every cell is stored with version 0 and no
   * writer (`cells.versions` is ignored); NaN values are stored as NULL (cleared cells). Cells are
   * inserted sorted by coordinates in batches (10,000 rows by default); `onProgress(done, total)` is called
   * after each batch, and an exception it throws aborts the save like any other error.
   * Resolves to the new cube id.
   * @throws Error before touching the database when `cells` does not fit `def` (no name or no
   * dimensions, number of coordinate columns, column lengths, duplicate coordinates); otherwise the
   * database error (or the one `onProgress` threw). On any error the transaction is rolled back: a previous cube of that name stays intact.
   */
  async saveCube(def: CubeDef, cells: LeafCells, onProgress?: ProgressFn): Promise<number> {
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

    return this.driver.transaction(async (tx) => {
      // Cells have no foreign key to cube (migration 003: it slowed bulk loads), so delete them first.
      await tx.query("DELETE FROM cell WHERE cube_id IN (SELECT id FROM cube WHERE name = $1)", [def.name]);
      await tx.query("DELETE FROM cube WHERE name = $1", [def.name]);
      const [{ id }] = await tx.query<{ id: number }>(
        "INSERT INTO cube (name, def) VALUES ($1, $2::jsonb) RETURNING id",
        [def.name, JSON.stringify(def)],
      );
      if (tx.copyFrom) {
        // PostgreSQL server: COPY FROM STDIN, in this transaction (a failure rolls it all back).
        const copied = await tx.copyFrom(
          "COPY cell (cube_id, coords, value) FROM STDIN",
          copyChunks(Number(id), coords, values, this.#saveBatchRows, onProgress),
        );
        if (copied !== total) throw new Error(`COPY stored ${copied} cells of ${total}`);
      } else {
        for (let start = 0; start < total; start += this.#saveBatchRows) {
          const end = Math.min(total, start + this.#saveBatchRows);
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
   * Reads cube `name` with every committed write applied, from one consistent snapshot. Rows come
   * in coordinate order, in pages (50,000 rows by default); `onProgress(done, total)` is called after each page.
   * `cells.versions` is always set; cleared cells have NaN values. `writers` holds the rows with a
   * recorded writer (cells written through `commitWrites`).
   * @throws Error `cube "NAME" is not stored` when there is no such cube.
   */
  async loadCube(name: string, onProgress?: ProgressFn): Promise<StoredCube> {
    return this.driver.transaction(async (tx) => {
      await tx.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      const cubes = await tx.query<{ id: number; def: CubeDef; loaded_at: unknown }>(
        `SELECT id, def, ${epochMs("loaded_at")} AS loaded_at FROM cube WHERE name = $1`,
        [name],
      );
      if (cubes.length === 0) throw new Error(`cube "${name}" is not stored`);
      const id = Number(cubes[0].id);
      const def = cubes[0].def;
      const [{ n }] = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM cell WHERE cube_id = $1", [id]);
      const total = Number(n);
      const dims = def.dimensions.length;
      const coords = Array.from({ length: dims }, () => new Int32Array(total));
      const values = new Float64Array(total);
      const versions = new Float64Array(total);
      const writers = new Map<number, CellWriter>();

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
      let row = 0;
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
        }>(pageSql, [id, last, this.#loadPageRows]);
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
      if (row !== total) throw new Error(`cube "${name}" changed while loading`);
      return {
        id,
        def,
        cells: { count: total, coords, values, versions },
        writers,
        loadedAt: Number(cubes[0].loaded_at),
      };
    });
  }

  /**
   * Commits `writes` to cube `cubeId` in one transaction (see `Store.commitWrites`). Writes are
   * checked and applied in array order: a write applies when `baseVersion` equals the cell's stored
   * version at the start of the commit (an absent cell has version 0 and value null), so several
   * writes to one cell in a batch all apply, the last one winning, each with its own version and
   * audit record. An applied write gets a version from `cell_version_seq` (increasing in array
   * order) and an audit record whose old value is the cell's value before it (not `oldValue`). A
   * `newValue` of null or NaN clears the cell (it keeps its row and version). The affected rows are
   * locked (`FOR UPDATE`, in key order) for the whole transaction; absent cells get a placeholder
   * row first so that concurrent commits creating the same cell serialize too. Resolves after COMMIT
   * with one result per write and `at`, the transaction's timestamp in ms.
   * @throws Error `cube N is not stored`, or on a write whose coordinates do not match the cube's
   * dimension count; nothing is applied then, nor on any database error.
   */
  async commitWrites(
    cubeId: number,
    txId: string,
    user: string,
    writes: PendingWrite[],
    options: CommitOptions = {},
  ): Promise<{ results: CommitResult[]; at: number }> {
    const keys = writes.map((w, i) => intArrayLiteral(w.coords, `writes[${i}].coords`));
    return this.driver.transaction(async (tx) => {
      const head = await tx.query<{ dims: number; at: unknown; loaded_at: unknown }>(
        `SELECT jsonb_array_length(def -> 'dimensions') AS dims, ${epochMs("now()")} AS at,
                ${epochMs("loaded_at")} AS loaded_at
         FROM cube WHERE id = $1 FOR KEY SHARE`,
        [cubeId],
      );
      if (head.length === 0) throw new Error(`cube ${cubeId} is not stored`);
      const dims = Number(head[0].dims);
      const at = Number(head[0].at);
      writes.forEach((w, i) => {
        if (w.coords.length !== dims) {
          throw new Error(`writes[${i}] has ${w.coords.length} coordinates, cube ${cubeId} has ${dims} dimensions`);
        }
      });
      if (writes.length === 0) return { results: [], at };

      // Distinct cells in key order, so that concurrent commits lock rows in the same order.
      const cells = new Map<string, CellState>();
      writes.forEach((w, i) => {
        if (!cells.has(keys[i])) {
          cells.set(keys[i], {
            key: keys[i],
            coords: w.coords,
            value: null,
            version: 0,
            updatedBy: null,
            updatedAt: null,
            placeholder: false,
            current: null,
          });
        }
      });
      const sorted = [...cells.values()].sort((a, b) => compareCoords(a.coords, b.coords));

      for (let s = 0; s < sorted.length; s += this.#commitBatchCells) {
        const batch = sorted.slice(s, s + this.#commitBatchCells).map((c) => c.key);
        const inserted = await tx.query<{ k: string }>(
          `INSERT INTO cell (cube_id, coords)
           SELECT $1, k.k::int[] FROM unnest($2::text[]) AS k(k) ORDER BY 2
           ON CONFLICT (cube_id, coords) DO NOTHING
           RETURNING coords::text AS k`,
          [cubeId, batch],
        );
        for (const r of inserted) cells.get(r.k)!.placeholder = true;
        const locked = await tx.query<{
          k: string;
          value: unknown;
          version: unknown;
          updated_by: string | null;
          updated_at: unknown;
        }>(
          `SELECT c.coords::text AS k, c.value, c.version::text AS version, c.updated_by,
                  ${epochMs("c.updated_at")} AS updated_at
           FROM cell AS c
           WHERE c.cube_id = $1 AND c.coords IN (SELECT k::int[] FROM unnest($2::text[]) AS k(k))
           ORDER BY c.coords
           FOR UPDATE`,
          [cubeId, batch],
        );
        for (const r of locked) {
          const cell = cells.get(r.k)!;
          cell.value = toNumber(r.value);
          cell.current = cell.value;
          cell.version = Number(r.version);
          cell.updatedBy = r.updated_by;
          cell.updatedAt = toNumber(r.updated_at);
        }
      }

      const results: CommitResult[] = new Array(writes.length);
      const applied: { index: number; cell: CellState; old: number | null; value: number | null; version: number }[] =
        [];
      // A group applies all or none: find the groups with a conflicting write first.
      const failedGroups = new Set<number>();
      writes.forEach((w, i) => {
        if (w.group !== undefined && w.baseVersion !== cells.get(keys[i])!.version) failedGroups.add(w.group);
      });
      writes.forEach((w, i) => {
        const cell = cells.get(keys[i])!;
        const groupFailed = w.group !== undefined && failedGroups.has(w.group);
        if (w.baseVersion !== cell.version || groupFailed) {
          results[i] = {
            ok: false,
            ...(w.baseVersion === cell.version ? { groupFailed: true } : {}),
            currentValue: cell.value,
            currentVersion: cell.version,
            updatedBy: cell.updatedBy,
            updatedAt: cell.updatedAt,
          };
          return;
        }
        const value = w.newValue === null || Number.isNaN(w.newValue) ? null : w.newValue;
        applied.push({ index: i, cell, old: cell.current, value, version: 0 });
        cell.current = value;
      });

      if (applied.length > 0) {
        const seq = await tx.query<{ v: unknown }>(
          "SELECT nextval('cell_version_seq')::text AS v FROM generate_series(1, $1::int)",
          [applied.length],
        );
        const versions = seq.map((r) => Number(r.v)).sort((a, b) => a - b);
        applied.forEach((a, j) => {
          a.version = versions[j];
          a.cell.newVersion = versions[j];
          results[a.index] = { ok: true, version: versions[j] };
        });
      }

      const written = sorted.filter((c) => c.newVersion !== undefined);
      for (let s = 0; s < written.length; s += this.#commitBatchCells) {
        const batch = written
          .slice(s, s + this.#commitBatchCells)
          .map((c) => ({ k: c.key, v: floatText(c.current), ver: c.newVersion }));
        await tx.query(
          `UPDATE cell AS c
           SET value = x.v::float8, version = x.ver, updated_by = $2, updated_at = now()
           FROM jsonb_to_recordset($3::text::jsonb) AS x(k text, v text, ver bigint)
           WHERE c.cube_id = $1 AND c.coords = x.k::int[]`,
          [cubeId, user, JSON.stringify(batch)],
        );
      }
      for (let s = 0; s < applied.length; s += this.#commitBatchCells) {
        const batch = applied.slice(s, s + this.#commitBatchCells).map((a) => ({
          i: a.index,
          k: a.cell.key,
          m: writes[a.index].members,
          o: floatText(a.old),
          n: floatText(a.value),
          ver: a.version,
        }));
        await tx.query(
          `INSERT INTO audit_log (tx_id, cube_id, coords, members, old_value, new_value, version, user_name, at)
           SELECT $1, $2, x.k::int[], x.m, x.o::float8, x.n::float8, x.ver, $3, now()
           FROM jsonb_to_recordset($4::text::jsonb) AS x(i int, k text, m text[], o text, n text, ver bigint)
           ORDER BY x.i`,
          [txId, cubeId, user, JSON.stringify(batch)],
        );
      }
      if (options.outbox && applied.length > 0) {
        const { cube, instanceId } = options.outbox;
        // The cube's generation: its id and load time (a reloaded cube, or another database, differs).
        const loadedAt = Number(head[0].loaded_at);
        const changes = applied.map((a) => ({
          coords: a.cell.coords,
          members: writes[a.index].members,
          value: a.value,
          version: a.version,
        }));
        // One outbox row per topic per OUTBOX_CHUNK changes, so that a large spread or scenario copy
        // stays within the bus's message size; each carries its part number and the part count.
        const parts = Math.max(1, Math.ceil(changes.length / OUTBOX_CHUNK));
        for (let p = 0; p < parts; p++) {
          const lo = p * OUTBOX_CHUNK;
          const part = changes.slice(lo, lo + OUTBOX_CHUNK);
          const write = { cube, cubeId, loadedAt, txId, instanceId, user, at, part: p, parts, changes: part };
          const audit = {
            cube,
            cubeId,
            txId,
            instanceId,
            user,
            at,
            part: p,
            parts,
            records: applied.slice(lo, lo + OUTBOX_CHUNK).map((a) => ({
              members: writes[a.index].members,
              oldValue: a.old,
              newValue: a.value,
              version: a.version,
            })),
          };
          const calc = { cube, cubeId, txId, at, part: p, parts, coords: part.map((c) => c.coords) };
          // JSON has no NaN/Infinity; values here are finite numbers or null (NaN became null above).
          await tx.query(
            `INSERT INTO outbox (topic, key, payload)
             VALUES ($1, $4, $5::text::jsonb), ($2, $4, $6::text::jsonb), ($3, $4, $7::text::jsonb)`,
            [
              OUTBOX_TOPICS.write,
              OUTBOX_TOPICS.calc,
              OUTBOX_TOPICS.audit,
              cube,
              JSON.stringify(write),
              JSON.stringify(calc),
              JSON.stringify(audit),
            ],
          );
        }
      }
      const unused = sorted.filter((c) => c.placeholder && c.newVersion === undefined).map((c) => c.key);
      for (let s = 0; s < unused.length; s += this.#commitBatchCells) {
        await tx.query(
          "DELETE FROM cell WHERE cube_id = $1 AND coords IN (SELECT k::int[] FROM unnest($2::text[]) AS k(k))",
          [cubeId, unused.slice(s, s + this.#commitBatchCells)],
        );
      }
      return { results, at };
    });
  }

  /**
   * Audit records of the leaf cell at `coords` in cube `cubeId`, newest first, at most `limit`.
   * @throws Error when `coords` are not integers or `limit` is not a non-negative integer.
   */
  async cellHistory(cubeId: number, coords: number[], limit: number): Promise<StoredAuditRecord[]> {
    if (!Number.isInteger(limit) || limit < 0) throw new Error(`limit must be a non-negative integer, got ${limit}`);
    const rows = await this.driver.query<{
      tx_id: string;
      user_name: string;
      at: unknown;
      old_value: unknown;
      new_value: unknown;
      version: unknown;
      members: string[];
    }>(
      `SELECT tx_id, user_name, ${epochMs("at")} AS at, old_value, new_value, version::text AS version, members
       FROM audit_log WHERE cube_id = $1 AND coords = $2::int[]
       ORDER BY id DESC LIMIT $3`,
      [cubeId, intArrayLiteral(coords, "coords"), limit],
    );
    return rows.map((r) => ({
      txId: r.tx_id,
      user: r.user_name,
      at: Number(r.at),
      oldValue: toNumber(r.old_value),
      newValue: toNumber(r.new_value),
      version: Number(r.version),
      members: r.members,
    }));
  }

  /**
   * Adds a comment on the cell at `coords` (member indexes, leaf or consolidated) of cube `cubeId`.
   * Resolves to it as stored, with its id and `createdAt` (ms).
   * @throws the database error (e.g. a foreign key violation when the cube does not exist).
   */
  async addComment(
    cubeId: number,
    coords: number[],
    members: string[],
    text: string,
    author: string,
  ): Promise<StoredComment> {
    const [row] = await this.driver.query<CommentRow>(
      `INSERT INTO cell_comment (cube_id, coords, members, body, author)
       VALUES ($1, $2::int[], $3::text[], $4, $5)
       RETURNING id::text AS id, coords, members, body, author, ${epochMs("created_at")} AS created_at`,
      [cubeId, intArrayLiteral(coords, "coords"), members, text, author],
    );
    return toComment(row);
  }

  /** All comments of cube `cubeId`, newest first. */
  async listComments(cubeId: number): Promise<StoredComment[]> {
    const rows = await this.driver.query<CommentRow>(
      `SELECT id::text AS id, coords, members, body, author, ${epochMs("created_at")} AS created_at
       FROM cell_comment WHERE cube_id = $1 ORDER BY id DESC`,
      [cubeId],
    );
    return rows.map(toComment);
  }

  /**
   * Claims up to `limit` outbox rows not yet relayed and not leased by another live relay, for
   * `leaseMs` (FOR UPDATE SKIP LOCKED: concurrent relays of several instances never claim one row
   * together), oldest first. An expired lease (a relay that died) makes its rows claimable again.
   */
  async claimOutbox(relayId: string, limit: number, leaseMs: number): Promise<OutboxRow[]> {
    const rows = await this.driver.query<{ id: unknown; topic: string; key: string; payload: string }>(
      `UPDATE outbox AS o SET claimed_by = $1, claimed_until = now() + make_interval(secs => $3::float8 / 1000)
       FROM (SELECT id FROM outbox
             WHERE relayed_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
             ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) AS c
       WHERE o.id = c.id
       RETURNING o.id::text AS id, o.topic, o.key, o.payload::text AS payload`,
      [relayId, limit, leaseMs],
    );
    return rows
      .map((r) => ({ id: Number(r.id), topic: r.topic, key: r.key, payload: r.payload }))
      .sort((a, b) => a.id - b.id);
  }

  /** Marks outbox rows relayed (the bus acknowledged them). */
  async markOutboxRelayed(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.driver.query("UPDATE outbox SET relayed_at = now(), claimed_until = NULL WHERE id = ANY($1::bigint[])", [
      `{${ids.join(",")}}`,
    ]);
  }

  /** Gives claimed outbox rows back at once (the bus refused them), so that any relay may retry. */
  async releaseOutbox(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.driver.query(
      "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE id = ANY($1::bigint[]) AND relayed_at IS NULL",
      [`{${ids.join(",")}}`],
    );
  }

  /** Deletes outbox rows relayed more than `olderThanMs` ago; resolves to how many. */
  async pruneOutbox(olderThanMs: number): Promise<number> {
    const rows = await this.driver.query<{ n: unknown }>(
      `WITH d AS (DELETE FROM outbox WHERE relayed_at < now() - make_interval(secs => $1::float8 / 1000) RETURNING 1)
       SELECT count(*)::int AS n FROM d`,
      [olderThanMs],
    );
    return Number(rows[0].n);
  }

  /** Outbox rows not yet relayed. */
  async pendingOutboxCount(): Promise<number> {
    const [{ n }] = await this.driver.query<{ n: unknown }>("SELECT count(*)::int AS n FROM outbox WHERE relayed_at IS NULL");
    return Number(n);
  }

  /**
   * The stored state of leaf cells of cube `cubeId` (value, version, last writer), in the order of
   * `coords`; an absent cell is empty with version 0. For an instance whose lattice fell behind.
   */
  async readCells(cubeId: number, coords: number[][]): Promise<StoredCellState[]> {
    if (coords.length === 0) return [];
    const keys = coords.map((c, i) => intArrayLiteral(c, `coords[${i}]`));
    const rows = await this.driver.query<{ k: string; value: unknown; version: unknown; updated_by: string | null; updated_at: unknown }>(
      `SELECT c.coords::text AS k, c.value, c.version::text AS version, c.updated_by, ${epochMs("c.updated_at")} AS updated_at
       FROM cell AS c WHERE c.cube_id = $1 AND c.coords IN (SELECT k::int[] FROM unnest($2::text[]) AS k(k))`,
      [cubeId, keys],
    );
    const byKey = new Map(rows.map((r) => [r.k, r]));
    return keys.map((k) => {
      const r = byKey.get(k);
      if (!r) return { value: null, version: 0, updatedBy: null, updatedAt: null };
      return { value: toNumber(r.value), version: Number(r.version), updatedBy: r.updated_by, updatedAt: toNumber(r.updated_at) };
    });
  }

  /** Closes the database or pool. Calling it again does nothing. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.driver.close();
  }

  /** The driver, for tests and maintenance scripts. */
  get sql(): SqlRunner {
    return this.driver;
  }
}
