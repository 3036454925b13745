/**
 * Rights on FoodMart, as its model file declares them (README "Rights"): walt (wa-planners) spreads
 * in Washington but only reads Seattle; carla (ca-planners) writes California's stores but may not
 * spread; both read the rest of the USA; Canada and Mexico are hidden from them. One test per rule:
 * reads, members, writes, spreads, scenario copies, comments, history, streams (a right revoked
 * while a stream is open), and the audit log's author. Over HTTP, FoodMart loaded on first start.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Code } from "@connectrpc/connect";
import { type RunningServer, startServer } from "../backend/src/server/main";
import { CellErrorCode, MemberRelation, WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import { Right } from "../proto/gen/quantatom/v1/security_pb";
import { apiClients } from "./helpers/clients";
import { quietStart, testConfig } from "./helpers/server";

const root = path.resolve(__dirname, "..");
const UNITS = "[Measures].[Unit Sales]";
const PLAN = "[Scenario].[Plan]";
const CA = "[Store].[USA].[CA]";
const WA = "[Store].[USA].[WA]";

/** A Plan leaf of FoodMart at `store` (the other members as in the README's example). */
function leaf(store: string): string[] {
  return [
    UNITS,
    PLAN,
    "[Time].[1997].[Q1].[1]",
    store,
    "[Store Type].[Small Grocery]",
    "[Product].[Food].[Canned Foods].[Canned Soup].[Soup].[Better].[Better Turkey Noodle Soup]",
    "[Customers].[USA].[WA].[Anacortes].[Thomas Hayes]",
    "[Gender].[F]",
    "[Marital Status].[S]",
    "[Education Level].[High School Degree]",
    "[Yearly Income].[$30K - $50K]",
    "[Promotion Media].[No Media]",
    "[Promotions].[No Promotion]",
  ];
}
const BEVERLY_HILLS = leaf("[Store].[USA].[CA].[Beverly Hills].[Store 6]");
const BELLINGHAM = leaf("[Store].[USA].[WA].[Bellingham].[Store 2]");
const SEATTLE = leaf("[Store].[USA].[WA].[Seattle].[Store 15]");

