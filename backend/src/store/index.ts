/**
 * The persistence layer: `openStore` opens embedded PGlite or a PostgreSQL server, brings the
 * schema up to date, and returns the `Store`.
 */
import { openPgliteDriver, openPostgresDriver, type SqlDriver } from "./driver";
import { runMigrations } from "./migrate";
import { SqlStore } from "./sql-store";

export type { SqlDriver, SqlRunner } from "./driver";
export { SqlStore, type SqlStoreOptions } from "./sql-store";
export type * from "./types";

/** Where `openStore` keeps the data. */
export interface StoreOptions {
  /**
   * PostgreSQL connection string (`postgres://user:password@host:port/database`). When set, the
   * store uses that server through a connection pool and `dataDir` is not used.
   */
  databaseUrl?: string;
  /** Directory of the embedded PGlite database, created when missing. Used when `databaseUrl` is unset. */
  dataDir: string;
}

/**
 * Opens the store: a PostgreSQL server when `opts.databaseUrl` is set, else embedded PGlite in
 * `opts.dataDir` (created when missing). Applies pending schema migrations before resolving; several
 * processes opening one server at once wait for each other. Close the store with `close()`.
 * @throws the connection error (server unreachable, login refused), the PGlite error (unusable data
 * directory), or Error `migration NNN_name.sql failed: ...`; nothing stays open then.
 */
export async function openStore(opts: StoreOptions): Promise<SqlStore> {
  const driver: SqlDriver = opts.databaseUrl
    ? await openPostgresDriver(opts.databaseUrl)
    : await openPgliteDriver(opts.dataDir);
  try {
    await runMigrations(driver);
  } catch (err) {
    await driver.close().catch(() => {});
    throw err;
  }
  return new SqlStore(driver);
}
