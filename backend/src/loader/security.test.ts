/**
 * The model file's `security:` section: loaded in canonical form, saved with the cube, and every
 * problem reported at the model file's line and column (an unknown dimension, member, group or
 * right, a member of another dimension, a key the section does not know); and FoodMart's.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { Store } from "../store/types";
import { LoadError, loadModel, loadModelIntoStore, parseModelText } from ".";

const shop = path.join(__dirname, "fixtures", "shop", "model.yaml");

let dir: string;
let shopText: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "qatom-security-"));
  // The shop fixture's CSV paths are relative to its folder: point them there.
  shopText = (await readFile(shop, "utf8")).replaceAll("file: ", `file: ${path.dirname(shop)}/`);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The shop model with `section` appended; returns its path and the line the section starts on. */
async function withSecurity(name: string, section: string): Promise<{ file: string; line: number }> {
  const file = path.join(dir, name);
  await writeFile(file, `${shopText}${section}`);
  return { file, line: shopText.split("\n").length };
}

async function failure(file: string): Promise<LoadError> {
  const err = await loadModel(file).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LoadError);
  return err as LoadError;
}

describe("the security: section", () => {
  it("loads in canonical form, and is saved with the cube", async () => {
    const { file } = await withSecurity(
      "ok.yaml",
      [
        "security:",
        "  admins: [ada, 1001]",
        "  groups:",
        "    - name: usa",
        "      rights:",
        '        customers: { "[Customers].[USA]": write, Canada: READ, "[Customers]": none }',
        "        Scenario: { Plan: spread }",
        "  users:",
        "    - { id: ann, name: Ann Lee, groups: [USA] }",
        "    - { id: 42 }",
        "",
      ].join("\n"),
    );
    const loaded = await loadModel(file);
    expect(loaded.security).toEqual({
      admins: ["ada", "1001"],
      groups: [
        {
          name: "usa",
          rights: { Customers: { "[Customers].[USA]": "write", "[Customers].[Canada]": "read", "[Customers]": "none" }, Scenario: { "[Scenario].[Plan]": "spread" } },
        },
      ],
      users: [
        { id: "ann", name: "Ann Lee", groups: ["usa"] },
        { id: "42", name: "42", groups: [] },
      ],
    });
    const saveCube = jest.fn(async () => 3);
    await loadModelIntoStore({ saveCube } as unknown as Store, file, () => {});
    expect(saveCube).toHaveBeenCalledWith(loaded.def, expect.anything(), expect.any(Function), loaded.security, undefined);
    // Loaded for a tenant (quantatom load --tenant), the cube is saved as that tenant's.
    await loadModelIntoStore({ saveCube } as unknown as Store, file, () => {}, "acme");
    expect(saveCube).toHaveBeenLastCalledWith(loaded.def, expect.anything(), expect.any(Function), loaded.security, "acme");
  });

  it("is optional: a model without one loads an open cube", async () => {
    expect((await loadModel(shop)).security).toBeNull();
  });

  it("reports an unknown member at its key, with the closest names", async () => {
    const { file, line } = await withSecurity(
      "member.yaml",
      ["security:", "  groups:", "    - name: usa", "      rights:", "        Customers:", '          "[Customers].[USA].[Bostn]": read', ""].join("\n"),
    );
    const err = await failure(file);
    expect(err).toMatchObject({ file, line: line + 5, column: 11 });
    expect(err.detail).toMatch(/^security: unknown member \[Customers\]\.\[USA\]\.\[Bostn\]: .*closest: \[Customers\]\.\[USA\]\.\[Boston\]/);
  });

  it("reports an unknown dimension, a member of another dimension, an unknown right and an undeclared group", async () => {
    const dim = await withSecurity("dim.yaml", ["security:", "  groups:", "    - name: g", "      rights:", "        Stores: { USA: read }", ""].join("\n"));
    const e1 = await failure(dim.file);
    expect(e1).toMatchObject({ line: dim.line + 4, column: 9 });
    expect(e1.detail).toBe('security: the cube has no dimension "Stores"; dimensions: Product, Time, Customers, Gender, Scenario, Measures');

    const other = await withSecurity("other.yaml", ["security:", "  groups:", "    - name: g", "      rights:", "        Customers: { Plan: read }", ""].join("\n"));
    expect((await failure(other.file)).detail).toBe("security: Plan is a member of dimension Scenario, not Customers");

    const right = await withSecurity("right.yaml", ["security:", "  groups:", "    - name: g", "      rights:", "        Customers: { USA: lock }", ""].join("\n"));
    expect((await failure(right.file)).detail).toBe('security: "lock" is not a right; rights: none, read, write, spread');

    const group = await withSecurity("group.yaml", ["security:", "  groups: [{ name: g }]", "  users:", "    - { id: ann, groups: [h] }", ""].join("\n"));
    const e4 = await failure(group.file);
    expect(e4).toMatchObject({ line: group.line + 3, column: 27 });
    expect(e4.detail).toBe('security: group "h" is not declared under groups; groups: g');
  });

  it("reports a key the section does not know", async () => {
    const { file, line } = await withSecurity("key.yaml", ["security:", "  group: []", ""].join("\n"));
    const err = await failure(file);
    expect(err).toMatchObject({ line: line + 1, column: 3 });
    expect(err.detail).toBe('security.group: Unrecognized key: "group"');
  });

  it("FoodMart declares an admin and two planners with different rights", async () => {
    const foodmart = path.resolve(__dirname, "..", "..", "..", "data", "foodmart", "model.yaml");
    const { model } = parseModelText(await readFile(foodmart, "utf8"), foodmart);
    expect(model.security?.admins).toEqual(["admin"]);
    expect(model.security?.users.map((u) => [u.id, u.groups])).toEqual([
      ["admin", []],
      ["walt", ["wa-planners"]],
      ["carla", ["ca-planners"]],
    ]);
  });
});
