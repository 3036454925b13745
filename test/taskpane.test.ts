/**
 * The task pane in real headless Chromium against a real backend (PGlite, HTTP on an ephemeral
 * port): Office is replaced at the host module by a fake sheet (test/helpers/taskpane-page.tsx);
 * everything else is the real pane. Submits a change, resolves a conflict both ways, meets a
 * consolidated cell, adds comments and reads the history, all through roles and labels, and saves
 * a screenshot of each state under test-artifacts/ (320 px wide, as in Excel's pane).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import { type RunningServer, startServer } from "../backend/src/server/main";
import { openStore } from "../backend/src/store";
import { quietStart, testConfig } from "./helpers/server";
import { apiClients } from "./helpers/clients";
import { bundlePage, launchChromium } from "./helpers/browser";
import { smallCubeCells, smallCubeDef } from "./helpers/small-cube";
import "./helpers/taskpane-page-api";

const ARTIFACTS = path.join(__dirname, "..", "test-artifacts");
/** The test page's file name (beside it: its script, `<name>.js`). */
const PAGE = "taskpane-test.html";

/** A Plan/Units leaf of the small cube. */
function leaf(region: string, product = "[Product].[Widget]", channel = "[Channel].[Web]"): string[] {
  return [region, product, channel, "[Scenario].[Plan]", "[Measures].[Units]"];
}
const OSLO = leaf("[Region].[North].[Oslo]"); // 10
const BERGEN = leaf("[Region].[North].[Bergen]"); // 20
const ROME = leaf("[Region].[South].[Rome]", "[Product].[Gadget]", "[Channel].[Alpha]"); // 5
const NORTH = leaf("[Region].[North]"); // consolidated: 30

