/**
 * The QuantatomAI ribbon tab in real headless Chromium against a real backend (PGlite, HTTP on an
 * ephemeral port): the shared runtime as Excel loads it (addin/src's context, which starts
 * addin/src/ribbon.ts), with Excel's ribbon, add-in commands and keyboard shortcuts played by
 * test/helpers/ribbon-stand-in.ts from manifest.xml and shortcuts.json, through the real host module.
 * Buttons are found by role and label and clicked; the state they show is Office's, set only by the
 * add-in's `Office.ribbon.requestUpdate` calls. Leaves screenshots under test-artifacts/ (ribbon-*.png;
 * docs/img/ribbon.png is one of them).
 */
import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { RIBBON_CONTROLS } from "../addin/src/ribbon";
import { openTestPage, type TestPage } from "./helpers/browser-page";
import { apiClients } from "./helpers/clients";
import { expectNoPageErrors, } from "./helpers/page-errors";
import type { RibbonTestApi } from "./helpers/ribbon-page";
import { readRibbonModel } from "./helpers/ribbon-manifest";
import type { RibbonModel } from "./helpers/ribbon-stand-in";
import { smallCubeCells, smallCubeDef } from "./helpers/small-cube";
import { CubeServer } from "./helpers/cube-server";

const ARTIFACTS = path.join(__dirname, "..", "test-artifacts");
const PAGE = "ribbon-test.html";
/** A Plan/Units leaf of the small cube (10). */
const OSLO = ["[Region].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]", "[Scenario].[Plan]", "[Measures].[Units]"];

