/**
 * Rights on members, enforced on every path, over real HTTP on the embedded store and on the
 * PostgreSQL server: the Demo cube secured for two users in different groups and an admin.
 *
 * - nora (group north): Region read, North spread but Bergen read; Scenario read, Plan spread;
 *   Channel spread but Alpha none (hidden).
 * - sam (group south): Region: South write (All Regions shows, with None); Scenario: Plan spread
 *   only (Actual, the default member, hidden); Channel spread.
 * - ada: the cube's admin. mallory: in no group (the cube is hidden from her).
 *
 * One test per rule: cubes, members, reads, consolidated values, writes, spreads (held by rights;
 * an unreachable target), scenario copies, comments, history, streams (a right revoked while a
 * stream is open pushes NO_ACCESS, granted again pushes the value), and admin calls.
 */
import { Code } from "@connectrpc/connect";
import { CellErrorCode, type CellUpdate, MemberRelation, WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import { Right } from "../proto/gen/quantatom/v1/security_pb";
import { Cube } from "../backend/src/lattice";
import { checkModel } from "../backend/src/security";
import { apiClients } from "./helpers/clients";
import { CubeServer, type StoreKind } from "./helpers/cube-server";
import { smallCubeCells, smallCubeDef } from "./helpers/small-cube";

const security = checkModel(
  {
    admins: ["ada"],
    groups: [
      {
        name: "north",
        rights: {
          Region: { "[Region]": "read", "[Region].[North]": "spread", "[Region].[North].[Bergen]": "read" },
          Scenario: { "[Scenario]": "read", "[Scenario].[Plan]": "spread" },
          Channel: { "[Channel]": "spread", "[Channel].[Alpha]": "none" },
        },
      },
      {
        name: "south",
        rights: {
          Region: { "[Region].[South]": "write" },
          Scenario: { "[Scenario].[Plan]": "spread" },
          Channel: { "[Channel]": "spread" },
        },
      },
    ],
    users: [
      { id: "nora", name: "Nora North", groups: ["north"] },
      { id: "sam", name: "Sam South", groups: ["south"] },
    ],
  },
  new Cube(smallCubeDef, smallCubeCells()),
);

const units = "[Measures].[Units]";
const OSLO = "[Region].[North].[Oslo]";
const BERGEN = "[Region].[North].[Bergen]";
const NORTH = "[Region].[North]";
const ROME = "[Region].[South].[Rome]";
const PLAN = "[Scenario].[Plan]";
const ACTUAL = "[Scenario].[Actual]";
const osloPlan = [units, OSLO, "Widget", "[Channel].[Web]", PLAN];
const bergenPlan = [units, BERGEN, "Widget", "[Channel].[Web]", PLAN];
const romePlan = [units, ROME, "Gadget", "[Channel].[Alpha]", PLAN];

async function rejection(p: Promise<unknown>): Promise<{ code: Code; rawMessage: string }> {
  const err = (await p.then(
    () => null,
    (e: unknown) => e,
  )) as { code: Code; rawMessage: string } | null;
  if (!err) throw new Error("the call succeeded");
  return err;
}

describe.each<StoreKind>(["PGlite", "PostgreSQL"])("rights on %s", (kind) => {
  let server: CubeServer;
  beforeAll(async () => {
    server = await CubeServer.start(kind, smallCubeDef, smallCubeCells(), {}, security);
  });
  afterAll(async () => {
    await server?.close();
  });
  const as = (user: string) => apiClients(server.url, user);
  const cells = async (user: string, ...addresses: string[][]) =>
    (await as(user).lattice.getCells({ cube: "Demo", cells: addresses.map((members) => ({ members })) })).cells;

  it("lists a secured cube only to its admins and group members, with the members each sees", async () => {
    expect((await as("mallory").lattice.listCubes({})).cubes).toEqual([]);
    const hidden = await rejection(as("mallory").lattice.getCells({ cube: "Demo", cells: [] }));
    const missing = await rejection(as("mallory").lattice.getCells({ cube: "Nope", cells: [] }));
    expect(hidden).toMatchObject({ code: Code.NotFound, rawMessage: 'cube "Demo" not found; cubes: (none)' });
    expect(missing.rawMessage).toBe('cube "Nope" not found; cubes: (none)');
    const [sams] = (await as("sam").lattice.listCubes({})).cubes;
    const region = sams.dimensions.find((d) => d.name === "Region")!;
    expect(region).toMatchObject({ roots: ["[Region].[All Regions]"], memberCount: 3, leafCount: 1, defaultMember: "[Region].[All Regions]" });
    expect(sams.dimensions.find((d) => d.name === "Scenario")).toMatchObject({ roots: [PLAN], memberCount: 1, defaultMember: "" });
    const [adas] = (await as("ada").lattice.listCubes({})).cubes;
    expect(adas.dimensions.find((d) => d.name === "Region")).toMatchObject({ memberCount: 6, leafCount: 3 });
  });

  it("hides members: not listed, unknown by name with the message of a name that does not exist, never a candidate", async () => {
    const top = await as("sam").lattice.getMembers({ cube: "Demo", dimension: "Region", parent: "[Region].[All Regions]" });
    expect(top.members.map((m) => m.uniqueName)).toEqual(["[Region].[South]"]);
    expect((await as("nora").lattice.getMembers({ cube: "Demo", dimension: "Region", parent: "[Region].[All Regions]" })).members).toHaveLength(2);
    const all = await as("sam").lattice.getMembers({ cube: "Demo", dimension: "Region", relation: MemberRelation.DESCENDANTS });
    expect(all.members.map((m) => [m.uniqueName, m.childCount])).toEqual([
      ["[Region].[All Regions]", 1],
      ["[Region].[South]", 1],
      [ROME, 0],
    ]);
    const search = await as("sam").lattice.getMembers({ cube: "Demo", dimension: "Region", relation: MemberRelation.SEARCH, query: "o" });
    expect(search.members.map((m) => m.uniqueName)).toEqual(["[Region].[All Regions]", "[Region].[South]", ROME]);
    const parent = await rejection(as("sam").lattice.getMembers({ cube: "Demo", dimension: "Region", parent: NORTH }));
    expect(parent).toMatchObject({ code: Code.NotFound });
    // Word for word what a name that does not exist gets: the closest names are those sam sees.
    expect(parent.rawMessage).toBe(`parent: unknown member ${NORTH}: dimension Region has no member "North" at the top of dimension Region; closest: [Region].[South]`);
    // "Did you mean": a typo near North suggests it to nora, never to sam.
    const [forNora] = await cells("nora", ["[Region].[Nort]"]);
    const [forSam] = await cells("sam", ["[Region].[Nort]"]);
    expect(forNora.error?.candidates).toContain(NORTH);
    expect(forSam.error).toMatchObject({ code: CellErrorCode.UNKNOWN_MEMBER, candidates: ["[Region].[South]"] });
    // Bare "Alpha" is a Product and a Channel: ambiguous for sam, the Product for nora (Channel Alpha hidden).
    const [samAlpha] = await cells("sam", [units, "Alpha", PLAN, ROME]);
    const [noraAlpha] = await cells("nora", [units, "Alpha", PLAN]);
    expect(samAlpha.error?.code).toBe(CellErrorCode.AMBIGUOUS_MEMBER);
    expect(noraAlpha.error).toBeUndefined();
  });

  it("answers a cell one may not read NO_ACCESS, without its value or version; hidden names are unknown", async () => {
    const [rome, oslo, actualNamed, actualByDefault] = await cells("sam", [units, ROME, PLAN], [units, OSLO, PLAN], [units, ROME, ACTUAL], [units, ROME]);
    expect(rome).toMatchObject({ value: 5, consolidated: true });
    expect(oslo.error?.code).toBe(CellErrorCode.UNKNOWN_MEMBER);
    expect(actualNamed.error?.code).toBe(CellErrorCode.UNKNOWN_MEMBER);
    // Scenario left out: its default member Actual, hidden from sam: NO_ACCESS, naming no hidden member.
    expect(actualByDefault.error).toMatchObject({ code: CellErrorCode.NO_ACCESS });
    expect(actualByDefault.error?.message).toBe("no access: you may not read this cell (your right on the Scenario member of this cell is none)");
    expect(actualByDefault.value).toBeUndefined();
    expect(actualByDefault.version).toBe(0n);
    // All Regions shows to sam (Rome is below it) but sam has no right on it.
    const [allRegions] = await cells("sam", [units, PLAN]);
    expect(allRegions.error?.message).toBe("no access: you may not read this cell (your right on [Region].[All Regions] is none)");
  });

  it("consolidates every leaf below a cell, readable or not (TM1's behaviour)", async () => {
    // Channel Alpha is hidden from nora, yet All Channels includes Rome's Gadget on Alpha (5).
    const [total] = await cells("nora", [units, ACTUAL]);
    expect(total.value).toBe(35);
    expect((await cells("nora", [units, "[Channel].[Alpha]"]))[0].error?.code).toBe(CellErrorCode.UNKNOWN_MEMBER);
  });

  it("writes a leaf only with Write; a refused write learns nothing of the cell", async () => {
    const [oslo, bergen] = await cells("nora", osloPlan, bergenPlan);
    const res = await as("nora").lattice.writeCells({
      cube: "Demo",
      writes: [
        { members: osloPlan, value: 11, baseVersion: oslo.version },
        // Stale base version: still REJECTED for rights, not a CONFLICT with the other writer's value.
        { members: bergenPlan, value: 21, baseVersion: bergen.version + 5n },
        { members: [units, OSLO, "Widget", "[Channel].[Web]", ACTUAL], value: 1, baseVersion: 0n },
        { members: [units, "Widget", "[Channel].[Web]", PLAN], value: 1, baseVersion: 0n },
      ],
    });
    expect(res.results[0]).toMatchObject({ status: WriteStatus.APPLIED, currentValue: 11 });
    expect(res.results[1]).toMatchObject({
      status: WriteStatus.REJECTED,
      message: `you may not write this cell: it needs the write right, and your right on ${BERGEN} is read`,
      version: 0n,
      updatedBy: "",
    });
    expect(res.results[1].currentValue).toBeUndefined();
    expect(res.results[2].message).toBe(`you may not write this cell: it needs the write right, and your right on ${ACTUAL} is read`);
    // All Regions x Plan: a consolidated cell, and nora's right on All Regions is Read.
    expect(res.results[3].message).toBe("you may not spread into this consolidated cell: it needs the spread right, and your right on [Region].[All Regions] is read");
    const sam = await as("sam").lattice.writeCells({ cube: "Demo", writes: [{ members: osloPlan, value: 1, baseVersion: 0n }] });
    expect(sam.results[0]).toMatchObject({ status: WriteStatus.REJECTED, error: { code: CellErrorCode.UNKNOWN_MEMBER } });
  });

  it("spreads only with Spread, holding the leaves one may not write, and refuses a target they make unreachable", async () => {
    const north = [units, NORTH, PLAN];
    const [before, bergen] = await cells("nora", north, bergenPlan);
    const res = await as("nora").lattice.writeCells({ cube: "Demo", writes: [{ members: north, value: 100, baseVersion: before.version }] });
    expect(res.results[0]).toMatchObject({ status: WriteStatus.APPLIED, leavesChanged: 1n, leavesHeldByRights: 1n });
    const [after, bergenAfter, oslo] = await cells("nora", north, bergenPlan, osloPlan);
    expect(after.value).toBeCloseTo(100, 8);
    expect(bergenAfter.value).toBe(bergen.value);
    expect(oslo.value).toBeCloseTo(100 - (bergen.value ?? 0), 8);
    // Sam has Write on South, not Spread.
    const south = [units, "[Region].[South]", PLAN];
    const [s] = await cells("sam", south);
    const refused = await as("sam").lattice.writeCells({ cube: "Demo", writes: [{ members: south, value: 9, baseVersion: s.version }] });
    expect(refused.results[0].message).toBe("you may not spread into this consolidated cell: it needs the spread right, and your right on [Region].[South] is write");
    // With Oslo read too (ada changes it), nothing below North may move: refused, saying why.
    await as("ada").security.setRight({ cube: "Demo", group: "north", member: OSLO, right: Right.READ });
    try {
      const [now] = await cells("nora", north);
      const out = await as("nora").lattice.writeCells({ cube: "Demo", writes: [{ members: north, value: 50, baseVersion: now.version }] });
      expect(out.results[0].status).toBe(WriteStatus.REJECTED);
      // Proportional over held leaves only falls back to equal leaves over every leaf below (12), all held too.
      expect(out.results[0].message).toMatch(/all 12 leaves are held .*\(12 leaf cells are held because you may not write them\)$/);
    } finally {
      await as("ada").security.setRight({ cube: "Demo", group: "north", member: OSLO, clear: true });
    }
  });

  it("copies a scenario only with Write on the whole target slice (and Read on the source)", async () => {
    const whole = await rejection(as("nora").lattice.copyScenario({ cube: "Demo", from: "Actual", to: "Plan", factor: 2 }));
    expect(whole).toMatchObject({ code: Code.PermissionDenied });
    expect(whole.rawMessage).toBe(`CopyScenario needs the write right on the whole target slice; you may not write ${BERGEN} (at ${PLAN})`);
    const channel = await rejection(as("nora").lattice.copyScenario({ cube: "Demo", from: "Actual", to: "Plan", factor: 2, slice: [OSLO] }));
    expect(channel.rawMessage).toMatch(/you may not write a member below \[Channel\]\.\[All Channels\]/);
    const toActual = await rejection(as("nora").lattice.copyScenario({ cube: "Demo", from: "Plan", to: "Actual", slice: [OSLO, "[Channel].[Web]"] }));
    expect(toActual.rawMessage).toMatch(/you may not write \[Scenario\]\.\[Actual\]/);
    // Sam may write Rome's Plan, but may not read Actual (hidden): unknown, as for any hidden member.
    const hidden = await rejection(as("sam").lattice.copyScenario({ cube: "Demo", from: "Actual", to: "Plan", slice: [ROME] }));
    expect(hidden.code).toBe(Code.NotFound);
    const ok = await as("nora").lattice.copyScenario({ cube: "Demo", from: "Actual", to: "Plan", factor: 3, slice: [OSLO, "[Channel].[Web]"] });
    expect(ok.status).toBe(WriteStatus.APPLIED);
    expect((await cells("nora", osloPlan))[0].value).toBe(30);
  });

  it("comments: Write to add, Read to list; comments below on cells one may not read are left out", async () => {
    await as("nora").commentary.addComment({ cube: "Demo", members: osloPlan, text: "Oslo looks high" });
    const denied = await rejection(as("nora").commentary.addComment({ cube: "Demo", members: bergenPlan, text: "x" }));
    expect(denied).toMatchObject({ code: Code.PermissionDenied, rawMessage: `you may not comment on this cell: it needs the write right, and your right on ${BERGEN} is read` });
    await as("sam").commentary.addComment({ cube: "Demo", members: romePlan, text: "Rome on Alpha" });
    expect((await rejection(as("sam").commentary.listComments({ cube: "Demo", members: osloPlan }))).code).toBe(Code.NotFound);
    const noRead = await rejection(as("sam").commentary.listComments({ cube: "Demo", members: [units, PLAN] }));
    expect(noRead.code).toBe(Code.PermissionDenied);
    const top = [units, PLAN];
    const nora = await as("nora").commentary.listComments({ cube: "Demo", members: top, includeDescendants: true });
    expect(nora.descendantComments.map((c) => c.text)).toEqual(["Oslo looks high"]);
    expect(nora.descendantCommentCount).toBe(1);
    const ada = await as("ada").commentary.listComments({ cube: "Demo", members: top, includeDescendants: true });
    expect(ada.descendantComments.map((c) => c.text)).toEqual(["Rome on Alpha", "Oslo looks high"]);
  });

  it("history needs Read on the cell: permission_denied for NO_ACCESS, not_found when a member is hidden", async () => {
    const mine = await as("nora").lattice.getCellHistory({ cube: "Demo", members: osloPlan });
    expect(mine.records.length).toBeGreaterThan(0);
    expect((await as("nora").lattice.getCellHistory({ cube: "Demo", members: bergenPlan })).records).toEqual([]);
    const hidden = await rejection(as("sam").lattice.getCellHistory({ cube: "Demo", members: osloPlan }));
    expect(hidden.code).toBe(Code.NotFound);
    // Rome with the Scenario left out: Actual, hidden from sam, by default.
    const noAccess = await rejection(as("sam").lattice.getCellHistory({ cube: "Demo", members: [units, ROME, "Gadget", "[Channel].[Alpha]"] }));
    expect(noAccess).toMatchObject({ code: Code.PermissionDenied });
    expect(noAccess.rawMessage).toBe("you may not read the history of this cell: it needs the read right, and your right on the Scenario member of this cell is none");
  });

  it("pushes NO_ACCESS to an open stream when the read right goes, and the value when it comes back", async () => {
    const controller = new AbortController();
    const stream = as("nora").lattice.watchCells(
      { cube: "Demo", cells: [{ members: osloPlan }, { members: [units, NORTH, PLAN] }, { members: [units, "[Channel].[Alpha]"] }] },
      { signal: controller.signal },
    );
    const it = stream[Symbol.asyncIterator]();
    try {
      const first = (await it.next()).value;
      expect(first.initial).toBe(true);
      expect(first.updates[0].cell.value).toBeGreaterThan(0);
      expect(first.updates[2].cell.error?.code).toBe(CellErrorCode.UNKNOWN_MEMBER);
      // North's right set to none: Oslo inherits it; North still shows (Bergen below is readable).
      await as("ada").security.setRight({ cube: "Demo", group: "north", member: NORTH, right: Right.NONE });
      const revoked = (await it.next()).value;
      expect(revoked.updates.map((u: CellUpdate) => [u.index, u.cell?.error?.code, u.cell?.value])).toEqual([
        [0, CellErrorCode.NO_ACCESS, undefined],
        [1, CellErrorCode.NO_ACCESS, undefined],
      ]);
      // A write to Oslo meanwhile is not pushed to nora; granted again, the new value comes.
      const [leaf] = await cells("ada", osloPlan);
      await as("ada").lattice.writeCells({ cube: "Demo", writes: [{ members: osloPlan, value: 77, baseVersion: leaf.version }] });
      await as("ada").security.setRight({ cube: "Demo", group: "north", member: NORTH, clear: true });
      const granted = (await it.next()).value;
      expect(granted.updates.map((u: CellUpdate) => u.index)).toEqual([0, 1]);
      expect(granted.updates[0].cell.value).toBe(77);
      expect(granted.updates[1].cell.error).toBeUndefined();
    } finally {
      controller.abort();
      await it.return?.();
    }
  });

  it("lets only admins read and change the security, and audits every change", async () => {
    expect((await rejection(as("nora").security.listSecurity({ cube: "Demo" }))).code).toBe(Code.PermissionDenied);
    expect((await rejection(as("mallory").security.listSecurity({ cube: "Demo" }))).code).toBe(Code.NotFound);
    const denied = await rejection(as("nora").security.setRight({ cube: "Demo", group: "north", member: ROME, right: Right.SPREAD }));
    expect(denied.code).toBe(Code.PermissionDenied);
    const change = await as("ada").security.addUserToGroup({ cube: "Demo", user: "mallory", group: "south" });
    expect(change.summary).toBe("added user mallory to group south");
    expect((await as("mallory").lattice.listCubes({})).cubes.map((c) => c.name)).toEqual(["Demo"]);
    const list = await as("ada").security.listSecurity({ cube: "Demo" });
    expect(list).toMatchObject({ secured: true, version: change.version, admins: ["ada"] });
    expect(list.users.find((u) => u.id === "mallory")?.groups).toEqual(["south"]);
    expect(list.groups.find((g) => g.name === "north")?.rights).toContainEqual({ $typeName: "quantatom.v1.MemberRight", dimension: "Region", member: BERGEN, right: Right.READ });
    const audit = await as("ada").security.listSecurityAudit({ cube: "Demo" });
    expect(audit.records[0]).toMatchObject({ actor: "ada", action: "add_to_group", summary: "added user mallory to group south", version: change.version });
    expect(JSON.parse(audit.records[0].detailJson)).toEqual({ user: "mallory", group: "south" });
    expect(audit.records.some((r) => r.action === "set_right")).toBe(true);
    // A bad change changes nothing.
    const bad = await rejection(as("ada").security.setRight({ cube: "Demo", group: "north", member: "[Region].[Atlantis]", right: Right.READ }));
    expect(bad.code).toBe(Code.NotFound);
    expect((await as("ada").security.listSecurity({ cube: "Demo" })).version).toBe(change.version);
    // Restarted, the server loads the changed security from the store.
    await server.restart();
    expect((await as("mallory").lattice.listCubes({})).cubes).toHaveLength(1);
  });
});
