/**
 * The value bound (common/limits.ts MAX_ABS_VALUE) through the write pipeline, over a real Backend
 * on an embedded store: a typed value, a spread's leaf values and a scenario copy's values beyond
 * ±1e15 are refused with a message naming the bound and change nothing; values at the bound are
 * stored, and the totals above them stay finite.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { smallCubeCells, smallCubeDef } from "../../../test/helpers/small-cube";
import { Backend, DomainError, MAX_ABS_VALUE, type WriteInput } from "../domain";
import { Cube } from "../lattice";
import { openStore, type Store } from "../store";

describe("the value bound of writes", () => {
  let dataDir: string;
  let store: Store;
  let backend: Backend;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-bounds-"));
    store = await openStore({ dataDir });
    await store.saveCube(smallCubeDef, smallCubeCells());
    const stored = await store.loadCube("Demo");
    backend = new Backend(store, { instanceId: "bounds-test" });
    backend.addCube({ id: stored.id, cube: new Cube(stored.def, stored.cells, stored.writers), loadedAt: stored.loadedAt });
  });

  afterAll(async () => {
    await store?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const units = "[Measures].[Units]";
  const plan = "[Scenario].[Plan]";
  const oslo = [units, "[Region].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]", plan];
  const bergen = [units, "[Region].[North].[Bergen]", "[Product].[Widget]", "[Channel].[Web]", plan];
  const north = [units, "[Region].[North]", plan];
  const everything = [units, plan];

  /** Value and version of cells of the Demo cube. */
  function read(...cells: (readonly string[])[]) {
    const { cube } = backend.cube("Demo");
    return cube.getCells(cells.map((m) => cube.resolve(m) as Int32Array));
  }

  async function write(...writes: Omit<WriteInput, "baseVersion">[]) {
    const based = writes.map((w) => ({ ...w, baseVersion: read(w.members)[0].version }));
    return (await backend.writeCells("Demo", based, "ann")).outcomes;
  }

  it("refuses a typed value beyond ±1e15, naming the bound, and changes nothing", async () => {
    const before = read(oslo, north, everything);
    for (const value of [1.7976931348623157e308, -1.7976931348623157e308, MAX_ABS_VALUE * (1 + 1e-15), -2e15]) {
      for (const members of [oslo, everything]) {
        const [o] = await write({ members, value });
        expect(o.status).toBe("REJECTED");
        expect(o.status === "REJECTED" && o.message).toBe(`the value ${value} is beyond ±1e15, the largest magnitude a cell may hold (MAX_ABS_VALUE: Excel's 15 significant digits)`);
      }
    }
    expect(read(oslo, north, everything)).toEqual(before);
  });

  it("stores values at the bound, and the totals above them stay finite", async () => {
    const out = await write({ members: oslo, value: MAX_ABS_VALUE }, { members: bergen, value: MAX_ABS_VALUE });
    expect(out.map((o) => o.status)).toEqual(["APPLIED", "APPLIED"]);
    const [n, all] = read(north, everything);
    expect(n.value).toBe(2 * MAX_ABS_VALUE);
    expect(Number.isFinite(all.value)).toBe(true);
    expect(all.value).toBeGreaterThan(2 * MAX_ABS_VALUE);
    const back = await write({ members: oslo, value: -MAX_ABS_VALUE }, { members: bergen, value: 20 });
    expect(back.map((o) => o.status)).toEqual(["APPLIED", "APPLIED"]);
  });

  it("refuses a spread whose leaf values would go beyond the bound, naming the leaf, and changes nothing", async () => {
    await write({ members: oslo, value: 10 }, { members: bergen, value: 9e14 });
    const before = read(oslo, bergen, north);
    // a typed amount within the bound that adds up beyond it at a leaf
    const [added] = await write({ members: north, value: 9e14, spread: { method: "P", action: "add", includeEmpty: false, percent: 0, reference: [] } });
    expect(added.status).toBe("REJECTED");
    expect(added.status === "REJECTED" && added.message).toMatch(
      /^could not spread P\+ into .*: leaf \(\[Region\]\.\[North\]\.\[Bergen\], .*\) would become 1799999999999990, which is beyond ±1e15, the largest magnitude a cell may hold/,
    );
    // a percent change that multiplies every leaf beyond it
    const [pct] = await write({ members: north, value: null, spread: { method: "P%", action: "replace", includeEmpty: false, percent: 1e300, reference: [] } });
    expect(pct.status).toBe("REJECTED");
    expect(pct.status === "REJECTED" && pct.message).toMatch(/would become .*which is beyond ±1e15.*; so would 1 more leaf$/);
    expect(read(oslo, bergen, north)).toEqual(before);
    await write({ members: bergen, value: 20 });
  });

  it("refuses a scenario copy whose values would go beyond the bound, as a whole", async () => {
    const before = read(oslo, bergen, everything);
    const copy = (factor: number) =>
      backend.copyScenario("Demo", { dimension: "Scenario", from: "Actual", to: "Plan", factor, slice: [], baseVersion: 0 }, "ann");
    const err = await copy(1e14).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: "invalid_argument" });
    expect((err as Error).message).toMatch(/^the copy would store values out of range \(factor 100000000000000\): leaf \(.*\) would become .*, which is beyond ±1e15/);
    expect(read(oslo, bergen, everything)).toEqual(before);
    const ok = await copy(-1e12);
    expect(ok.status).toBe("APPLIED");
    expect(read(oslo)[0].value).toBe(-1e13);
  });
});
