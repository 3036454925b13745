/**
 * A thin SQL driver over either embedded PGlite or a PostgreSQL server (node-postgres Pool), so
 * that the store runs the very same SQL on both. Only the few operations the store needs: a query
 * with `$1..` parameters, a multi-statement exec, and a transaction.
 *
 * Result values are whatever the underlying client parses them into, and the two differ (node-postgres
 * returns int8 and numeric as strings, PGlite as numbers), so callers cast in SQL or convert with
 * `Number()` where it matters.
 */
import fs from "node:fs";
import pLimit from "p-limit";
import pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { lockDataDir } from "./dir-lock";
import { PgliteThread } from "./pglite-thread";

/** Something that runs SQL: the driver itself (autocommit) or an open transaction. */
export interface SqlRunner {
  /**
   * Runs one statement with `$1..` parameters (extended protocol) and resolves to its rows, one
   * object per row keyed by column name. Parameters are strings, numbers, null, or arrays of them.
   */
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Runs one or more `;`-separated statements without parameters (simple protocol). */
  exec(sql: string): Promise<void>;
  /**
   * Runs `sql` (a `COPY ... FROM STDIN` statement) with `chunks` (text in the COPY format, or bytes
   * of a `(FORMAT binary)` COPY) as its data, resolving to the rows copied. Inside a transaction the rows are part of it (a later
   * rollback removes them). An exception thrown while producing chunks aborts the COPY (the statement
   * fails, or on PGlite is never run for the rest) and is rethrown. A PostgreSQL server streams the
   * chunks (pg-copy-streams); PGlite runs `COPY ... FROM '/dev/blob'` with the chunks gathered into
   * blobs of about 32 MB, one statement per blob (PGlite's documented way to COPY from memory).
   * Absent on the PostgreSQL server's pool outside a transaction (COPY needs one connection).
   */
  copyFrom?(sql: string, chunks: Iterable<string | Uint8Array>): Promise<number>;
  /**
   * Present only inside a transaction on a PostgreSQL server: runs `sql` (a `COPY ... TO STDOUT`
   * statement) and yields its output as it streams (pg-copy-streams). Breaking off the iteration
   * leaves the connection unusable: the transaction then fails and rolls back.
   */
  copyTo?(sql: string): AsyncIterable<Uint8Array>;
}

/** A database connection (PGlite) or pool of connections (PostgreSQL server). */
export interface SqlDriver extends SqlRunner {
  /** Which backend this is, for messages and tests. */
  readonly kind: "pglite" | "postgres";
  /**
   * Runs `fn` inside BEGIN ... COMMIT on one connection and resolves to its result after COMMIT.
   * If `fn` rejects (or COMMIT fails) the transaction is rolled back and the error is rethrown.
   * `fn` must run all its SQL through the `tx` it is given. To change the isolation level, make
   * `SET TRANSACTION ...` its first statement.
   */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /** Closes the database (PGlite) or ends the pool; the driver cannot be used afterwards. */
  close(): Promise<void>;
}

/**
 * Opens (creating when missing) an embedded PGlite database in the directory `dataDir`, running in
 * a thread of its own (see PgliteThread), so that the server's thread is free while it works.
 * Statements and transactions run one at a time in the order they were asked for, as on PGlite's
 * single connection: a statement asked for outside a transaction waits until the running
 * transaction ends. The directory is locked for this process while open (see lockDataDir).
 * @throws Error `the embedded database (PGlite) in DIR could not be opened: WHY` when the directory
 *   holds no usable database (e.g. a different major version), or Error when another running
 *   process has the directory open.
 */
export async function openPgliteDriver(dataDir: string): Promise<SqlDriver> {
  fs.mkdirSync(dataDir, { recursive: true });
  const unlock = lockDataDir(dataDir);
  let db: PgliteThread;
  try {
    db = await PgliteThread.open(dataDir);
  } catch (err) {
    unlock();
    throw err;
  }
  const runner: SqlRunner = {
    query: <R extends object>(sql: string, params: unknown[] = []) => db.query<R>(sql, params),
    exec: (sql: string) => db.exec(sql),
    copyFrom: (sql: string, chunks: Iterable<string | Uint8Array>) => copyIntoPglite(db, sql, chunks),
  };
  // One at a time: a transaction holds the connection from BEGIN to COMMIT.
  const turn = pLimit(1);
  return {
    kind: "pglite",
    query: (sql, params) => turn(() => runner.query(sql, params)),
    exec: (sql) => turn(() => runner.exec(sql)),
    copyFrom: (sql, chunks) => turn(() => runner.copyFrom!(sql, chunks)),
    transaction: <T>(fn: (tx: SqlRunner) => Promise<T>) =>
      turn(async () => {
        await db.exec("BEGIN");
        let result: T;
        try {
          result = await fn(runner);
        } catch (err) {
          await db.exec("ROLLBACK").catch(() => undefined);
          throw err;
        }
        await db.exec("COMMIT");
        return result;
      }),
    close: async () => {
      try {
        await turn(() => db.close());
      } finally {
        unlock();
      }
    },
  };
}

