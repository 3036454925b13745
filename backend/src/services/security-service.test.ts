/**
 * SecurityService across instances, in memory: two Backends ("instances" A and B) on one embedded
 * store and one in-process bus, as two processes share PostgreSQL and Kafka, each serving the
 * Connect routes through createRouterTransport. A change made through A is committed with its audit
 * record and outbox row, applies on A at once, and reaches B over the bus (B reloads the cube's
 * security from the store): B's reads and open streams follow it. Also: the server's admins
 * (QATOM_ADMINS) administer an open cube, whose first change secures it; knownUsers.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Code, createClient, createRouterTransport } from "@connectrpc/connect";
import pino from "pino";
import { CellErrorCode, LatticeService } from "../../../proto/gen/quantatom/v1/lattice_pb";
import { Right, SecurityService } from "../../../proto/gen/quantatom/v1/security_pb";
import { smallCubeCells, smallCubeDef } from "../../../test/helpers/small-cube";
import { createOidcVerifier, DEV_AUDIENCE, DevIssuer, type TokenVerifier } from "../auth";
import { Backend } from "../domain";
import { createEvents, type Events, InProcessBus, TOPICS } from "../events";
import { Cube } from "../lattice";
import { checkModel } from "../security";
import { openStore, type SqlStore } from "../store";
import { routerOptions, routes } from ".";

const log = pino({ level: "silent" });
const OSLO = ["[Measures].[Units]", "[Region].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]", "[Scenario].[Plan]"];

describe("SecurityService on two instances (in-process bus, PGlite)", () => {
  let dir: string;
  let store: SqlStore;
  const bus = new InProcessBus();
  const running: Events[] = [];
  let issuer: DevIssuer;
  let verifier: TokenVerifier;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-security-"));
    store = await openStore({ dataDir: dir });
    const cube = new Cube(smallCubeDef, smallCubeCells());
    const security = checkModel(
      {
        admins: ["ada"],
        groups: [{ name: "north", rights: { Region: { "[Region].[North]": "write" } } }],
        users: [{ id: "nora", name: "Nora North", groups: ["north"] }],
      },
      cube,
    );
    await store.saveCube(smallCubeDef, smallCubeCells(), undefined, security);
    await store.saveCube({ ...smallCubeDef, name: "Open" }, smallCubeCells());
    issuer = await DevIssuer.open(dir);
    issuer.setServerUrl("http://in-memory.test");
    verifier = createOidcVerifier({ issuer: issuer.issuer, audience: DEV_AUDIENCE, fetch: issuer.fetch });
  });

  afterAll(async () => {
    for (const e of running) await e.close();
    await bus.close();
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** An instance serving both cubes with its eventing on the shared bus, started (as server/main.ts composes them). */
  async function instance(id: string): Promise<Backend> {
    const events = createEvents({ store, log, instanceId: id, bus, relay: { idleMs: 20 } });
    const b = new Backend(store, { instanceId: id, publisher: events.relay, serverAdmins: ["root"] });
    for (const name of ["Demo", "Open"]) {
      const stored = await store.loadCube(name);
      b.addCube({ id: stored.id, cube: new Cube(stored.def, stored.cells, stored.writers), loadedAt: stored.loadedAt, security: stored.security });
    }
    await events.start(b);
    running.push(events);
    return b;
  }

  /** Clients of `backend` signed in as `user` (a development-issuer token), in memory. */
  function clients(backend: Backend, user: string) {
    const transport = createRouterTransport(routes(backend), {
      router: routerOptions(log, verifier),
      transport: {
        interceptors: [
          (next) => async (req) => {
            req.header.set("authorization", `Bearer ${(await issuer.issue({ id: user })).accessToken}`);
            return next(req);
          },
        ],
      },
    });
    return { lattice: createClient(LatticeService, transport), security: createClient(SecurityService, transport) };
  }

  it("commits a change with its audit record and outbox row, applies it here at once and on the other instance over the bus", async () => {
    const a = await instance("A");
    const b = await instance("B");
    const published: string[] = [];
    await bus.subscribe([TOPICS.security], (m) => {
      published.push(m.value);
    });
    const noraOnB = clients(b, "nora").lattice;
    expect((await noraOnB.getCells({ cube: "Demo", cells: [{ members: OSLO }] })).cells[0].value).toBe(10);
    // An open stream on B.
    const controller = new AbortController();
    const it = noraOnB.watchCells({ cube: "Demo", cells: [{ members: OSLO }] }, { signal: controller.signal })[Symbol.asyncIterator]();
    try {
      expect((await it.next()).value.updates[0].cell.value).toBe(10);

      const change = await clients(a, "ada").security.setRight({ cube: "Demo", group: "north", member: "[Region].[North].[Oslo]", right: Right.NONE });
      expect(change).toMatchObject({ version: 2n, summary: "set group north's right on [Region].[North].[Oslo] to none (was unset)" });
      // On A at once.
      expect((await clients(a, "nora").lattice.getCells({ cube: "Demo", cells: [{ members: OSLO }] })).cells[0].error?.code).toBe(CellErrorCode.UNKNOWN_MEMBER);
      // On B over the bus: the stream gets NO_ACCESS, reads see the new rights.
      const pushed = (await it.next()).value;
      expect(pushed.updates[0].cell.error?.code).toBe(CellErrorCode.NO_ACCESS);
      expect((await noraOnB.getCells({ cube: "Demo", cells: [{ members: OSLO }] })).cells[0].error?.code).toBe(CellErrorCode.UNKNOWN_MEMBER);
      expect(JSON.parse(published[0])).toMatchObject({ cube: "Demo", version: 2, instanceId: "A", actor: "ada", action: "set_right" });
      // Stored: the model, and the audit record (read through B).
      expect((await store.loadSecurity((await store.loadCube("Demo")).id))?.version).toBe(2);
      const audit = await clients(b, "ada").security.listSecurityAudit({ cube: "Demo" });
      expect(audit.records.map((r) => [r.version, r.actor, r.action])).toEqual([[2n, "ada", "set_right"]]);
    } finally {
      controller.abort();
      await it.return?.();
    }
  });

  it("refuses non-admins (permission_denied) and users who do not see the cube (not_found), changing nothing", async () => {
    const b = await instance("C");
    const before = await store.securityAudit((await store.loadCube("Demo")).id, 100);
    const nora = await clients(b, "nora")
      .security.createGroup({ cube: "Demo", group: "mine" })
      .catch((e: unknown) => e);
    expect(nora).toMatchObject({ code: Code.PermissionDenied });
    const mallory = await clients(b, "mallory")
      .security.listSecurity({ cube: "Demo" })
      .catch((e: unknown) => e);
    expect(mallory).toMatchObject({ code: Code.NotFound });
    expect(await store.securityAudit((await store.loadCube("Demo")).id, 100)).toEqual(before);
  });

  it("lets the server's admins administer an open cube; its first change secures it", async () => {
    const a = await instance("D");
    expect((await clients(a, "anyone").lattice.listCubes({})).cubes.map((c) => c.name)).toEqual(["Open"]);
    expect(await clients(a, "anyone").security.listSecurity({ cube: "Open" }).catch((e: unknown) => e)).toMatchObject({ code: Code.PermissionDenied });
    const open = await clients(a, "root").security.listSecurity({ cube: "Open" });
    expect(open).toMatchObject({ secured: false, version: 0n, serverAdmins: ["root"], groups: [] });
    const r = await clients(a, "root").security.addUserToGroup({ cube: "Open", user: "anyone", group: "planners" }).catch((e: unknown) => e);
    expect(r).toMatchObject({ code: Code.NotFound });
    // The failed change left the cube open (its transaction rolled back whole).
    expect((await clients(a, "anyone").lattice.listCubes({})).cubes.map((c) => c.name)).toEqual(["Open"]);
    expect(await store.loadSecurity((await store.loadCube("Open")).id)).toBeNull();
    await clients(a, "root").security.createGroup({ cube: "Open", group: "planners" });
    expect((await clients(a, "anyone").lattice.listCubes({})).cubes).toEqual([]);
    await clients(a, "root").security.addUserToGroup({ cube: "Open", user: "anyone", group: "planners" });
    expect((await clients(a, "anyone").lattice.listCubes({})).cubes.map((c) => c.name)).toEqual(["Open"]);
  });

  it("lists the users the cubes declare, with the server's admins, for the development sign-in", async () => {
    const a = await instance("E");
    expect(a.knownUsers()).toEqual([
      { id: "ada", name: "ada", groups: [], admin: true, cubes: ["Demo"] },
      { id: "anyone", name: "anyone", groups: ["planners"], admin: false, cubes: ["Open"] },
      { id: "nora", name: "Nora North", groups: ["north"], admin: false, cubes: ["Demo"] },
      { id: "root", name: "root", groups: [], admin: true, cubes: ["Demo", "Open"] },
    ]);
  });
});
