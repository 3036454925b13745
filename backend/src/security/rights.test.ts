/**
 * Rights evaluation on the small Demo cube (Region: All > North > {Oslo, Bergen}, South > {Rome};
 * Product, Channel, Scenario {Actual, Plan}, Measures): inheritance down the hierarchy unless set
 * lower down, the highest right across a user's groups, the lowest across a cell's dimensions,
 * unsecured dimensions, admins, open cubes, which members show, write masks.
 */
import { smallCubeCells, smallCubeDef } from "../../../test/helpers/small-cube";
import { Cube } from "../lattice";
import { RIGHT, type SecurityModel } from "./model";
import { CubeRights } from "./rights";
import { checkModel } from "./validate";

const cube = new Cube(smallCubeDef, smallCubeCells());
// Region ids: 0 All Regions, 1 North, 2 Oslo, 3 Bergen, 4 South, 5 Rome. Scenario: 0 Actual, 1 Plan.
const R = 0;
const S = 3;
const at = (region: number, scenario: number) => Int32Array.from([region, 0, 0, scenario, 0]);

const model: SecurityModel = checkModel(
  {
    admins: ["ada"],
    groups: [
      {
        name: "north",
        rights: {
          Region: { "[Region]": "read", "[Region].[North]": "spread", "[Region].[North].[Bergen]": "read" },
          Scenario: { Plan: "spread", Actual: "read" },
        },
      },
      { name: "bergen", rights: { Region: { "[Region].[North].[Bergen]": "write" } } },
      { name: "south", rights: { Region: { "[Region].[South]": "write" }, Scenario: { "[Scenario]": "read" } } },
      { name: "nothing", rights: {} },
    ],
    users: [
      { id: "nora", name: "Nora", groups: ["north"] },
      { id: "ben", name: "Ben", groups: ["north", "bergen"] },
      { id: "sam", name: "Sam", groups: ["south"] },
      { id: "nil", name: "Nil", groups: ["nothing"] },
    ],
  },
  cube,
);

