/**
 * The task pane's Sandbox panel, in Chromium against a real backend (PGlite): Ann creates a
 * sandbox, which switches the cube's QATOM cells to it; her spread goes to the sandbox (the cells
 * show it, the base does not change); after Bob changes a leaf in the base, Commit lists that cell
 * with hers and his, Keep mine commits it anyway; in a second sandbox a write is undone from Recent
 * changes (the sandbox's own), then the sandbox is discarded. Screenshots of
 * each state go to test-artifacts/.
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

describe("sandboxes in the task pane", () => {
  let t: TestPage<CubeServer>;
  let server: CubeServer;
  let page: Page;

  const shot = (name: string) => paneShot(page, name);
  const base = async () =>
    (await apiClients(server.url, "admin").lattice.getCells({ cube: "Demo", cells: [OSLO, BERGEN].map((members) => ({ members })) })).cells.map((c) => c.value);
  const announced = (text: string) => announcedIn(page, text);
  const shows = (address: string, value: number) => page.waitForFunction(([a, v]) => (window.qatomTest.shows(a as string) as { value?: number } | null)?.value === v, [address, value] as const);
  const picker = () => page.getByLabel("Cells of Demo show");

  beforeAll(async () => {
    t = await openPlannersTaskpane("qatom-taskpane-sandbox-");
    ({ page, server } = t);
  });

  afterAll(async () => {
    await t?.close();
  });

  it("creates a sandbox that the cube's cells switch to; a spread submitted there leaves the base as it is", async () => {
    await signInAs(page, "ann", "Ann Analyst");
    await page.getByText("Select a QATOM cell to work in a sandbox of its cube.").waitFor();
    await page.evaluate(
      async ([north, oslo]) => {
        await window.qatomTest.placeFormula("Sheet1!B5", "Demo", north);
        await window.qatomTest.placeFormula("Sheet1!B2", "Demo", oslo);
        window.qatomTest.select("Sheet1!B5");
      },
      [NORTH, OSLO],
    );
    expect(await picker().inputValue()).toBe("");

    await page.getByLabel("New sandbox").fill("Q3 what-if");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await announced("Sandbox Q3 what-if created");
    expect(await picker().locator("option:checked").textContent()).toBe("Q3 what-if");

    await page.evaluate(() => window.qatomTest.type("Sheet1!B5", 60));
    await page.getByRole("button", { name: "Submit (1)" }).click();
    await announced("Submitted: 1 applied");
    // The sheet shows the sandbox (Oslo 20 of 60); the shared data is unchanged.
    await shows("Sheet1!B2", 20);
    await shows("Sheet1!B5", 60);
    expect(await base()).toEqual([10, 20]);
    await page.getByText("Changes you submit to Demo go to sandbox Q3 what-if (2 leaf cells changed)", { exact: false }).waitFor();
    // The selected cell says the sandbox changed it.
    await page.getByText("Changed in sandbox", { exact: true }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
    await shot("sandbox");

    // Oslo's history is its history in the sandbox: the spread's record.
    await page.evaluate(() => window.qatomTest.select("Sheet1!B2"));
    await page.getByRole("heading", { name: "History in this sandbox" }).waitFor();
    await page.getByRole("list", { name: "Changes to this cell" }).getByRole("listitem").first().getByText("10 → 20").waitFor();
    await page.evaluate(() => window.qatomTest.select("Sheet1!B5"));
    // Back to the base: the cells show the shared data again; and to the sandbox once more.
    await picker().selectOption({ label: "Base (shared data)" });
    await shows("Sheet1!B2", 10);
    await picker().selectOption({ label: "Q3 what-if" });
    await shows("Sheet1!B2", 20);
  });

  it("a commit after Bob changed a leaf lists it with both values; Keep mine commits it over his", async () => {
    const bob = apiClients(server.url, "bob").lattice;
    const [osloNow] = (await bob.getCells({ cube: "Demo", cells: [{ members: OSLO }] })).cells;
    await bob.writeCells({ cube: "Demo", writes: [{ members: OSLO, value: 11, baseVersion: osloNow.version }] });
    // In the sandbox, Oslo is still Ann's.
    await shows("Sheet1!B2", 20);

    await page.getByRole("button", { name: "Commit to the base" }).click();
    const box = page.getByRole("region", { name: "Commit not done" });
    await box.getByText("Not committed: 1 cell changed in the base since").waitFor();
    const conflict = page.getByRole("list", { name: "Cells changed in the base" }).getByRole("listitem");
    expect(await conflict.count()).toBe(1);
    const text = (await conflict.textContent()) ?? "";
    expect(text).toContain("Oslo · Widget · Web · Plan · Units");
    expect(text).toContain("yours 20; theirs 11 by bob");
    expect(await base()).toEqual([11, 20]);
    await shot("sandbox-conflict");

    await conflict.getByRole("radio", { name: "Keep mine" }).check();
    await page.getByRole("button", { name: "Commit with these choices" }).click();
    await announced("Committed Q3 what-if: 2 leaf cells");
    expect(await base()).toEqual([20, 40]);
    // The cube is back on the base, which now holds the sandbox's values.
    expect(await picker().inputValue()).toBe("");
    await shows("Sheet1!B2", 20);
    await page.getByRole("list", { name: "Your recent changes" }).getByText("Sandbox commit").first().waitFor();
  });

  it("undoes a write in a sandbox from its recent changes, then discards the sandbox after a confirmation", async () => {
    await page.getByLabel("New sandbox").fill("Scratch");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await announced("Sandbox Scratch created");
    await page.evaluate(() => window.qatomTest.type("Sheet1!B2", 99));
    await page.getByRole("button", { name: "Submit (1)" }).click();
    await announced("Submitted: 1 applied");
    await shows("Sheet1!B2", 99);
    // Recent changes are the sandbox's: Undo takes the write back in the sandbox.
    const recent = page.getByRole("list", { name: "Your recent changes" }).getByRole("listitem");
    expect(await recent.count()).toBe(1);
    await recent.first().getByRole("button", { name: /^Undo / }).click();
    await announced("Undone: 1 leaf cell restored");
    await shows("Sheet1!B2", 20);
    await page.evaluate(() => window.qatomTest.type("Sheet1!B2", 99));
    await page.getByRole("button", { name: "Submit (1)" }).click();
    await announced("Submitted: 1 applied");
    await shows("Sheet1!B2", 99);
    await page.getByRole("button", { name: "Discard", exact: true }).click();
    await page.getByRole("region", { name: "Discard sandbox" }).getByText("Discard sandbox Scratch and every change in it?").waitFor();
    await page.getByRole("button", { name: "Discard sandbox" }).click();
    await announced("Sandbox Scratch discarded");
    await shows("Sheet1!B2", 20);
    expect(await base()).toEqual([20, 40]);
    const options = await picker().locator("option").allTextContents();
    expect(options).toEqual(["Base (shared data)", "Q3 what-if (committed)"]);
    expectNoPageErrors(t.pageErrors);
  });
});