describe("rights on FoodMart", () => {
  let dir: string;
  let server: RunningServer;
  const as = (user: string) => apiClients(server.url, user);

  async function write(user: string, members: string[], value: number, headers?: Record<string, string>) {
    const { lattice } = as(user);
    const cur = await as("admin").lattice.getCells({ cube: "Sales", cells: [{ members }] });
    return (await lattice.writeCells({ cube: "Sales", writes: [{ members, value, baseVersion: cur.cells[0].version }] }, { headers })).results[0];
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-rights-foodmart-"));
    server = await startServer(testConfig({ QATOM_DATA_DIR: dir, QATOM_MODEL: path.join(root, "data", "foodmart", "model.yaml") }), quietStart());
    await server.ready;
  });

  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("reads: what a planner may read has its value; a hidden member is unknown; a cell through All Stores is NO_ACCESS", async () => {
    const cells = [{ members: [UNITS, CA] }, { members: [UNITS, "[Store].[Canada]"] }, { members: [UNITS] }];
    const walt = (await as("walt").lattice.getCells({ cube: "Sales", cells })).cells;
    const admin = (await as("admin").lattice.getCells({ cube: "Sales", cells })).cells;
    expect(walt[0].value).toBe(admin[0].value);
    expect(walt[1].error?.code).toBe(CellErrorCode.UNKNOWN_MEMBER);
    expect(admin[1].error).toBeUndefined();
    expect(walt[2].error?.code).toBe(CellErrorCode.NO_ACCESS);
    expect(walt[2].value).toBeUndefined();
    expect(admin[2].value).toBeGreaterThan(0);
  });

  it("explain: a planner explains what he may read, over the API, and not a cell through All Stores", async () => {
    const usa = [UNITS, "[Store].[USA]"];
    const walt = await as("walt").lattice.explainCell({ cube: "Sales", members: usa, topN: 3 });
    const admin = await as("admin").lattice.explainCell({ cube: "Sales", members: usa, topN: 3 });
    const store = (e: typeof walt) => e.dimensions.find((d) => d.dimension === "Store")!;
    expect(store(walt).contributors.map((c) => c.member).sort()).toEqual(["[Store].[USA].[CA]", "[Store].[USA].[OR]", "[Store].[USA].[WA]"]);
    expect(store(walt).contributors).toEqual(store(admin).contributors);
    expect(walt.cell?.value).toBe(admin.cell?.value);
    const refused = await as("walt").lattice.explainCell({ cube: "Sales", members: [UNITS] }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: Code.PermissionDenied });
  });

  it("members: a search does not find what a planner may not see", async () => {
    const search = { cube: "Sales", dimension: "Store", relation: MemberRelation.SEARCH, query: "Canada" };
    expect((await as("admin").lattice.getMembers(search)).members.length).toBeGreaterThan(0);
    expect((await as("walt").lattice.getMembers(search)).members).toEqual([]);
    const states = (await as("carla").lattice.getMembers({ cube: "Sales", dimension: "Store", parent: "[Store].[USA]", relation: MemberRelation.CHILDREN })).members;
    expect(states.map((m) => m.name)).toEqual(["CA", "OR", "WA"]);
  });

  it("writes: a leaf needs the write right; the author is the token's subject, whatever the client says", async () => {
    expect(await write("carla", BEVERLY_HILLS, 7, { "X-Quantatom-User": "admin" })).toMatchObject({ status: WriteStatus.APPLIED, updatedBy: "carla" });
    const refused = await write("carla", BELLINGHAM, 7);
    expect(refused.status).toBe(WriteStatus.REJECTED);
    expect(refused.message).toMatch(/you may not write this cell/);
    expect(await write("walt", BELLINGHAM, 8)).toMatchObject({ status: WriteStatus.APPLIED, updatedBy: "walt" });
    expect((await write("walt", SEATTLE, 8)).status).toBe(WriteStatus.REJECTED);
    const history = await as("admin").lattice.getCellHistory({ cube: "Sales", members: BEVERLY_HILLS });
    expect(history.records[0]).toMatchObject({ user: "carla", newValue: 7 });
  });

  it("spreads: walt spreads into Washington with Seattle held by his rights; carla may not spread into California", async () => {
    const total = [UNITS, PLAN, WA];
    const seattle = [UNITS, PLAN, "[Store].[USA].[WA].[Seattle]"];
    const admin = as("admin").lattice;
    const before = (await admin.getCells({ cube: "Sales", cells: [{ members: total }, { members: seattle }] })).cells;
    const target = Math.round((before[0].value ?? 0) * 1.1);
    const res = (await as("walt").lattice.writeCells({ cube: "Sales", writes: [{ members: total, value: target, baseVersion: before[0].version }] })).results[0];
    expect(res.status).toBe(WriteStatus.APPLIED);
    expect(res.leavesHeldByRights).toBeGreaterThan(0n);
    const after = (await admin.getCells({ cube: "Sales", cells: [{ members: total }, { members: seattle }] })).cells;
    expect(after[0].value).toBeCloseTo(target, 6);
    expect(after[1].value).toBe(before[1].value);
    const caTotal = [UNITS, PLAN, CA];
    const ca = (await admin.getCells({ cube: "Sales", cells: [{ members: caTotal }] })).cells[0];
    const carla = (await as("carla").lattice.writeCells({ cube: "Sales", writes: [{ members: caTotal, value: 1, baseVersion: ca.version }] })).results[0];
    expect(carla.status).toBe(WriteStatus.REJECTED);
    expect(carla.message).toMatch(/you may not spread into this consolidated cell/);
  });

  it("scenario copies: need the write right on the whole target slice", async () => {
    const slice = ["[Time].[1997].[Q1].[1]", "[Product].[Drink].[Beverages]"];
    const walt = await as("walt")
      .lattice.copyScenario({ cube: "Sales", from: "Actual", to: "Plan", factor: 1.1, slice: [WA, ...slice] })
      .catch((e: unknown) => e);
    expect(walt).toMatchObject({ code: Code.PermissionDenied });
    expect((walt as Error).message).toMatch(/Seattle/);
    const carla = await as("carla").lattice.copyScenario({ cube: "Sales", from: "Actual", to: "Plan", factor: 1.1, slice: ["[Store].[USA].[CA].[Beverly Hills]", ...slice] });
    expect(carla.status).toBe(WriteStatus.APPLIED);
    expect(carla.leavesChanged).toBeGreaterThan(0n);
  });

  it("comments need the write right to add and the read right to list; history the read right", async () => {
    const caCell = [UNITS, PLAN, CA];
    await as("carla").commentary.addComment({ cube: "Sales", members: caCell, text: "CA plan agreed" });
    await expect(as("carla").commentary.addComment({ cube: "Sales", members: [UNITS, PLAN, WA], text: "not mine" })).rejects.toMatchObject({
      code: Code.PermissionDenied,
    });
    expect((await as("walt").commentary.listComments({ cube: "Sales", members: caCell })).comments.map((c) => c.text)).toEqual(["CA plan agreed"]);
    expect((await as("walt").lattice.getCellHistory({ cube: "Sales", members: BEVERLY_HILLS })).records[0].user).toBe("carla");
    await expect(as("walt").lattice.getCellHistory({ cube: "Sales", members: leaf("[Store].[Canada].[BC].[Vancouver].[Store 19]") })).rejects.toMatchObject({
      code: Code.NotFound,
    });
  });

  it("streams: a right revoked while a stream is open is pushed as NO_ACCESS, without the value", async () => {
    const controller = new AbortController();
    const stream = as("walt")
      .lattice.watchCells({ cube: "Sales", cells: [{ members: [UNITS, PLAN, CA] }] }, { signal: controller.signal })
      [Symbol.asyncIterator]();
    try {
      const first = (await stream.next()).value;
      expect(first.updates[0].cell.value).toBeGreaterThan(0);
      await as("admin").security.setRight({ cube: "Sales", group: "wa-planners", member: CA, right: Right.NONE });
      const next = (await stream.next()).value;
      expect(next.updates[0].cell.error?.code).toBe(CellErrorCode.NO_ACCESS);
      expect(next.updates[0].cell.value).toBeUndefined();
    } finally {
      controller.abort();
      await stream.return?.();
      await as("admin").security.setRight({ cube: "Sales", group: "wa-planners", member: CA, clear: true });
    }
  });
});
