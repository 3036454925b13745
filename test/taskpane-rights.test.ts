/**
 * The task pane in Chromium against a server whose cube is secured: Ann (group "viewers") may read
 * every region but write none. She signs in as a seeded development user, types over a cell and
 * submits: the write is refused with the reason, nothing is written, and the cell keeps its value.
 */
import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { apiClients } from "./helpers/clients";
import type { TestPage } from "./helpers/browser-page";
import type { CubeServer } from "./helpers/cube-server";
import { expectNoPageErrors, } from "./helpers/page-errors";
import { openSecuredTaskpane } from "./helpers/taskpane-secured";
import { signInAs } from "./helpers/taskpane-actions";

const ARTIFACTS = path.join(__dirname, "..", "test-artifacts");
const OSLO_PLAN = ["[Region].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]", "[Scenario].[Plan]", "[Measures].[Units]"]; // 10

describe("the task pane with rights", () => {
  let t: TestPage<CubeServer>;
  let server: CubeServer;
  let page: Page;

  beforeAll(async () => {
    t = await openSecuredTaskpane("qatom-taskpane-rights-", {
      admins: ["admin"],
      groups: [{ name: "viewers", rights: { Region: { "[Region]": "read" } } }],
      users: [
        { id: "admin", name: "Ada Admin", groups: [] },
        { id: "ann", name: "Ann Analyst", groups: ["viewers"] },
      ],
    });
    ({ page, server } = t);
  });

  afterAll(async () => {
    await t?.close();
  });

  it("refuses a write the signed-in user has no right to make, with the reason, and writes nothing", async () => {
    // The server's seeded users come from the cube's security section.
    expect(await page.getByLabel("Sign in as").locator("option").allTextContents()).toEqual(["Ada Admin (admin) – administrator", "Ann Analyst (ann)"]);
    await signInAs(page, "ann", "Ann Analyst");
    await page.getByText("Connected: Demo").waitFor();
    await page.evaluate(async (m) => {
      await window.qatomTest.placeFormula("Sheet1!B2", "Demo", m);
      window.qatomTest.select("Sheet1!B2");
      window.qatomTest.type("Sheet1!B2", 99);
    }, OSLO_PLAN);
    const item = page
      .getByRole("list", { name: "Pending changes" })
      .getByRole("listitem")
      .filter({ has: page.getByRole("button", { name: "Go to Sheet1!B2" }) });
    await item.getByText("10 → 99").waitFor();
    await page.getByRole("button", { name: "Submit (1)" }).click();
    await item.getByText("Rejected", { exact: true }).waitFor();
    await item.getByText("you may not write this cell", { exact: false }).waitFor();
    const cell = await apiClients(server.url, "admin").lattice.getCells({ cube: "Demo", cells: [{ members: OSLO_PLAN }] });
    expect(cell.cells[0]).toMatchObject({ value: 10, version: 0n });
    expect(await page.evaluate(() => window.qatomTest.shows("Sheet1!B2"))).toEqual({ value: 10 });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, "taskpane-refused.png"), fullPage: true });
    expectNoPageErrors(t.pageErrors);
  });
});
