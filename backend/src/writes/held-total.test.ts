/**
 * Which held consolidated cell a leaf write keeps (writes/held-total.ts): none, the innermost of
 * nested held totals, and a refusal with the reason for held totals that do not nest.
 */
import { smallCubeCells, smallCubeDef } from "../../../test/helpers/small-cube";
import { Cube } from "../lattice";
import { heldTotalAbove } from "./held-total";

describe("the held total above a written leaf", () => {
  const cube = new Cube(smallCubeDef, smallCubeCells());
  const at = (...members: string[]) => {
    const c = cube.resolve(members);
    if (!(c instanceof Int32Array)) throw new Error(c.message);
    return c;
  };
  const oslo = at("[Measures].[Units]", "[Region].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]", "[Scenario].[Plan]");
  const north = at("[Measures].[Units]", "[Region].[North]", "[Scenario].[Plan]");
  const all = at("[Measures].[Units]", "[Scenario].[Plan]");
  const widgets = at("[Measures].[Units]", "[Region].[North].[Oslo]", "[Product].[Widget]", "[Scenario].[Plan]");
  const northWeb = at("[Measures].[Units]", "[Region].[North]", "[Channel].[Web]", "[Scenario].[Plan]");
  const south = at("[Measures].[Units]", "[Region].[South]", "[Scenario].[Plan]");

  it("is none without a held consolidated cell above the leaf (leaf holds and other totals do not count)", () => {
    expect(heldTotalAbove(cube, oslo, [])).toBeNull();
    expect(heldTotalAbove(cube, oslo, [oslo, south])).toBeNull();
  });

  it("keeps the innermost of nested held totals (the ones around it then stay too)", () => {
    expect(heldTotalAbove(cube, oslo, [all, north])).toBe(north);
    expect(heldTotalAbove(cube, oslo, [north, all])).toBe(north);
    expect(heldTotalAbove(cube, oslo, [all, widgets, north])).toBe(widgets);
  });

  it("refuses held totals that do not nest, naming them", () => {
    // North on the Web channel, and Oslo's widgets on every channel: neither lies within the other
    const out = heldTotalAbove(cube, oslo, [northWeb, widgets]);
    expect(out).toMatchObject({ status: "REJECTED", message: expect.stringMatching(/held consolidated cells that do not nest.*\[Region\]\.\[North\].*release one of the holds/) });
  });
});
