/**
 * The security model's checks against its cube (canonical names, clear errors with paths) and the
 * admin operations (each returns the next model and what the audit log records).
 */
import { smallCubeCells, smallCubeDef } from "../../../test/helpers/small-cube";
import { Cube } from "../lattice";
import type { SecurityModel } from "./model";
import { applyChange } from "./operations";
import { checkModel, SecurityModelError } from "./validate";

const cube = new Cube(smallCubeDef, smallCubeCells());

function error(fn: () => unknown): SecurityModelError {
  try {
    fn();
  } catch (e) {
    if (e instanceof SecurityModelError) return e;
    throw e;
  }
  throw new Error("no error");
}

describe("checkModel", () => {
  it("puts names in canonical form: dimensions, unique names, bare names, the whole dimension, rights, groups", () => {
    const m = checkModel(
      {
        admins: [" ada ", "ada"],
        groups: [{ name: "North", rights: { region: { "[region].[north]": "WRITE" as never, Rome: "read", Region: "read" }, scenario: { Plan: "spread" } } }],
        users: [{ id: "nora", name: "", groups: ["north"] }],
      },
      cube,
    );
    expect(m).toEqual({
      admins: ["ada"],
      groups: [{ name: "North", rights: { Region: { "[Region].[North]": "write", "[Region].[South].[Rome]": "read", "[Region]": "read" }, Scenario: { "[Scenario].[Plan]": "spread" } } }],
      users: [{ id: "nora", name: "nora", groups: ["North"] }],
    });
  });

  it("names what is wrong and where", () => {
    const base = (g: SecurityModel["groups"][number]["rights"]): SecurityModel => ({ admins: [], groups: [{ name: "g", rights: g }], users: [] });
    const unknownDim = error(() => checkModel(base({ Stores: { x: "read" } }), cube));
    expect(unknownDim).toMatchObject({ code: "not_found", path: ["groups", 0, "rights", "Stores"] });
    expect(unknownDim.message).toMatch(/no dimension "Stores"; dimensions: Region, Product/);
    const unknownMember = error(() => checkModel(base({ Region: { "[Region].[North].[Osloo]": "read" } }), cube));
    expect(unknownMember).toMatchObject({ code: "not_found", path: ["groups", 0, "rights", "Region", "[Region].[North].[Osloo]"] });
    expect(unknownMember.message).toMatch(/closest: \[Region\]\.\[North\]\.\[Oslo\]/);
    expect(error(() => checkModel(base({ Region: { Plan: "read" } }), cube)).message).toBe("Plan is a member of dimension Scenario, not Region");
    expect(error(() => checkModel(base({ Region: { North: "admin" as never } }), cube)).message).toBe('"admin" is not a right; rights: none, read, write, spread');
    expect(error(() => checkModel(base({ Region: { North: "read", "[Region].[North]": "write" } }), cube)).message).toBe("[Region].[North] has two rights in this group");
    const twice = { admins: [], groups: [{ name: "g", rights: {} }, { name: "G", rights: {} }], users: [] };
    expect(error(() => checkModel(twice, cube))).toMatchObject({ path: ["groups", 1, "name"], message: 'group "G" is declared twice' });
    const badGroup = { admins: [], groups: [], users: [{ id: "u", name: "U", groups: ["nope"] }] };
    expect(error(() => checkModel(badGroup, cube))).toMatchObject({ code: "not_found", path: ["users", 0, "groups", 0] });
    const twoUsers = { admins: [], groups: [], users: [{ id: "u", name: "", groups: [] }, { id: "u", name: "", groups: [] }] };
    expect(error(() => checkModel(twoUsers, cube)).message).toBe('user "u" is declared twice');
  });
});

