/**
 * The schema migration runner: applies the numbered `.sql` files of `migrations/` that the
 * database has not seen yet, in order, recording each in `schema_migrations`.
 */
import fs from "node:fs";
import path from "node:path";
import type { SqlDriver, SqlRunner } from "./driver";

/** Folder of the migration files shipped beside this module. */
export const MIGRATIONS_DIR = path.join(__dirname, "migrations");

/**
 * Key of the transaction-level advisory lock that serializes migrations, so that several backend
 * instances starting together on one PostgreSQL server apply each file exactly once.
 */
const MIGRATION_LOCK_KEY = 7_212_640_501;

/** One migration file: `NNN_name.sql`. */
export interface Migration {
  /** The number prefix, e.g. 1 for `001_init.sql`. */
  version: number;
  /** The rest of the file name without `.sql`, e.g. `init`. */
  name: string;
  /** Absolute path of the file. */
  file: string;
}

/**
 * Lists the migration files of `dir` (names `NNN_name.sql`), sorted by version.
 * @throws Error when two files share a version number.
 */
export function listMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const migrations: Migration[] = [];
  for (const entry of fs.readdirSync(dir)) {
    const m = /^(\d+)_(.+)\.sql$/.exec(entry);
    if (!m) continue;
    migrations.push({ version: Number(m[1]), name: m[2], file: path.join(dir, entry) });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i].version === migrations[i - 1].version) {
      throw new Error(
        `two migrations have version ${migrations[i].version}: ${migrations[i - 1].file}, ${migrations[i].file}`,
      );
    }
  }
  return migrations;
}

async function lock(tx: SqlRunner): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
}

/**
 * Brings the database schema up to date: creates `schema_migrations(version, name, applied_at)`
 * when missing, then applies each migration of `dir` not recorded there, each in its own
 * transaction together with its record. Every transaction first takes a PostgreSQL advisory lock,
 * so concurrent runners wait for each other and none applies a file twice.
 * Resolves to the versions applied by this call (empty when the schema was current).
 * @throws Error `migration NNN_name.sql failed: ...` (the database error as `cause`) when a file
 * fails; that file's changes are rolled back and later files are not tried.
 */
export async function runMigrations(driver: SqlDriver, dir: string = MIGRATIONS_DIR): Promise<number[]> {
  const migrations = listMigrations(dir);
  await driver.transaction(async (tx) => {
    await lock(tx);
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version int PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
  });
  const applied: number[] = [];
  for (const migration of migrations) {
    const sql = fs.readFileSync(migration.file, "utf8");
    const done = await driver.transaction(async (tx) => {
      await lock(tx);
      const rows = await tx.query("SELECT 1 FROM schema_migrations WHERE version = $1", [migration.version]);
      if (rows.length > 0) return false;
      try {
        await tx.exec(sql);
      } catch (err) {
        // Not `instanceof Error`: PGlite's errors may come from another realm (see driver.ts).
        const message = (err as { message?: unknown } | null)?.message ?? String(err);
        throw new Error(`migration ${path.basename(migration.file)} failed: ${message}`, { cause: err });
      }
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
        migration.version,
        migration.name,
      ]);
      return true;
    });
    if (done) applied.push(migration.version);
  }
  return applied;
}
