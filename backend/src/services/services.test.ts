/**
 * The Connect services in memory: the same routes and router options as the HTTP server
 * (`routes`, `routerOptions`), served by `createRouterTransport` to real clients, over a real
 * Backend on an embedded store (PGlite in a temporary folder), signed in through a development
 * issuer. No HTTP: these tests pin the services' own behaviour (the verified caller, per-cell
 * errors, the one error boundary for unary calls and streams, a write seen by a stream);
 * test/api.test.ts covers the same API over HTTP and test/auth.test.ts sign-in against a real issuer.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import pino from "pino";
import { CommentaryService } from "../../../proto/gen/quantatom/v1/commentary_pb";
import { CellErrorCode, LatticeService, WriteStatus } from "../../../proto/gen/quantatom/v1/lattice_pb";
import { smallCubeCells, smallCubeDef } from "../../../test/helpers/small-cube";
import { createOidcVerifier, DEV_AUDIENCE, DevIssuer, type TokenVerifier } from "../auth";
import { Backend } from "../domain";
import { Cube } from "../lattice";
import { openStore, type Store } from "../store";
import { routerOptions, routes } from ".";

describe("the Connect services in memory", () => {
  let dataDir: string;
  let store: Store;
  let backend: Backend;
  let issuer: DevIssuer;
  let verifier: TokenVerifier;
  /** Every line the services logged, as parsed JSON. */
  const logged: Record<string, unknown>[] = [];

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-services-"));
    store = await openStore({ dataDir });
    await store.saveCube(smallCubeDef, smallCubeCells());
    const stored = await store.loadCube("Demo");
    backend = new Backend(store, { instanceId: "services-test" });
    backend.addCube({ id: stored.id, cube: new Cube(stored.def, stored.cells, stored.writers), loadedAt: stored.loadedAt });
    issuer = await DevIssuer.open(dataDir);
    issuer.setServerUrl("http://in-memory.test");
    verifier = createOidcVerifier({ issuer: issuer.issuer, audience: DEV_AUDIENCE, fetch: issuer.fetch });
  });

  afterAll(async () => {
    await store?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /**
   * Clients of both services signed in as `user` (none: no token), in memory; `headers` are sent
   * besides, e.g. a name the client claims.
   */
  function clients(user?: string, headers: Record<string, string> = {}) {
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split("\n").filter(Boolean)) logged.push(JSON.parse(line));
        done();
      },
    });
    const transport = createRouterTransport(routes(backend), {
      router: routerOptions(pino({ level: "info" }, sink), verifier),
      transport: {
        interceptors: [
          (next) => async (req) => {
            if (user !== undefined) req.header.set("authorization", `Bearer ${(await issuer.issue({ id: user })).accessToken}`);
            for (const [k, v] of Object.entries(headers)) req.header.set(k, v);
            return next(req);
          },
        ],
      },
    });
    return { lattice: createClient(LatticeService, transport), commentary: createClient(CommentaryService, transport) };
  }

  const units = "[Measures].[Units]";
  const planLeaf = [units, "[Region].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]", "[Scenario].[Plan]"];

  it("answers cells in request order, with a per-cell error for a bad address", async () => {
    const res = await clients("ann").lattice.getCells({
      cube: "Demo",
      cells: [{ members: [units, "[Region].[North]"] }, { members: ["[Region].[Atlantis]"] }, { members: ["Alpha"] }],
    });
    expect(res.cells[0]).toMatchObject({ value: 30, consolidated: true });
    expect(res.cells[1].error?.code).toBe(CellErrorCode.UNKNOWN_MEMBER);
    expect(res.cells[2].error).toMatchObject({ code: CellErrorCode.AMBIGUOUS_MEMBER, candidates: ["[Product].[Alpha]", "[Channel].[Alpha]"] });
  });

  it("records the token's subject in the audit log, whatever name the client sends", async () => {
    const { lattice } = clients("ann", { "X-Quantatom-User": "cfo" });
    const cur = await lattice.getCells({ cube: "Demo", cells: [{ members: planLeaf }] });
    const w = await lattice.writeCells({ cube: "Demo", writes: [{ members: planLeaf, value: 12, baseVersion: cur.cells[0].version }] });
    expect(w.results[0]).toMatchObject({ status: WriteStatus.APPLIED, updatedBy: "ann" });
    const history = await lattice.getCellHistory({ cube: "Demo", members: planLeaf });
    expect(history.records[0]).toMatchObject({ user: "ann", newValue: 12 });
  });

  it("answers every call without a token 'unauthenticated', streams included", async () => {
    const { lattice, commentary } = clients();
    await expect(lattice.listCubes({})).rejects.toMatchObject({ code: Code.Unauthenticated });
    await expect(commentary.listComments({ cube: "Demo", members: planLeaf })).rejects.toMatchObject({ code: Code.Unauthenticated });
    const err = await (async () => {
      for await (const _ of lattice.watchCells({ cube: "Demo", cells: [{ members: planLeaf }] })) return null;
      return null;
    })().catch((e: unknown) => e);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
    expect(logged.some((l) => l.msg === "sign-in refused" && String(l.reason).includes("no access token"))).toBe(true);
  });

  it("maps domain errors to their Connect codes, for unary calls and for streams", async () => {
    const { lattice, commentary } = clients("ann");
    await expect(lattice.getCells({ cube: "Nope", cells: [] })).rejects.toMatchObject({ code: Code.NotFound, rawMessage: expect.stringMatching(/cube "Nope" not found/) });
    const cells = Array.from({ length: 20_001 }, () => ({ members: [units] }));
    await expect(lattice.getCells({ cube: "Demo", cells })).rejects.toMatchObject({ code: Code.ResourceExhausted });
    await expect(commentary.addComment({ cube: "Demo", members: planLeaf, text: "   " })).rejects.toMatchObject({ code: Code.InvalidArgument });
    const stream = lattice.watchCells({ cube: "Nope", cells: [{ members: [units] }] });
    const err = await (async () => {
      for await (const _ of stream) return null;
      return null;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.NotFound);
  });

  it("answers an unexpected failure 'internal' without its details, which go to the log only", async () => {
    const secret = "connection to db-7 failed: password=hunter2";
    const spy = jest.spyOn(store, "listComments").mockRejectedValueOnce(new Error(secret));
    try {
      const err = await clients("ann").commentary.listComments({ cube: "Demo", members: planLeaf }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.Internal);
      expect((err as ConnectError).rawMessage).not.toContain("hunter2");
      expect((err as ConnectError).rawMessage).toMatch(/server log/);
      expect(logged.some((l) => JSON.stringify(l).includes("hunter2") && String(l.rpc).includes("ListComments"))).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });

  it("streams a write to a watcher of its consolidated ancestor", async () => {
    const ann = clients("ann").lattice;
    const controller = new AbortController();
    const stream = ann.watchCells({ cube: "Demo", cells: [{ members: [units, "[Region].[North]", "[Scenario].[Plan]"] }] }, { signal: controller.signal });
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value.initial).toBe(true);
    const before = first.value.updates[0].cell.value as number;
    const bob = clients("bob").lattice;
    const cur = await bob.getCells({ cube: "Demo", cells: [{ members: planLeaf }] });
    const w = await bob.writeCells({ cube: "Demo", writes: [{ members: planLeaf, value: (cur.cells[0].value ?? 0) + 5, baseVersion: cur.cells[0].version }] });
    expect(w.results[0].status).toBe(WriteStatus.APPLIED);
    const next = await it.next();
    expect(next.value.initial).toBe(false);
    expect(next.value.updates[0].cell.value).toBeCloseTo(before + 5, 10);
    expect(next.value.updates[0].cell.version).toBe(w.results[0].version);
    controller.abort();
    await it.return?.();
  });
});
