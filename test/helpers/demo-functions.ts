/**
 * The functions bundle against a real backend serving the small Demo cube (PGlite in a temporary
 * folder, HTTP on an ephemeral port): the server, the bundle loads, and QATOM.CELL calls, shared by
 * the functions' end-to-end tests (test/functions-*.test.ts).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type RunningServer, startServer } from "../../backend/src/server/main";
import { openStore } from "../../backend/src/store";
import { startAuthProxy } from "./auth-proxy";
import { apiClients } from "./clients";
import { type LoadedFunctions, loadFunctions } from "./functions-bundle";
import { StreamingInvocationStub } from "./office-stand-ins";
import { quietStart, testConfig } from "./server";
import { smallCubeCells, smallCubeDef } from "./small-cube";

/** The small cube's stored measure. */
export const units = "[Measures].[Units]";

/**
 * Starts a server on `dataDir` (an ephemeral port unless `port` is given) and waits until it is
 * ready. Until the backend serves sign-in, its `url` and `port` are those of the sign-in stand-in
 * in front of it (test/helpers/auth-proxy.ts), which the add-in talks to.
 */
export async function startDemoServer(dataDir: string, port = 0): Promise<RunningServer> {
  const s = await startServer(testConfig({ PORT: "0", QATOM_DATA_DIR: dataDir }), quietStart());
  await s.ready;
  const proxy = await startAuthProxy(s.url, { users: [], port });
  backends.set(proxy.url, s.url);
  return {
    ...s,
    url: proxy.url,
    port: Number(new URL(proxy.url).port),
    close: async () => {
      await proxy.close();
      await s.close();
    },
  };
}

/** A new temporary PGlite store holding the Demo cube; returns its folder. */
export async function newDemoStore(): Promise<string> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-functions-"));
  const store = await openStore({ dataDir });
  await store.saveCube(smallCubeDef, smallCubeCells());
  await store.close();
  return dataDir;
}

/** The backend behind the sign-in stand-in (until the backend serves sign-in), for clients of the old user header. */
const backends = new Map<string, string>();

/** API clients of another user (bob unless named), as a second Excel would be. */
export function otherClient(url: string, user = "bob") {
  return apiClients(backends.get(url) ?? url, user);
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
 * Registers beforeAll/afterEach/afterAll hooks for the calling describe block: a Demo store and
 * server for the block, and every bundle loaded by a test disposed after it.
 */
export function demoFunctions(): DemoFunctions {
  let dataDir: string;
  let server: RunningServer | undefined;
  const loaded: LoadedFunctions[] = [];

  beforeAll(async () => {
    dataDir = await newDemoStore();
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