describe("the QuantatomAI ribbon tab in Excel (Chromium stand-in)", () => {
  let t: TestPage<CubeServer>;
  let server: CubeServer;
  let page: Page;
  let model: RibbonModel;

  const button = (name: string) => page.getByRole("tabpanel", { name: "QuantatomAI" }).getByRole("button", { name, exact: true });
  /** Waits until Office shows the button enabled (true) or disabled (false). */
  const shows = (name: string, enabled: boolean) => page.getByRole("button", { name, exact: true, disabled: !enabled }).waitFor();
  /** Which buttons Office shows enabled, by label, in the tab's order. */
  const enabledButtons = () => page.$$eval(".xl-ribbon button", (bs) => bs.filter((b) => !(b as HTMLButtonElement).disabled).map((b) => b.textContent));
  /** Runs `fn` in the page with its test API (`fn` is sent as source: it may use only its argument). */
  const api = <T>(fn: (a: RibbonTestApi) => T | Promise<T>) => page.evaluate(`(${fn.toString()})(window.qatomRibbon)`) as Promise<T>;
  async function serverValue(): Promise<number | undefined> {
    const res = await apiClients(server.url, "check").lattice.getCells({ cube: "Demo", cells: [{ members: OSLO }] });
    return res.cells[0].value;
  }
  async function shot(name: string): Promise<void> {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.mouse.move(0, 0); // no hover highlight
    await page.locator(".xl").screenshot({ path: path.join(ARTIFACTS, `ribbon-${name}.png`) });
  }

  beforeAll(async () => {
    model = readRibbonModel();
    t = await openTestPage({
      name: "qatom-ribbon-",
      entry: path.join(__dirname, "helpers", "ribbon-page.ts"),
      page: PAGE,
      title: "QuantatomAI ribbon",
      viewport: { width: 900, height: 260 },
      startServer: (pageDir) => CubeServer.start("PGlite", smallCubeDef, smallCubeCells(), { QATOM_ADDIN_DIR: pageDir }),
      async beforeOpen(p) {
        await p.addInitScript((m) => {
          window.qatomRibbonModel = m;
        }, model);
      },
    });
    ({ page, server } = t);
  });

  afterAll(async () => {
    await t?.close();
  });

  test("shows the manifest's tab and groups; with nobody signed in only Task pane and Sign in are enabled", async () => {
    expect(await page.getByRole("tab", { selected: true }).textContent()).toBe("QuantatomAI");
    expect(await page.getByRole("group").evaluateAll((gs) => gs.map((g) => g.getAttribute("aria-label")))).toEqual(["Changes", "Session"]);
    await shows("Sign in", true);
    expect(await api((a) => a.authStatus())).toBe("signedOut");
    expect(await enabledButtons()).toEqual(["Task pane", "Sign in"]);
    await shot("signed-out");
  });

  test("Sign in shows the task pane, where the user signs in; the command completes", async () => {
    await button("Sign in").click();
    await page.waitForFunction(() => window.qatomRibbon.record.completed.includes("Quantatom.SignIn"));
    expect(await api((a) => a.record.taskpaneShown)).toBe(1);
    await button("Task pane").click();
    expect(await api((a) => a.record.taskpaneShown)).toBe(2);
  });

  test("signed in: Refresh is enabled and Sign in disabled; nothing to submit yet", async () => {
    await api((a) => a.signIn("ann"));
    await shows("Sign in", false);
    expect(await enabledButtons()).toEqual(["Refresh", "Task pane"]);
  });

  test("a value typed over a QATOM.CELL cell enables Submit and Discard; Submit sends one WriteCells and is disabled again", async () => {
    await api((a) => a.placeFormula("Sheet1!B2", "Demo", ["[Region].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]", "[Scenario].[Plan]", "[Measures].[Units]"]));
    await api((a) => a.type("Sheet1!B2", 15));
    await shows("Submit", true);
    expect(await enabledButtons()).toEqual(["Submit", "Discard", "Refresh", "Task pane"]);
    await shot("pending");
    expect(t.rpcCount("WriteCells")).toBe(0);
    await button("Submit").click();
    await shows("Submit", false);
    // Submit is disabled while the write is in flight; the command completes once it is answered.
    await page.waitForFunction(() => window.qatomRibbon.record.completed.includes("Quantatom.Submit"));
    expect(await api((a) => a.pending())).toEqual(["Sheet1!B2 applied"]);
    expect(t.rpcCount("WriteCells")).toBe(1);
    expect(await serverValue()).toBe(15);
    expect(await enabledButtons()).toEqual(["Refresh", "Task pane"]);
    expect(await api((a) => a.record.completed.filter((id) => id === "Quantatom.Submit").length)).toBe(1);
  });

  test("Ctrl+Alt+Shift+S submits as the Submit button does", async () => {
    await api((a) => a.type("Sheet1!B2", 16));
    await shows("Submit", true);
    await page.keyboard.press("Control+Alt+Shift+KeyS");
    await shows("Submit", false);
    // A shortcut has no completion event: wait until the write is answered (Submit is disabled while it is in flight).
    await page.waitForFunction(() => !window.qatomRibbon.pending().some((p: string) => p.endsWith("submitting")));
    expect(await api((a) => a.record.ran.filter((r) => r.startsWith("shortcut")))).toEqual(["shortcut Quantatom.Submit"]);
    expect(t.rpcCount("WriteCells")).toBe(2);
    expect(await serverValue()).toBe(16);
  });

  test("Discard drops the change at once without sending it", async () => {
    await api((a) => a.type("Sheet1!B2", 99));
    await shows("Discard", true);
    await button("Discard").click();
    await shows("Discard", false);
    expect(await api((a) => a.pending())).toEqual([]);
    expect(t.rpcCount("WriteCells")).toBe(2);
    expect(await serverValue()).toBe(16);
  });

  test("Refresh reads the cells again (the cube's WatchCells stream reconnects)", async () => {
    const reconnected = page.waitForRequest((r) => r.url().endsWith("/quantatom.v1.LatticeService/WatchCells"));
    await button("Refresh").click();
    await reconnected;
    await page.waitForFunction(() => window.qatomRibbon.record.completed.includes("Quantatom.Refresh"));
  });

  test("signing out disables Submit and Refresh and enables Sign in; a waiting change can still be discarded", async () => {
    await api((a) => a.type("Sheet1!B2", 17));
    await shows("Submit", true);
    await api((a) => a.signOut());
    await shows("Submit", false);
    expect(await enabledButtons()).toEqual(["Discard", "Task pane", "Sign in"]);
    await shot("signed-out-pending");
    await button("Discard").click();
    await shows("Discard", false);
    expect(t.rpcCount("WriteCells")).toBe(2);
  });

  test("Office refuses an update naming a control the manifest lacks; every update the add-in sent named the manifest's controls", async () => {
    const refusal = await api((a) => a.requestUpdate({ tabs: [{ id: "Quantatom.Tab", groups: [{ id: "Quantatom.Changes", controls: [{ id: "Quantatom.Publish", enabled: true }] }] }] }));
    expect(refusal).toMatch(/no control Quantatom\.Publish in group Quantatom\.Changes/);
    const record = await api((a) => a.record);
    expect(record.refused).toHaveLength(1);
    const declared = new Set(model.groups.flatMap((g) => g.controls.map((c) => `${model.tab.id}/${g.id}/${c.id}`)));
    const sent = (record.updates as { tabs: { id: string; groups: { id: string; controls: { id: string }[] }[] }[] }[]).flatMap((u) =>
      u.tabs.flatMap((t) => t.groups.flatMap((g) => g.controls.map((c) => `${t.id}/${g.id}/${c.id}`))),
    );
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.filter((id) => !declared.has(id))).toEqual([]);
    expect(new Set(sent.map((id) => id.split("/")[2]))).toEqual(new Set(Object.values(RIBBON_CONTROLS).map((c) => c.id)));
    // Deduplicated: no two updates in a row the same.
    const json = record.updates.map((u) => JSON.stringify(u));
    expect(json.filter((u, i) => i > 0 && u === json[i - 1])).toEqual([]);
    expectNoPageErrors(t.pageErrors);
  });
});