describe("applyChange", () => {
  const start: SecurityModel = {
    admins: ["ada"],
    groups: [{ name: "north", rights: { Region: { "[Region].[North]": "write" } } }],
    users: [{ id: "nora", name: "Nora", groups: ["north"] }],
  };

  it("grants, changes and clears a group's right, recording what it was", () => {
    const grant = applyChange(start, { kind: "set_right", group: "North", member: "Oslo", right: "spread" }, cube, []);
    expect(grant.model.groups[0].rights.Region).toEqual({ "[Region].[North]": "write", "[Region].[North].[Oslo]": "spread" });
    expect(grant.detail).toEqual({ group: "north", dimension: "Region", member: "[Region].[North].[Oslo]", right: "spread", previous: null });
    expect(grant.summary).toBe("set group north's right on [Region].[North].[Oslo] to spread (was unset)");
    const clear = applyChange(grant.model, { kind: "set_right", group: "north", member: "[Region].[North]", right: null }, cube, []);
    expect(clear.model.groups[0].rights.Region).toEqual({ "[Region].[North].[Oslo]": "spread" });
    expect(clear.summary).toMatch(/cleared group north's right on \[Region\]\.\[North\] \(was write\)/);
    const whole = applyChange(start, { kind: "set_right", group: "north", member: "[Scenario]", right: "read" }, cube, []);
    expect(whole.model.groups[0].rights.Scenario).toEqual({ "[Scenario]": "read" });
    // The input model is never changed.
    expect(start.groups[0].rights.Region).toEqual({ "[Region].[North]": "write" });
  });

  it("creates and deletes groups, adds and removes users and memberships, gives and takes the admin role", () => {
    let m = applyChange(start, { kind: "create_group", group: "south" }, cube, []).model;
    m = applyChange(m, { kind: "add_to_group", user: "sam", group: "south" }, cube, []).model;
    expect(m.users).toContainEqual({ id: "sam", name: "sam", groups: ["south"] });
    m = applyChange(m, { kind: "put_user", user: "sam", name: "Sam Stone" }, cube, []).model;
    m = applyChange(m, { kind: "add_to_group", user: "nora", group: "south" }, cube, []).model;
    m = applyChange(m, { kind: "remove_from_group", user: "nora", group: "north" }, cube, []).model;
    expect(m.users).toEqual([
      { id: "nora", name: "Nora", groups: ["south"] },
      { id: "sam", name: "Sam Stone", groups: ["south"] },
    ]);
    m = applyChange(m, { kind: "delete_group", group: "south" }, cube, []).model;
    expect(m.users.map((u) => u.groups)).toEqual([[], []]);
    m = applyChange(m, { kind: "remove_user", user: "sam" }, cube, []).model;
    expect(m.users.map((u) => u.id)).toEqual(["nora"]);
    m = applyChange(m, { kind: "set_admin", user: "nora", admin: true }, cube, []).model;
    m = applyChange(m, { kind: "set_admin", user: "ada", admin: false }, cube, []).model;
    expect(m.admins).toEqual(["nora"]);
  });

  it("secures an open cube with its first change", () => {
    const r = applyChange(null, { kind: "create_group", group: "planners" }, cube, ["root"]);
    expect(r.model).toEqual({ admins: [], groups: [{ name: "planners", rights: {} }], users: [] });
  });

  it("refuses what cannot be done, with not_found for what does not exist", () => {
    expect(error(() => applyChange(start, { kind: "set_right", group: "west", member: "Oslo", right: "read" }, cube, []))).toMatchObject({ code: "not_found" });
    expect(error(() => applyChange(start, { kind: "set_right", group: "north", member: "Osloo", right: "read" }, cube, []))).toMatchObject({ code: "not_found" });
    expect(error(() => applyChange(start, { kind: "set_right", group: "north", member: "Oslo", right: "lock" as never }, cube, []))).toMatchObject({ code: "invalid_argument" });
    expect(error(() => applyChange(start, { kind: "create_group", group: "NORTH" }, cube, []))).toMatchObject({ message: 'group "NORTH" exists already' });
    expect(error(() => applyChange(start, { kind: "remove_from_group", user: "zed", group: "north" }, cube, []))).toMatchObject({ code: "not_found" });
    expect(error(() => applyChange(start, { kind: "set_admin", user: "ada", admin: false }, cube, [])).message).toMatch(/last admin/);
    expect(applyChange(start, { kind: "set_admin", user: "ada", admin: false }, cube, ["root"]).model.admins).toEqual([]);
  });
});
