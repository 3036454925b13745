import pg from "pg";

/** The admin connection of the PostgreSQL server on this machine (`TEST_DATABASE_URL` overrides). */
export const ADMIN_URL = process.env.TEST_DATABASE_URL || "postgres://postgres@127.0.0.1:5432/test";

/**
 * Creates a fresh, empty database on the PostgreSQL server (through `adminUrl`) for one test file
 * or benchmark.
 * @returns its connection string and a function that drops it (closing other sessions).
 */
export async function createTestDatabase(prefix = "qatom_test", adminUrl = ADMIN_URL): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