describe("the task pane in Chromium", () => {
  let tmp: string;
  let server: RunningServer;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const pageErrors: string[] = [];

  function clientsOf(user: string) {
    return apiClients(server.url, user);
  }

  async function serverCell(members: string[]) {
    const res = await clientsOf("check").lattice.getCells({ cube: "Demo", cells: [{ members }] });
    return res.cells[0];
  }

  async function shot(name: string): Promise<void> {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, `taskpane-${name}.png`), fullPage: true });
  }

  const pendingItem = (address: string) =>
    page
      .getByRole("list", { name: "Pending changes" })
      .getByRole("listitem")
      .filter({ has: page.getByRole("button", { name: `Go to ${address}` }) });
  const conflictItem = (address: string) =>
    page
      .getByRole("list", { name: "Conflicts" })
      .getByRole("listitem")
      .filter({ has: page.getByRole("button", { name: `Go to ${address}` }) });
  const selectedHeading = (address: string) => page.getByRole("heading", { name: `Selected cell: ${address}` });

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-taskpane-"));
    const dataDir = path.join(tmp, "data");
    const pageDir = path.join(tmp, "page");
    fs.mkdirSync(pageDir);
    const store = await openStore({ dataDir });
    await store.saveCube(smallCubeDef, smallCubeCells());
    await store.close();

    // The server serves the test page as the add-in's files (QATOM_ADDIN_DIR), so the page and the
    // API share one origin, as in Excel: the pane's default server URL is right and no CORS is involved.
    const started = await Promise.allSettled([
      startServer(
        testConfig({ QATOM_DATA_DIR: dataDir, QATOM_ADDIN_DIR: pageDir }),
        quietStart(),
      ).then((s) => {
        server = s;
        return s.ready;
      }),
      bundlePage(path.join(__dirname, "helpers", "taskpane-page.tsx"), pageDir, PAGE, "QuantatomAI"),
      launchChromium().then((b) => {
        browser = b;
      }),
    ]);
    for (const r of started) if (r.status === "rejected") throw r.reason;

    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.setDefaultTimeout(10_000);
    page.on("pageerror", (err) => pageErrors.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error") pageErrors.push(`${msg.text()} (${msg.location().url})`);
    });
    await page.goto(`${server.url}/${PAGE}`);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("connects as the user named in the connection form", async () => {
    await page.getByRole("heading", { name: "Connection" }).waitFor();
    await page.getByText("Connected: Demo").waitFor();
    await page.getByRole("heading", { name: "Selected cell: Sheet1!A1" }).waitFor();
    await page.getByText("No QATOM formula here", { exact: false }).waitFor();
    await shot("connection");

    await page.getByLabel("Server URL").fill(server.url);
    await page.getByLabel("User name").fill("ann");
    await page.getByRole("button", { name: "Save connection" }).click();
    await page.getByText(`ann at ${server.url}`).waitFor();
    await page.getByLabel("User name").waitFor({ state: "detached" });
    expect(await page.getByRole("button", { name: "Change" }).getAttribute("aria-expanded")).toBe("false");
  });

  test("submits a pending change: APPLIED, on the server, and in the cell's history", async () => {
    await page.evaluate(async (m) => {
      await window.qatomTest.placeFormula("Sheet1!B2", "Demo", m);
      window.qatomTest.select("Sheet1!B2");
      window.qatomTest.type("Sheet1!B2", 15);
    }, OSLO);
    const item = pendingItem("Sheet1!B2");
    await item.getByText("Pending", { exact: true }).waitFor();
    await item.getByText("10 → 15").waitFor();
    await selectedHeading("Sheet1!B2").waitFor();
    await page.getByText("No changes since the data was loaded.").waitFor();
    await shot("pending");

    await page.getByRole("button", { name: "Submit (1)" }).click();
    await item.getByText("Applied", { exact: true }).waitFor();
    // Screen readers hear the result too (a polite live region).
    await page.getByRole("status").filter({ hasText: "Submitted: 1 applied" }).waitFor({ state: "attached" });
    const cell = await serverCell(OSLO);
    expect(cell.value).toBe(15);
    expect(cell.version).toBeGreaterThan(0n);

    // The history (audit log) of the selected cell lists the write, newest first.
    const history = page.getByRole("list", { name: "Changes to this cell" }).getByRole("listitem");
    await history.first().getByText("10 → 15").waitFor();
    await history.first().getByText(`ann, `, { exact: false }).waitFor();
    expect(await history.first().textContent()).toContain(`version ${cell.version}`);
    expect(await history.count()).toBe(1);
    expect(await page.getByRole("button", { name: "Submit", exact: true }).isDisabled()).toBe(true);
    await shot("applied");
  });

  test("a conflict resolved by keep mine: written again on the other writer's version", async () => {
    const bob = clientsOf("bob");
    await page.evaluate(async (m) => {
      await window.qatomTest.placeFormula("Sheet1!B3", "Demo", m);
      window.qatomTest.type("Sheet1!B3", 25);
    }, BERGEN);
    const theirs = await bob.lattice.writeCells({ cube: "Demo", writes: [{ members: BERGEN, value: 30, baseVersion: 0n }] });
    expect(theirs.results[0].status).toBe(WriteStatus.APPLIED);

    await page.getByRole("button", { name: "Submit (1)" }).click();
    const conflict = conflictItem("Sheet1!B3");
    await conflict.waitFor();
    const facts = (await conflict.textContent()) ?? "";
    expect(facts).toContain("Your value25");
    expect(facts).toContain("Their value30");
    expect(facts).toContain("Changed bybob");
    expect(facts).toMatch(/When(?!unknown)\w/);
    await page.getByRole("button", { name: "Go to Sheet1!B3" }).click();
    await selectedHeading("Sheet1!B3").waitFor();
    expect(await page.evaluate(() => window.qatomTest.wentTo)).toEqual(["Sheet1!B3"]);
    await shot("conflict");

    await page.getByRole("button", { name: "Keep mine on Sheet1!B3" }).click();
    await pendingItem("Sheet1!B3").getByText("Applied", { exact: true }).waitFor();
    await page.getByRole("status").filter({ hasText: "Sheet1!B3: kept your value, applied" }).waitFor({ state: "attached" });
    await page.getByRole("list", { name: "Conflicts" }).waitFor({ state: "detached" });

    const cell = await serverCell(BERGEN);
    expect(cell.value).toBe(25);
    expect(cell.version).toBeGreaterThan(theirs.results[0].version);
    const history = await bob.lattice.getCellHistory({ cube: "Demo", members: BERGEN });
    expect(history.records.map((r) => [r.user, r.oldValue, r.newValue])).toEqual([
      ["ann", 30, 25],
      ["bob", 20, 30],
    ]);
    // The pane's history follows the live cell.
    await page.getByRole("list", { name: "Changes to this cell" }).getByRole("listitem").first().getByText("30 → 25").waitFor();
    await shot("keep-mine");
  });

  test("a conflict resolved by take theirs, with the keyboard: mine is dropped", async () => {
    const bob = clientsOf("bob");
    await page.evaluate(async (m) => {
      await window.qatomTest.placeFormula("Sheet1!B4", "Demo", m);
      window.qatomTest.type("Sheet1!B4", 6);
    }, ROME);
    await bob.lattice.writeCells({ cube: "Demo", writes: [{ members: ROME, value: 7, baseVersion: 0n }] });

    await page.getByRole("button", { name: "Submit (1)" }).focus();
    await page.keyboard.press("Enter");
    const takeTheirs = page.getByRole("button", { name: "Take theirs on Sheet1!B4" });
    await takeTheirs.waitFor();
    await takeTheirs.focus();
    await page.keyboard.press("Enter");
    await page.getByRole("list", { name: "Conflicts" }).waitFor({ state: "detached" });
    expect(await page.getByRole("button", { name: "Go to Sheet1!B4" }).count()).toBe(0);
    // Focus moves to the pending list's heading, not to the page (the button it was on is gone).
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Pending changes");

    const cell = await serverCell(ROME);
    expect(cell.value).toBe(7);
    const history = await bob.lattice.getCellHistory({ cube: "Demo", members: ROME });
    expect(history.records.map((r) => r.user)).toEqual(["bob"]);
    await page.evaluate(() => window.qatomTest.select("Sheet1!B4"));
    await page.getByRole("list", { name: "Changes to this cell" }).getByText("5 → 7").waitFor();
    await shot("take-theirs");
  });

  test("a value typed over a consolidated cell: the pane says why it cannot be written yet", async () => {
    await page.evaluate(async (m) => {
      await window.qatomTest.placeFormula("Sheet1!B5", "Demo", m);
      window.qatomTest.type("Sheet1!B5", 100);
    }, NORTH);
    const item = pendingItem("Sheet1!B5");
    await item.getByText("Rejected", { exact: true }).waitFor();
    await item.getByText("Can't be written yet").waitFor();
    await item.getByText("spreading", { exact: false }).waitFor();
    expect(await page.getByRole("button", { name: "Submit", exact: true }).isDisabled()).toBe(true);
    // The server says the same when asked.
    const direct = await clientsOf("ann").lattice.writeCells({ cube: "Demo", writes: [{ members: NORTH, value: 100, baseVersion: 0n }] });
    expect(direct.results[0].status).toBe(WriteStatus.REJECTED);
    expect(direct.results[0].message).toMatch(/consolidated.*spreading/);
    expect((await serverCell(NORTH)).value).toBe(15 + 25); // Oslo + Bergen, untouched
    await shot("consolidated");

    await page.getByRole("button", { name: "Discard Sheet1!B5" }).click();
    await item.waitFor({ state: "detached" });
  });

  test("adds comments to the selected cell and sees them in its thread and from the cell above", async () => {
    await page.evaluate(() => window.qatomTest.select("Sheet1!B2"));
    await selectedHeading("Sheet1!B2").waitFor();
    await page.getByText("No comments on this cell yet.").waitFor();

    await page.getByLabel("Add a comment").fill("Oslo plan raised after the Q1 review");
    await page.getByRole("button", { name: "Add comment" }).click();
    const thread = page.getByRole("list", { name: "Comments on this cell" }).getByRole("listitem");
    await thread.getByText("Oslo plan raised after the Q1 review").waitFor();
    expect(await thread.first().textContent()).toContain("ann");

    // The keyboard way: Ctrl+Enter in the box.
    await page.getByLabel("Add a comment").fill("Confirmed with finance");
    await page.keyboard.press("Control+Enter");
    await thread.first().getByText("Confirmed with finance").waitFor();
    expect(await thread.count()).toBe(2);
    expect(await page.getByLabel("Add a comment").inputValue()).toBe("");
    const onServer = await clientsOf("check").commentary.listComments({ cube: "Demo", members: OSLO });
    expect(onServer.comments.map((c) => [c.author, c.text])).toEqual([
      ["ann", "Confirmed with finance"],
      ["ann", "Oslo plan raised after the Q1 review"],
    ]);
    await page.getByRole("button", { name: "Clear Sheet1!B3" }).click();
    await shot("comments");

    // A consolidated cell shows the comments on the cells below it.
    await page.evaluate(() => window.qatomTest.select("Sheet1!B5"));
    await selectedHeading("Sheet1!B5").waitFor();
    await page.getByRole("heading", { name: "Comments below this cell (2)" }).waitFor();
    const below = page.getByRole("list", { name: "Comments below this cell (2)" }).getByRole("listitem");
    await below.nth(1).waitFor();
    expect(await below.count()).toBe(2);
    expect(await below.first().textContent()).toContain("Oslo: ann");
    await page.getByText("History is kept for leaf cells", { exact: false }).waitFor();
    await shot("comments-below");
  });

  test("all at once (the README's picture): a conflict, a pending change, the selected cell's thread and history", async () => {
    await page.evaluate(() => window.qatomTest.type("Sheet1!B3", 27));
    const b3 = await serverCell(BERGEN);
    await clientsOf("bob").lattice.writeCells({ cube: "Demo", writes: [{ members: BERGEN, value: 28, baseVersion: b3.version }] });
    await page.getByRole("button", { name: "Submit (1)" }).click();
    await conflictItem("Sheet1!B3").waitFor();
    await page.evaluate(() => {
      window.qatomTest.type("Sheet1!B2", 18);
      window.qatomTest.select("Sheet1!B2");
    });
    await pendingItem("Sheet1!B2").getByText("15 → 18").waitFor();
    await selectedHeading("Sheet1!B2").waitFor();
    await page.getByRole("list", { name: "Comments on this cell" }).getByRole("listitem").nth(1).waitFor();
    await page.getByRole("list", { name: "Changes to this cell" }).getByRole("listitem").first().waitFor();
    await shot("overview");

    // Laid out for 320 px: nothing runs off to the side.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
    // Every control has a name a screen reader can say, and every field a label.
    const unnamed = await page.evaluate(() =>
      Array.from(document.querySelectorAll("button, a, input, textarea, select"))
        .filter((el) => {
          const e = el as HTMLElement & { labels?: NodeListOf<HTMLLabelElement> | null };
          return !(e.getAttribute("aria-label") || e.getAttribute("aria-labelledby") || e.labels?.length || e.textContent?.trim());
        })
        .map((el) => el.outerHTML.slice(0, 120)),
    );
    expect(unnamed).toEqual([]);
  });

  test("is usable with the keyboard: Tab reaches every action in order", async () => {
    // Start from the top of the pane (as after clicking into it).
    await page.evaluate(() => {
      const main = document.querySelector("main")!;
      main.tabIndex = -1;
      main.focus();
      main.removeAttribute("tabindex");
    });
    // The pane's actions, top to bottom (Add comment stays disabled while the box is empty).
    const order = ["Change", "Go to Sheet1!B3", "Keep mine on Sheet1!B3", "Take theirs on Sheet1!B3", "Go to Sheet1!B2", "Discard Sheet1!B2", "Submit (1)", "Discard all", "Refresh comments", "Add a comment"];
    const stops: string[] = [];
    for (let i = 0; i < order.length; i++) {
      await page.keyboard.press("Tab");
      stops.push(
        await page.evaluate(() => {
          const el = document.activeElement as HTMLElement | null;
          if (!el || el === document.body) return "";
          const labelled = el.getAttribute("aria-labelledby");
          const byId = labelled ? document.getElementById(labelled.split(" ")[0])?.textContent : null;
          const label = (el as HTMLInputElement).labels?.[0]?.textContent;
          return (el.getAttribute("aria-label") ?? label ?? byId ?? el.textContent ?? "").trim();
        }),
      );
    }
    // Nothing in between: no focus trap, no invisible stops.
    expect(stops).toEqual(order);
  });

  test("the page had no errors", () => {
    expect(pageErrors).toEqual([]);
  });
});
