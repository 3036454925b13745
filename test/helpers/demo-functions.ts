/**
 * The functions bundle against a real backend serving the small Demo cube (PGlite in a temporary
 * folder, HTTP on an ephemeral port): the server, the bundle loads, and QATOM.CELL calls, shared by
 * the functions' end-to-end tests (test/functions-*.test.ts).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { CubeDef } from "../../backend/src/lattice";
import { type RunningServer, startServer } from "../../backend/src/server/main";
import { openStore } from "../../backend/src/store";
import { apiClients } from "./clients";
import { type LoadedFunctions, loadFunctions } from "./functions-bundle";
import { StreamingInvocationStub } from "./office-stand-ins";
import { quietStart, testConfig } from "./server";
import { smallCubeCells, smallCubeDef } from "./small-cube";

/** The small cube's stored measure. */
export const units = "[Measures].[Units]";

/** Starts a server on `dataDir` (an ephemeral port unless `port` is given) and waits until it is ready. */
export async function startDemoServer(dataDir: string, port = 0): Promise<RunningServer> {
  const s = await startServer(testConfig({ PORT: String(port), QATOM_DATA_DIR: dataDir }), quietStart());
  await s.ready;
  return s;
}

/** A new temporary PGlite store holding the Demo cube (`def`, the small cube by default); returns its folder. */
export async function newDemoStore(def: CubeDef = smallCubeDef): Promise<string> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-functions-"));
  const store = await openStore({ dataDir });
  await store.saveCube(def, smallCubeCells());
  await store.close();
  return dataDir;
}

/** API clients of another user (bob unless named, signed in through the development issuer), as a second Excel would be. */
export function otherClient(url: string, user = "bob") {
  return apiClients(url, user);
}

/** What {@link demoFunctions} gives a test file. */
export interface DemoFunctions {
  /** The Demo server (set in beforeAll). */
  readonly server: RunningServer;
  /** Bundles loaded by the current test: disposed after each test. */
  readonly loaded: LoadedFunctions[];
  /** Loads the functions bundle against the Demo server (or `extra.serverUrl`). */
  load(extra?: Partial<Parameters<typeof loadFunctions>[0]>): Promise<LoadedFunctions>;
  /** Calls QATOM.CELL as Excel does (each member a 1x1 range unless already a range). */
  cell(f: LoadedFunctions, cube: unknown, members: unknown[], address?: string): StreamingInvocationStub<number>;
}

/**
 * Registers beforeAll/afterEach/afterAll hooks for the calling describe block: a Demo store (of
 * `def`, the small cube by default) and server for the block, and every bundle loaded by a test disposed after it.
 */
export function demoFunctions(def: CubeDef = smallCubeDef): DemoFunctions {
  let dataDir: string;
  let server: RunningServer | undefined;
  const loaded: LoadedFunctions[] = [];

  beforeAll(async () => {
    dataDir = await newDemoStore(def);
    server = await startDemoServer(dataDir);
  });

  afterEach(() => {
    for (const f of loaded.splice(0)) f.dispose();
  });

  afterAll(async () => {
    await server?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const fixture: DemoFunctions = {
    get server() {
      if (!server) throw new Error("the Demo server is started in beforeAll");
      return server;
    },
    loaded,
    async load(extra = {}) {
      const f = await loadFunctions({ serverUrl: fixture.server.url, ...extra });
      loaded.push(f);
      return f;
    },
    cell(f, cube, members, address) {
      const inv = new StreamingInvocationStub<number>(address);
      f.functions.get("CELL")!(cube, members.map((m) => (Array.isArray(m) ? m : [[m]])), inv);
      return inv;
    },
  };
  return fixture;
}
