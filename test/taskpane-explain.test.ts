/**
 * "Explain this number" in the task pane, in Chromium against a real backend (PGlite): the selected
 * total's contributors by Region are its children with the values GetCells gives them and their
 * shares; Explain on a child zooms into it, Back returns. A screenshot goes to test-artifacts/.
 */
import type { Page } from "playwright-core";
import { apiClients } from "./helpers/clients";
import type { TestPage } from "./helpers/browser-page";
import type { CubeServer } from "./helpers/cube-server";
import { expectNoPageErrors } from "./helpers/page-errors";
import { openPlannersTaskpane } from "./helpers/taskpane-secured";
import { paneShot, signInAs } from "./helpers/taskpane-actions";

/** A region's Units in Actual over all products and channels (every region has some). */
const cellOf = (region: string) => [region, "[Scenario].[Actual]", "[Measures].[Units]"];

describe("explain this number in the task pane", () => {
  let t: TestPage<CubeServer>;
  let server: CubeServer;
  let page: Page;

  beforeAll(async () => {
    t = await openPlannersTaskpane("qatom-taskpane-explain-");
    ({ page, server } = t);
  });

  afterAll(async () => {
    await t?.close();
  });

  /** What the pane lists under "By Region": each contributor's text. */
  const listed = () => page.getByRole("list", { name: "Contributors by Region" }).getByRole("listitem").allTextContents();

  it("lists a total's children with their values and shares, zooms into one and back", async () => {
    await signInAs(page, "ann", "Ann Analyst");
    await page.evaluate(async (m) => {
      await window.qatomTest.placeFormula("Sheet1!B7", "Demo", m);
      window.qatomTest.select("Sheet1!B7");
    }, cellOf("[Region].[All Regions]"));
    await page.getByRole("button", { name: "Explain this number" }).click();
    await page.getByRole("region", { name: "By Region" }).waitFor();

    const regions = ["[Region].[North]", "[Region].[South]"];
    const read = async (cells: string[][]) => (await apiClients(server.url, "admin").lattice.getCells({ cube: "Demo", cells: cells.map((members) => ({ members })) })).cells.map((c) => c.value ?? 0);
    const [north, south] = await read(regions.map(cellOf));
    expect(north * south).not.toBe(0);
    const total = north + south;
    const rows = await listed();
    expect(rows).toHaveLength(2);
    const expectRow = (text: string, caption: string, value: number) => {
      expect(text).toContain(caption);
      expect(text).toContain(`${value} · ${((value / total) * 100).toFixed(1)} %`);
    };
    // Largest first.
    const [first, second] = north >= south ? [["North", north], ["South", south]] as const : [["South", south], ["North", north]] as const;
    expectRow(rows[0], first[0], first[1]);
    expectRow(rows[1], second[0], second[1]);

    await page.getByRole("button", { name: "Explain North" }).click();
    await page.getByRole("list", { name: "Contributors by Region" }).getByText("Oslo").waitFor();
    const [oslo, bergen] = await read([cellOf("[Region].[North].[Oslo]"), cellOf("[Region].[North].[Bergen]")]);
    const zoomed = await listed();
    expect(zoomed.join("\n")).toContain(`${oslo} · ${((oslo / north) * 100).toFixed(1)} %`);
    expect(zoomed.join("\n")).toContain(`${bergen} · ${((bergen / north) * 100).toFixed(1)} %`);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
    await paneShot(page, "explain");

    await page.getByRole("button", { name: "Back" }).click();
    await page.getByRole("button", { name: "Explain North" }).waitFor();
    expectNoPageErrors(t.pageErrors);
  });
});
