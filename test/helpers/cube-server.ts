import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { CubeDef, LeafCells } from "../../backend/src/lattice";
import type { SecurityModel } from "../../backend/src/security";
import { type RunningServer, startServer } from "../../backend/src/server/main";
import { openStore } from "../../backend/src/store";
import { createTestDatabase } from "./pg";
import { quietStart, testConfig } from "./server";

/** Where a test server keeps its cube: PGlite in a temporary folder, or a fresh PostgreSQL database. */
export type StoreKind = "PGlite" | "PostgreSQL";

/**
 * A test backend over real HTTP serving one cube saved into its store first. `restart` stops the
 * server and starts a new one on the same store; `close` stops it and removes the folder (and the
 * PostgreSQL database).
 */
export class CubeServer {
  private constructor(
    private current: RunningServer,
    private readonly env: Record<string, string | undefined>,
    private readonly dataDir: string,
    private readonly dropDatabase?: () => Promise<void>,
  ) {}

  /**
   * Saves `def` and `cells` into a new store of `kind`, then starts a server on it.
   * @param env more variables for the server's configuration (see testConfig).
   * @param security the cube's security (canonical, see security/validate.ts checkModel); none: open.
   */
  static async start(kind: StoreKind, def: CubeDef, cells: LeafCells, env: Record<string, string> = {}, security: SecurityModel | null = null): Promise<CubeServer> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-test-"));
    const db = kind === "PostgreSQL" ? await createTestDatabase() : undefined;
    const store = await openStore({ dataDir, databaseUrl: db?.url });
    await store.saveCube(def, cells, undefined, security);
    await store.close();
    const full = { ...env, QATOM_DATA_DIR: dataDir, DATABASE_URL: db?.url };
    return new CubeServer(await CubeServer.run(full), full, dataDir, db?.drop);
  }

  private static async run(env: Record<string, string | undefined>): Promise<RunningServer> {
    const s = await startServer(testConfig(env), quietStart());
    await s.ready;
    return s;
  }

  /** The server's base URL (changes on restart). */
  get url(): string {
    return this.current.url;
  }

  /** Stops the server and starts a new one on the same store. */
  async restart(): Promise<void> {
    await this.current.close();
    this.current = await CubeServer.run(this.env);
  }

  async close(): Promise<void> {
    await this.current.close();
    await this.dropDatabase?.();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}
