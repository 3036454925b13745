/**
 * "Recent changes" in the task pane, in Chromium against a real backend (PGlite): Ann submits a
 * spread, sees it listed with what she asked for and undoes it (every leaf back); after Bob changes
 * a leaf of her next spread, her undo lists that cell as a conflict and changes nothing, and "Undo
 * the others" restores the rest. Screenshots of each state go to test-artifacts/.
 */
import type { Page } from "playwright-core";
import { apiClients } from "./helpers/clients";
import type { TestPage } from "./helpers/browser-page";
import type { CubeServer } from "./helpers/cube-server";
import { expectNoPageErrors } from "./helpers/page-errors";
import { openPlannersTaskpane } from "./helpers/taskpane-secured";
import { announced as announcedIn, paneShot, signInAs } from "./helpers/taskpane-actions";

const leaf = (region: string) => [region, "[Product].[Widget]", "[Channel].[Web]", "[Scenario].[Plan]", "[Measures].[Units]"];
const OSLO = leaf("[Region].[North].[Oslo]"); // 10
const BERGEN = leaf("[Region].[North].[Bergen]"); // 20
const NORTH = leaf("[Region].[North]"); // 30
const NORTH_NAMES = "[Region].[North], [Product].[Widget], [Channel].[Web], [Scenario].[Plan], [Measures].[Units]";

describe("recent changes and undo in the task pane", () => {
  let t: TestPage<CubeServer>;
  let server: CubeServer;
  let page: Page;

  const shot = (name: string) => paneShot(page, name);
  const values = async () =>
    (await apiClients(server.url, "admin").lattice.getCells({ cube: "Demo", cells: [OSLO, BERGEN].map((members) => ({ members })) })).cells.map((c) => c.value);
  const recent = () => page.getByRole("list", { name: "Your recent changes" }).getByRole("listitem");
  const announced = (text: string) => announcedIn(page, text);

  beforeAll(async () => {
    t = await openPlannersTaskpane("qatom-taskpane-undo-");
    ({ page, server } = t);
  });

  afterAll(async () => {
    await t?.close();
  });

  it("lists a submitted spread with what was asked for, and Undo puts every leaf back", async () => {
    await signInAs(page, "ann", "Ann Analyst");
    await page.getByText("Select a QATOM cell to see your recent changes to its cube.").waitFor();
    await page.evaluate(async (m) => {
      await window.qatomTest.placeFormula("Sheet1!B5", "Demo", m);
      window.qatomTest.select("Sheet1!B5");
    }, NORTH);
    await page.getByText("No changes of yours to Demo yet.").waitFor();

    await page.evaluate(() => window.qatomTest.type("Sheet1!B5", 60));
    await page.getByRole("button", { name: "Submit (1)" }).click();
    await announced("Submitted: 1 applied");
    expect(await values()).toEqual([20, 40]);
    const spread = recent().first();
    await spread.getByText(`P spread of 60 into ${NORTH_NAMES}`).waitFor();
    await spread.getByText("Spread", { exact: true }).waitFor();
    await spread.getByText("2 leaf cells", { exact: false }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
    await shot("recent-changes");

    await spread.getByRole("button", { name: `Undo P spread of 60 into ${NORTH_NAMES}` }).click();
    await announced("Undone: 2 leaf cells restored");
    expect(await values()).toEqual([10, 20]);
    // The undo is listed on top (it can be undone in turn); the spread's button says it was undone.
    await recent().first().getByRole("button", { name: `Undo undo of spread: P spread of 60 into ${NORTH_NAMES}` }).waitFor();
    expect(await recent().nth(1).getByRole("button", { name: `Undone: P spread of 60 into ${NORTH_NAMES}` }).isDisabled()).toBe(true);
    await page.waitForFunction(() => (window.qatomTest.shows("Sheet1!B5") as { value?: number } | null)?.value === 30);
    await shot("undone");
  });

  it("the history of a leaf the undo restored says it was an undo", async () => {
    await page.evaluate(async (m) => {
      await window.qatomTest.placeFormula("Sheet1!B2", "Demo", m);
      window.qatomTest.select("Sheet1!B2");
    }, OSLO);
    const history = page.getByRole("list", { name: "Changes to this cell" }).getByRole("listitem");
    await history.first().getByText("20 → 10").waitFor();
    expect(await history.first().textContent()).toContain(", an undo");
    expect(await history.nth(1).textContent()).not.toContain("an undo");
    // Back to the total for the next test.
    await page.evaluate(() => window.qatomTest.select("Sheet1!B5"));
  });

  it("an undo after someone else changed a leaf lists it as a conflict and changes nothing; Undo the others restores the rest", async () => {
    await page.evaluate(() => window.qatomTest.type("Sheet1!B5", 90));
    await page.getByRole("button", { name: "Submit (1)" }).click();
    await announced("Submitted: 1 applied");
    expect(await values()).toEqual([30, 60]);
    await recent().first().getByText(`P spread of 90 into ${NORTH_NAMES}`).waitFor();
    const bob = apiClients(server.url, "bob").lattice;
    const [osloNow] = (await bob.getCells({ cube: "Demo", cells: [{ members: OSLO }] })).cells;
    await bob.writeCells({ cube: "Demo", writes: [{ members: OSLO, value: 35, baseVersion: osloNow.version }] });

    await recent().first().getByRole("button", { name: `Undo P spread of 90 into ${NORTH_NAMES}` }).click();
    const box = page.getByRole("region", { name: "Undo not done" });
    await box.getByText("Not undone: 1 cell changed since by others").waitFor();
    const conflict = page.getByRole("list", { name: "Cells changed since" }).getByRole("listitem");
    expect(await conflict.count()).toBe(1);
    const text = (await conflict.textContent()) ?? "";
    expect(text).toContain("Oslo · Widget · Web · Plan · Units");
    expect(text).toContain("now 35 by bob");
    expect(text).toContain("the undo would restore 10");
    expect(await values()).toEqual([35, 60]);
    await shot("undo-conflict");

    await page.getByRole("button", { name: "Undo the others" }).click();
    await announced("Undone: 1 leaf cell restored, 1 changed by others kept");
    expect(await values()).toEqual([35, 20]);
    await box.waitFor({ state: "detached" });
    expectNoPageErrors(t.pageErrors);
  });
});