/** Characters (or bytes) of COPY data PGlite receives per statement (one blob). */
const PGLITE_COPY_BLOB_CHARS = 32 * 2 ** 20;

/**
 * `COPY ... FROM STDIN` on PGlite: the same statement reading `/dev/blob`, run once per blob of
 * about PGLITE_COPY_BLOB_CHARS characters (or bytes) of `chunks`. A binary COPY's chunks go into
 * one blob whatever their size (its header and trailer must not be split).
 * @throws Error when `sql` is not a `COPY ... FROM STDIN` statement; the database's error; or the
 *   error the chunk iterator threw (blobs already copied stay in the transaction, which the caller rolls back).
 */
async function copyIntoPglite(db: PgliteThread, sql: string, chunks: Iterable<string | Uint8Array>): Promise<number> {
  const blobSql = sql.replace(/\bFROM\s+STDIN\b/i, "FROM '/dev/blob'");
  if (blobSql === sql) throw new Error(`copyFrom needs a COPY ... FROM STDIN statement, got: ${sql.slice(0, 80)}`);
  const binary = /\bFORMAT\s+binary\b/i.test(sql);
  let copied = 0;
  let parts: (string | Uint8Array)[] = [];
  let size = 0;
  const flush = async () => {
    if (parts.length === 0) return;
    const blob = parts;
    parts = [];
    size = 0;
    copied += await db.copyBlob(blobSql, blob);
  };
  for (const chunk of chunks) {
    parts.push(chunk);
    size += chunk.length;
    if (size >= PGLITE_COPY_BLOB_CHARS && !binary) await flush();
  }
  await flush();
  return copied;
}

/**
 * Opens a pool of connections to the PostgreSQL server at `databaseUrl`
 * (e.g. `postgres://user@host:5432/db`) and checks that it answers.
 * @throws the connection error when the server cannot be reached or refuses the login.
 */
export async function openPostgresDriver(databaseUrl: string): Promise<SqlDriver> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 8 });
  // An idle connection that dies (server restart) emits an error on the pool; without a listener it
  // would crash the process. The next query on a fresh connection reports any lasting problem.
  pool.on("error", () => {});
  const runner = (q: pg.Pool | pg.PoolClient): SqlRunner => ({
    async query<R extends object>(sql: string, params: unknown[] = []) {
      const res = await q.query(sql, params);
      return res.rows as R[];
    },
    async exec(sql: string) {
      await q.query(sql);
    },
    // COPY needs one connection for its whole stream: only a transaction's client offers it.
    ...("release" in q
      ? {
          copyFrom: (sql: string, chunks: Iterable<string | Uint8Array>) => copyInto(q, sql, chunks),
          copyTo: (sql: string): AsyncIterable<Uint8Array> => q.query(copyTo(sql)),
        }
      : {}),
  });
  try {
    await pool.query("SELECT 1");
  } catch (err) {
    await pool.end();
    throw err;
  }
  return {
    kind: "postgres",
    ...runner(pool),
    async transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query("BEGIN");
        try {
          const result = await fn(runner(client));
          await client.query("COMMIT");
          return result;
        } catch (err) {
          try {
            await client.query("ROLLBACK");
          } catch (rollbackErr) {
            // The connection is unusable; destroy it rather than return it to the pool.
            broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
          }
          throw err;
        }
      } finally {
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}

/**
 * Streams `chunks` into `COPY ... FROM STDIN` on `client`, honouring back-pressure.
 * @throws the server's error (the COPY fails and, in a transaction, aborts it), or the error the
 *   chunk iterator threw (the COPY is aborted with it first).
 */
async function copyInto(client: pg.PoolClient, sql: string, chunks: Iterable<string | Uint8Array>): Promise<number> {
  const stream = client.query(copyFrom(sql));
  const done = new Promise<void>((resolve, reject) => {
    stream.on("finish", () => resolve());
    stream.on("error", reject);
  });
  done.catch(() => undefined);
  try {
    for (const chunk of chunks) {
      if (!stream.write(chunk)) {
        await Promise.race([new Promise<void>((resolve) => stream.once("drain", () => resolve())), done]);
      }
    }
  } catch (err) {
    // Tell the server the data is bad so the statement fails, then wait for it to say so.
    stream.destroy(err instanceof Error ? err : new Error(String(err)));
    await done.catch(() => undefined);
    throw err;
  }
  stream.end();
  await done;
  return Number(stream.rowCount);
}