describe("CubeRights", () => {
  const rights = new CubeRights(cube, model, ["root"]);

  it("inherits a right down the hierarchy unless one is set lower down", () => {
    const nora = rights.forUser("nora");
    expect(nora.member(R, 0)).toBe(RIGHT.read); // [Region] (whole dimension) read
    expect(nora.member(R, 1)).toBe(RIGHT.spread); // North set
    expect(nora.member(R, 2)).toBe(RIGHT.spread); // Oslo inherits from North
    expect(nora.member(R, 3)).toBe(RIGHT.read); // Bergen set lower down
    expect(nora.member(R, 4)).toBe(RIGHT.read); // South inherits from [Region]
    expect(nora.member(R, 5)).toBe(RIGHT.read);
    // Without a right on the dimension or an ancestor: None.
    const sam = rights.forUser("sam");
    expect(sam.member(R, 0)).toBe(RIGHT.none);
    expect(sam.member(R, 1)).toBe(RIGHT.none);
    expect(sam.member(R, 5)).toBe(RIGHT.write);
  });

  it("takes the highest right across a user's groups", () => {
    const ben = rights.forUser("ben");
    expect(ben.member(R, 3)).toBe(RIGHT.write); // north: read, bergen: write
    expect(ben.member(R, 2)).toBe(RIGHT.spread); // north: spread, bergen: none
    expect(ben.member(S, 1)).toBe(RIGHT.spread); // bergen sets nothing on Scenario: north's
  });

  it("gives a cell the lowest right of its members", () => {
    const nora = rights.forUser("nora");
    expect(nora.cell(at(2, 1))).toBe(RIGHT.spread); // Oslo Plan
    expect(nora.cell(at(2, 0))).toBe(RIGHT.read); // Oslo Actual
    expect(nora.cell(at(3, 1))).toBe(RIGHT.read); // Bergen Plan
    expect(nora.lacking(at(3, 1), RIGHT.write)).toEqual({ dim: R, member: 3, right: RIGHT.read });
    expect(nora.lacking(at(2, 1), RIGHT.spread)).toBeNull();
    const sam = rights.forUser("sam");
    expect(sam.cell(at(5, 1))).toBe(RIGHT.read); // Rome write, Scenario read
    expect(sam.cell(at(4, 0))).toBe(RIGHT.read);
    expect(sam.cell(at(0, 0))).toBe(RIGHT.none); // All Regions: nothing
  });

  it("leaves a dimension no group secures open (Spread), and secures one any group sets a right on", () => {
    expect(rights.securedDims).toEqual([R, S]);
    const sam = rights.forUser("sam");
    for (const product of [0, 1, 2, 3]) expect(sam.member(1, product)).toBe(RIGHT.spread);
    // Sam's groups set nothing on Product or Measures; on Scenario, `[Scenario]` read.
    expect(sam.member(S, 0)).toBe(RIGHT.read);
    // A group without any right on a secured dimension gives None there.
    expect(rights.forUser("nil").cell(at(2, 1))).toBe(RIGHT.none);
  });

  it("gives admins (of the cube or the server) every right, and hides the cube from users in no group", () => {
    for (const admin of ["ada", "root"]) {
      const a = rights.forUser(admin);
      expect(a.admin).toBe(true);
      expect(a.sees).toBe(true);
      expect(a.cell(at(0, 0))).toBe(RIGHT.spread);
    }
    const stranger = rights.forUser("mallory");
    expect(stranger.sees).toBe(false);
    expect(stranger.admin).toBe(false);
    expect(stranger.cell(at(2, 1))).toBe(RIGHT.none);
    expect(stranger.visible(1, 1)).toBe(false);
    expect(rights.forUser("nil").sees).toBe(true);
  });

  it("opens a cube without security to every user, with no admin but the server's", () => {
    const open = new CubeRights(cube, null, ["root"]);
    const anyone = open.forUser("anyone");
    expect(open.secured).toBe(false);
    expect(anyone.sees).toBe(true);
    expect(anyone.admin).toBe(false);
    expect(anyone.cell(at(0, 0))).toBe(RIGHT.spread);
    expect(open.forUser("root").admin).toBe(true);
  });

  it("shows a member when the user may read it or something below it", () => {
    const sam = rights.forUser("sam");
    expect(sam.visible(R, 0)).toBe(true); // All Regions: None, but Rome below is readable
    expect(sam.visible(R, 4)).toBe(true);
    expect(sam.visible(R, 1)).toBe(false); // North and below: None
    expect(sam.visible(R, 2)).toBe(false);
    expect(sam.visibleCount(R)).toEqual({ members: 3, leaves: 1 });
    expect(sam.visibleCount(1)).toEqual({ members: 4, leaves: 3 });
  });

  it("gives the spread planner per-dimension write masks and names the first member lacking a right", () => {
    const nora = rights.forUser("nora");
    const masks = nora.writeMasks();
    expect(Array.from(masks[R]!)).toEqual([0, 1, 1, 0, 0, 0]);
    expect(Array.from(masks[S]!)).toEqual([0, 1]);
    expect(masks[1]).toBeNull();
    expect(nora.everyLeaf(R, 1, RIGHT.write)).toBe(false); // Bergen is read
    expect(nora.firstLacking(R, 1, RIGHT.write)).toBe(3);
    expect(nora.firstLacking(R, 0, RIGHT.write)).toBe(3); // depth first: North's Bergen before South
    expect(nora.firstLacking(R, 2, RIGHT.write)).toBe(-1);
    expect(rights.forUser("sam").firstLacking(R, 0, RIGHT.read)).toBe(1); // North: nothing below readable
  });

  it("caches a user's compiled rights", () => {
    expect(rights.forUser("nora")).toBe(rights.forUser("nora"));
  });
});
