/**
 * The databases the store's tests run on: embedded PGlite (a fresh temp directory) and the
 * PostgreSQL server (a fresh database created through `TEST_DATABASE_URL`, default
 * `postgres://postgres@127.0.0.1:5432/test`, dropped at the end). Set `SKIP_PG_TESTS=1` to leave
 * the server out where none runs.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { openPgliteDriver, openPostgresDriver, type SqlDriver } from "./driver";
import { runMigrations } from "./migrate";
import { SqlStore, type SqlStoreOptions } from "./sql-store";

export const ADMIN_URL = process.env.TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";

/** One database to run the suite on; `open` may be called again after the previous store closed. */
export interface Backend {
  name: string;
  setup(): Promise<void>;
  /** Opens a driver on the database (the schema may be missing). */
  openDriver(): Promise<SqlDriver>;
  /** The options `openStore` takes for this database. */
  storeOptions(): { databaseUrl?: string; dataDir: string };
  teardown(): Promise<void>;
}

/** Tiny batch sizes, so that small data crosses batch boundaries. */
export const SMALL_BATCHES = { saveBatchRows: 4, loadPageRows: 3, commitBatchCells: 2 };

/** Opens a migrated store with tiny batches on the backend's database. */
export async function openSmall(backend: Backend, options: SqlStoreOptions = {}): Promise<SqlStore> {
  const driver = await backend.openDriver();
  await runMigrations(driver);
  return new SqlStore(driver, { ...SMALL_BATCHES, ...options });
}

export function pgliteBackend(): Backend {
  let dir = "";
  return {
    name: "pglite",
    async setup() {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-store-"));
    },
    openDriver: () => openPgliteDriver(path.join(dir, "db")),
    storeOptions: () => ({ dataDir: path.join(dir, "db") }),
    async teardown() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function dbUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function freshDbName(): string {
  return `qatom_test_${process.pid}_${randomBytes(4).toString("hex")}`;
}

export function postgresBackend(): Backend {
  const dbName = freshDbName();
  return {
    name: "postgres",
    async setup() {
      await admin((c) => c.query(`CREATE DATABASE ${dbName}`));
    },
    openDriver: () => openPostgresDriver(dbUrl(dbName)),
    storeOptions: () => ({ databaseUrl: dbUrl(dbName), dataDir: "/nonexistent/unused" }),
    async teardown() {
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
    },
  };
}

/** Both databases (the server unless SKIP_PG_TESTS=1); each entry sets up its own database. */
export function testBackends(): Backend[] {
  const backends: Backend[] = [pgliteBackend()];
  if (process.env.SKIP_PG_TESTS !== "1") backends.push(postgresBackend());
  return backends;
}


