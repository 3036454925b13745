/**
 * The Connect API over a real HTTP server on an ephemeral port, once with the embedded store
 * (PGlite in a temporary folder) and once with the PostgreSQL server (a fresh database): reads,
 * writes, conflicts, streams, comments, members, history, bad input, and a restart that keeps every
 * acknowledged write.
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { CellErrorCode, MemberRelation, WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import { fetchDevToken } from "../backend/src/auth/dev-client";
import { apiClients } from "./helpers/clients";
import { CubeServer, type StoreKind } from "./helpers/cube-server";
import { smallCubeCells, smallCubeDef } from "./helpers/small-cube";

describe.each<StoreKind>(["PGlite", "PostgreSQL"])("the Connect API on %s", (kind) => {

  let server: CubeServer;

  function clients(user: string) {
    return apiClients(server.url, user);
  }

  async function postJson(method: string, body: string): Promise<{ status: number; json: { code?: string; message?: string } }> {
    const { accessToken } = await fetchDevToken(server.url, "ann");
    const res = await fetch(`${server.url}/quantatom.v1.LatticeService/${method}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${accessToken}` },
      body,
    });
    return { status: res.status, json: (await res.json()) as { code?: string; message?: string } };
  }

  beforeAll(async () => {
    server = await CubeServer.start(kind, smallCubeDef, smallCubeCells());
  });

  afterAll(async () => {
    await server?.close();
  });

  const units = "[Measures].[Units]";

  describe("GetCells", () => {
    it("answers leaf and consolidated cells in request order with per-cell errors", async () => {
      const { lattice } = clients("ann");
      const res = await lattice.getCells({
        cube: "Demo",
        cells: [
          { members: [units, "[Region].[North]"] },
          { members: ["[Region].[North].[Nowhere]"] },
          { members: [units, "[Region].[North].[Oslo]", "Widget", "Web"] },
          { members: ["Alpha"] },
          { members: ["[Measures].[Revenue]"] },
          { members: [units, "Oslo", "Gadget", "Web"] },
          { members: ["[Region].[North", units] },
          { members: ["North", "South"] },
        ],
      });
      expect(res.cells).toHaveLength(8);
      expect(res.cells[0]).toMatchObject({ value: 30, consolidated: true });
      expect(res.cells[1].error?.code).toBe(CellErrorCode.UNKNOWN_MEMBER);
      expect(res.cells[1].error?.message).toMatch(/dimension Region has no member "Nowhere" under \[Region\]\.\[North\]/);
      expect(res.cells[2]).toMatchObject({ value: 10, consolidated: false });
      expect(res.cells[3].error?.code).toBe(CellErrorCode.AMBIGUOUS_MEMBER);
      expect(res.cells[3].error?.candidates).toEqual(["[Product].[Alpha]", "[Channel].[Alpha]"]);
      expect(res.cells[4].value).toBeCloseTo(140.75, 10);
      expect(res.cells[5].value).toBeUndefined();
      expect(res.cells[6].error?.code).toBe(CellErrorCode.INVALID_ADDRESS);
      expect(res.cells[7].error?.code).toBe(CellErrorCode.DUPLICATE_DIMENSION);
    });

    it("answers the documented JSON call", async () => {
      const { status, json } = await postJson("GetCells", JSON.stringify({ cube: "Demo", cells: [{ members: [units, "[Region].[South]"] }] }));
      expect(status).toBe(200);
      expect(json).toEqual({ cells: [{ value: 5, version: "0", consolidated: true, calculated: false }] });
      const bad = await postJson("GetCells", JSON.stringify({ cube: "Demo", cells: [{ members: ["Atlantis"] }] }));
      expect(bad.json).toMatchObject({ cells: [{ error: { code: "CELL_ERROR_CODE_UNKNOWN_MEMBER" }, version: "0", consolidated: false }] });
    });
  });

  describe("bad input", () => {
    it("unknown cube is not_found", async () => {
      const { lattice } = clients("ann");
      await expect(lattice.getCells({ cube: "Nope", cells: [] })).rejects.toMatchObject({ code: Code.NotFound });
      const { status, json } = await postJson("GetCells", JSON.stringify({ cube: "Nope" }));
      expect(status).toBe(404);
      expect(json.code).toBe("not_found");
      expect(json.message).toMatch(/cube "Nope" not found; cubes: Demo/);
    });

    it("malformed JSON and wrong field types are invalid_argument", async () => {
      for (const body of ["{not json", JSON.stringify({ cube: 5 }), JSON.stringify({ cube: "Demo", cells: "x" }), JSON.stringify({ cube: "Demo", cells: [{ members: [1] }] })]) {
        const { status, json } = await postJson("GetCells", body);
        expect({ body, status, code: json.code }).toEqual({ body, status: 400, code: "invalid_argument" });
        expect(json.message).toBeTruthy();
      }
    });

    it("a batch over the limit is resource_exhausted", async () => {
      const cells = Array.from({ length: 20_001 }, () => ({ members: [units] }));
      const { status, json } = await postJson("GetCells", JSON.stringify({ cube: "Demo", cells }));
      expect(status).toBe(429);
      expect(json).toMatchObject({ code: "resource_exhausted" });
      expect(json.message).toMatch(/20001 cells in one request; the limit is 20000/);
    });

    it("NaN and infinite values are invalid_argument and change nothing", async () => {
      const { lattice } = clients("ann");
      for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        const err = await lattice
          .writeCells({ cube: "Demo", writes: [{ members: [units, "Oslo", "Widget", "Web", "Plan"], value, baseVersion: 0n }] })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ConnectError);
        expect((err as ConnectError).code).toBe(Code.InvalidArgument);
        expect((err as ConnectError).rawMessage).toMatch(/writes\[0\]\.value is (NaN|Infinity|-Infinity)/);
      }
      const { status, json } = await postJson(
        "WriteCells",
        JSON.stringify({ cube: "Demo", writes: [{ members: [units, "Oslo", "Widget", "Web", "Plan"], value: "NaN" }] }),
      );
      expect(status).toBe(400);
      expect(json.code).toBe("invalid_argument");
      const res = await lattice.getCells({ cube: "Demo", cells: [{ members: [units, "Oslo", "Widget", "Web", "Plan"] }] });
      expect(res.cells[0].value).toBe(10);
    });
  });

  describe("WriteCells", () => {
    const planLeaf = [units, "[Region].[North].[Bergen]", "[Product].[Widget]", "[Channel].[Web]", "[Scenario].[Plan]"];
    const ancestors = [
      [units, "[Region].[North]", "[Scenario].[Plan]"],
      [units, "[Scenario].[Plan]"],
      [units, "[Region].[North].[Bergen]", "[Scenario].[Plan]"],
      [units, "[Product].[Widget]", "[Scenario].[Plan]"],
    ];
    const actual = [[units], [units, "[Region].[North]"]];

    it("moves every consolidated ancestor of a Plan leaf by the same amount and leaves Actual alone", async () => {
      const { lattice } = clients("ann");
      const read = () => lattice.getCells({ cube: "Demo", cells: [planLeaf, ...ancestors, ...actual].map((members) => ({ members })) });
      const before = await read();
      const base = before.cells[0].version;
      const res = await lattice.writeCells({ cube: "Demo", writes: [{ members: planLeaf, value: 27.5, baseVersion: base }] });
      expect(res.results[0].status).toBe(WriteStatus.APPLIED);
      expect(res.results[0].version > base).toBe(true);
      expect(res.transactionId).toMatch(/^[0-9a-f-]{36}$/);
      const after = await read();
      expect(after.cells[0].value).toBe(27.5);
      const delta = 27.5 - (before.cells[0].value ?? 0);
      for (let i = 1; i <= ancestors.length; i++) {
        expect(after.cells[i].value).toBeCloseTo((before.cells[i].value ?? 0) + delta, 10);
        expect(after.cells[i].version).toBe(res.results[0].version);
      }
      for (let i = ancestors.length + 1; i < after.cells.length; i++) {
        expect(after.cells[i].value).toBe(before.cells[i].value);
        expect(after.cells[i].version).toBe(before.cells[i].version);
      }
      const history = await lattice.getCellHistory({ cube: "Demo", members: planLeaf });
      expect(history.records[0]).toMatchObject({ user: "ann", oldValue: 20, newValue: 27.5, version: res.results[0].version, transactionId: res.transactionId });
    });

    it("gives CONFLICT with the current value and author for a stale base version, changing nothing", async () => {
      const ann = clients("ann").lattice;
      const bob = clients("bob").lattice;
      const cur = await ann.getCells({ cube: "Demo", cells: [{ members: planLeaf }] });
      const seen = cur.cells[0].version;
      const first = await bob.writeCells({ cube: "Demo", writes: [{ members: planLeaf, value: 31, baseVersion: seen }] });
      expect(first.results[0].status).toBe(WriteStatus.APPLIED);
      const stale = await ann.writeCells({
        cube: "Demo",
        writes: [
          { members: planLeaf, value: 99, baseVersion: seen },
          { members: [units, "Oslo", "Gadget", "Web", "Plan"], value: 1, baseVersion: 0n },
        ],
      });
      expect(stale.results[0]).toMatchObject({ status: WriteStatus.CONFLICT, currentValue: 31, version: first.results[0].version, updatedBy: "bob" });
      expect(stale.results[0].updatedAt).toBeDefined();
      expect(stale.results[0].message).toMatch(/bob wrote 31/);
      // the other write of the batch is applied on its own
      expect(stale.results[1].status).toBe(WriteStatus.APPLIED);
      const now = await ann.getCells({ cube: "Demo", cells: [{ members: planLeaf }] });
      expect(now.cells[0].value).toBe(31);
    });

    it("rejects writes to unknown members per write, and spreads a write to a consolidated cell", async () => {
      const { lattice } = clients("ann");
      const north = [units, "North", "Widget", "Web", "Plan"];
      const seen = await lattice.getCells({ cube: "Demo", cells: [{ members: north }] });
      const res = await lattice.writeCells({
        cube: "Demo",
        writes: [
          { members: north, value: 5, baseVersion: seen.cells[0].version },
          { members: [units, "Atlantis", "Widget", "Web", "Plan"], value: 5, baseVersion: 0n },
        ],
      });
      expect(res.results[0].status).toBe(WriteStatus.APPLIED);
      expect(res.results[0].currentValue).toBeCloseTo(5, 10);
      expect(res.results[1].status).toBe(WriteStatus.REJECTED);
      expect(res.results[1].error?.code).toBe(CellErrorCode.UNKNOWN_MEMBER);
      expect(res.transactionId).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe("WatchCells", () => {
    it("sends every cell first, then only changed cells, consolidated ancestors included", async () => {
      const { lattice } = clients("ann");
      const other = clients("carl").lattice;
      const controller = new AbortController();
      const cells = [
        { members: [units, "[Scenario].[Plan]"] },
        { members: [units, "[Region].[South]", "[Scenario].[Plan]"] },
        { members: ["[Region].[Atlantis]"] },
        { members: [units, "[Region].[North]", "[Scenario].[Plan]"] },
      ];
      const stream = lattice.watchCells({ cube: "Demo", cells }, { signal: controller.signal });
      const it = stream[Symbol.asyncIterator]();
      const first = await it.next();
      expect(first.value.initial).toBe(true);
      expect(first.value.updates.map((u: { index: number }) => u.index)).toEqual([0, 1, 2, 3]);
      expect(first.value.updates[2].cell.error.code).toBe(CellErrorCode.UNKNOWN_MEMBER);
      const total = first.value.updates[0].cell.value as number;
      const south = first.value.updates[1].cell.value as number;
      const leaf = [units, "Rome", "Gadget", "[Channel].[Alpha]", "Plan"];
      const cur = await other.getCells({ cube: "Demo", cells: [{ members: leaf }] });
      const w = await other.writeCells({ cube: "Demo", writes: [{ members: leaf, value: 8, baseVersion: cur.cells[0].version }] });
      expect(w.results[0].status).toBe(WriteStatus.APPLIED);
      const next = await it.next();
      expect(next.value.initial).toBe(false);
      expect(next.value.updates.map((u: { index: number }) => u.index)).toEqual([0, 1]);
      expect(next.value.updates[0].cell.value).toBeCloseTo(total + 3, 10);
      expect(next.value.updates[1].cell.value).toBeCloseTo(south + 3, 10);
      expect(next.value.updates[1].cell.version).toBe(w.results[0].version);
      controller.abort();
      await it.return?.();
    });
  });

  describe("GetMembers and ListCubes", () => {
    it("lists children, descendants and search results", async () => {
      const { lattice } = clients("ann");
      const cubes = await lattice.listCubes({});
      expect(cubes.cubes[0]).toMatchObject({ name: "Demo" });
      expect(cubes.cubes[0].dimensions.map((d) => d.defaultMember)).toEqual([
        "[Region].[All Regions]",
        "[Product].[All Products]",
        "[Channel].[All Channels]",
        "[Scenario].[Actual]",
        "[Measures].[Units]",
      ]);
      const kids = await lattice.getMembers({ cube: "Demo", dimension: "Region", parent: "[Region].[All Regions]" });
      expect(kids.members.map((m) => m.uniqueName)).toEqual(["[Region].[North]", "[Region].[South]"]);
      const desc = await lattice.getMembers({ cube: "Demo", dimension: "Region", relation: MemberRelation.DESCENDANTS });
      expect(desc.members.map((m) => m.name)).toEqual(["All Regions", "North", "Oslo", "Bergen", "South", "Rome"]);
      const depth1 = await lattice.getMembers({ cube: "Demo", dimension: "Region", parent: "All Regions", relation: MemberRelation.DESCENDANTS, depth: 1 });
      expect(depth1.members.map((m) => m.name)).toEqual(["North", "South"]);
      const found = await lattice.getMembers({ cube: "Demo", dimension: "Region", relation: MemberRelation.SEARCH, query: "o" });
      // a prefix match first, then the others by depth
      expect(found.members.map((m) => m.name)).toEqual(["Oslo", "All Regions", "North", "South", "Rome"]);
      const limited = await lattice.getMembers({ cube: "Demo", dimension: "Region", relation: MemberRelation.DESCENDANTS, limit: 2 });
      expect(limited).toMatchObject({ truncated: true });
      expect(limited.members).toHaveLength(2);
      await expect(lattice.getMembers({ cube: "Demo", dimension: "Planet" })).rejects.toMatchObject({ code: Code.NotFound });
      await expect(lattice.getMembers({ cube: "Demo", dimension: "Region", parent: "Atlantis" })).rejects.toMatchObject({ code: Code.NotFound });
    });
  });

  describe("CommentaryService", () => {
    it("keeps comments newest first and counts those below a consolidated cell", async () => {
      const { commentary } = clients("dora");
      const leaf = [units, "Oslo", "Widget", "Web"];
      const a = await commentary.addComment({ cube: "Demo", members: leaf, text: "promo week" });
      expect(a.comment).toMatchObject({ author: "dora", text: "promo week" });
      expect(a.comment?.members).toEqual(["[Region].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]", "[Scenario].[Actual]", "[Measures].[Units]"]);
      await commentary.addComment({ cube: "Demo", members: leaf, text: "checked with sales" });
      await commentary.addComment({ cube: "Demo", members: [units, "North"], text: "north total looks low" });
      const own = await commentary.listComments({ cube: "Demo", members: leaf });
      expect(own.comments.map((c) => c.text)).toEqual(["checked with sales", "promo week"]);
      expect(own.descendantCommentCount).toBe(0);
      const top = await commentary.listComments({ cube: "Demo", members: [units], includeDescendants: true });
      expect(top.comments).toHaveLength(0);
      expect(top.descendantCommentCount).toBe(3);
      expect(top.descendantComments.map((c) => c.text)).toEqual(["north total looks low", "checked with sales", "promo week"]);
      await expect(commentary.addComment({ cube: "Demo", members: leaf, text: "   " })).rejects.toMatchObject({ code: Code.InvalidArgument });
      await expect(commentary.addComment({ cube: "Demo", members: ["Atlantis"], text: "x" })).rejects.toMatchObject({ code: Code.NotFound });
    });
  });

  describe("restart", () => {
    it("brings back every acknowledged write and comment", async () => {
      const { lattice } = clients("erin");
      const leaf = [units, "Oslo", "Widget", "Web", "Plan"];
      const cur = await lattice.getCells({ cube: "Demo", cells: [{ members: leaf }] });
      const w = await lattice.writeCells({ cube: "Demo", writes: [{ members: leaf, value: 12345.67, baseVersion: cur.cells[0].version }] });
      expect(w.results[0].status).toBe(WriteStatus.APPLIED);
      const totalBefore = (await lattice.getCells({ cube: "Demo", cells: [{ members: [units, "Plan"] }] })).cells[0];
      await server.restart();
      const after = await clients("erin").lattice.getCells({ cube: "Demo", cells: [{ members: leaf }, { members: [units, "Plan"] }] });
      expect(after.cells[0]).toMatchObject({ value: 12345.67, version: w.results[0].version });
      expect(after.cells[1]).toMatchObject({ value: totalBefore.value, version: totalBefore.version });
      // a stale write after the restart is still a conflict, naming the author
      const stale = await clients("fred").lattice.writeCells({ cube: "Demo", writes: [{ members: leaf, value: 1, baseVersion: cur.cells[0].version }] });
      expect(stale.results[0]).toMatchObject({ status: WriteStatus.CONFLICT, updatedBy: "erin", currentValue: 12345.67 });
      const comments = await clients("erin").commentary.listComments({ cube: "Demo", members: [units, "Oslo", "Widget", "Web"] });
      expect(comments.comments).toHaveLength(2);
    });
  });
});

describe("number formats on the Connect API (PGlite)", () => {
  // The small cube with formats: Revenue is money, Price (Revenue / Units) a percentage of its own;
  // Units has none.
  const def = structuredClone(smallCubeDef);
  const measures = def.dimensions.find((d) => d.name === "Measures")!;
  measures.members.find((m) => m.name === "Revenue")!.formatString = "#,##0.00";
  measures.members.push({ name: "Price", parent: -1, level: 0, formatString: "0.0%" });
  def.formulas = [...(def.formulas ?? []), { member: "[Measures].[Price]", expression: "[Measures].[Revenue] / [Measures].[Units]" }];
  let server: CubeServer;

  beforeAll(async () => {
    server = await CubeServer.start("PGlite", def, smallCubeCells());
  });
  afterAll(async () => {
    await server?.close();
  });

  const cells = [
    { members: ["[Measures].[Revenue]", "[Region].[North]"] },
    { members: ["[Measures].[Price]"] },
    { members: ["[Measures].[Units]"] },
    { members: ["[Measures].[Revenue]", "[Region].[Atlantis]"] },
  ];

  it("GetCells returns each cell's format: its measure's, a calculated measure's own, none without one or with an error", async () => {
    const { lattice } = apiClients(server.url, "ann");
    const res = await lattice.getCells({ cube: "Demo", cells });
    expect(res.cells.map((c) => c.formatString)).toEqual(["#,##0.00", "0.0%", undefined, undefined]);
    expect(res.cells[1]).toMatchObject({ calculated: true, formatString: "0.0%" });
    // in JSON as the README shows it
    const { accessToken } = await fetchDevToken(server.url, "ann");
    const json = await fetch(`${server.url}/quantatom.v1.LatticeService/GetCells`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ cube: "Demo", cells: [{ members: ["[Measures].[Revenue]", "[Region].[South]"] }] }),
    }).then((r) => r.json());
    expect(json).toEqual({ cells: [{ value: 40.5, version: "0", consolidated: true, calculated: false, formatString: "#,##0.00" }] });
  });

  it("WatchCells sends the format with the first values and with every change", async () => {
    const { lattice } = apiClients(server.url, "ann");
    const controller = new AbortController();
    const it = lattice.watchCells({ cube: "Demo", cells }, { signal: controller.signal })[Symbol.asyncIterator]();
    try {
      const first = await it.next();
      expect(first.value.updates.map((u: { cell: { formatString?: string } }) => u.cell.formatString)).toEqual(["#,##0.00", "0.0%", undefined, undefined]);
      const leaf = ["[Measures].[Revenue]", "Oslo", "Widget", "Web", "[Scenario].[Actual]"]; // under the watched North and Price
      const cur = await lattice.getCells({ cube: "Demo", cells: [{ members: leaf }] });
      const w = await lattice.writeCells({ cube: "Demo", writes: [{ members: leaf, value: 7, baseVersion: cur.cells[0].version }] });
      expect(w.results[0].status).toBe(WriteStatus.APPLIED);
      const next = await it.next();
      expect(next.value.initial).toBe(false);
      for (const u of next.value.updates as { index: number; cell: { formatString?: string } }[]) {
        expect(u.cell.formatString).toBe(["#,##0.00", "0.0%"][u.index]);
      }
    } finally {
      controller.abort();
    }
  });
});
