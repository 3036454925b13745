/**
 * The task pane in real headless Chromium against a real backend (PGlite, HTTP on an ephemeral
 * port): Office is replaced at the host module by a fake sheet (test/helpers/taskpane-page.tsx);
 * everything else is the real pane. Signs in as a seeded development user, submits a change,
 * resolves a conflict both ways, spreads a write to a consolidated cell (the method picker,
 * holds), adds comments and reads the history, signs out (and every call then says "Sign in in the
 * task pane") and in again as someone else, all through roles and labels, and saves a screenshot
 * of each state under test-artifacts/ (320 px wide, as in Excel's pane).
 */
import path from "node:path";
import type { Page } from "playwright-core";
import { WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import { apiClients } from "./helpers/clients";
import { openTestPage, type TestPage } from "./helpers/browser-page";
import { expectNoPageErrors, } from "./helpers/page-errors";
import { smallCubeCells, smallCubeDef } from "./helpers/small-cube";
import "./helpers/taskpane-page-api";
import { CubeServer } from "./helpers/cube-server";
import { paneShot, signInAs as signInPane } from "./helpers/taskpane-actions";

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
  let t: TestPage<CubeServer>;
  let server: CubeServer;
  /** The users the server's development sign-in lists (`GET /auth/config`; may be none). */
  let seeded: { id: string; name: string; admin?: boolean }[];
  /** The users the pane offers: the server's, or (while it lists none) two added to its answer. */
  let offered: { id: string; name: string; groups: string[]; admin?: boolean }[];
  let page: Page;

  function clientsOf(user: string) {
    return apiClients(server.url, user);
  }

  async function serverCell(members: string[]) {
    const res = await clientsOf("check").lattice.getCells({ cube: "Demo", cells: [{ members }] });
    return res.cells[0];
  }

  const shot = (name: string) => paneShot(page, name);

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
  const shows = (address: string) => page.evaluate((a) => window.qatomTest.shows(a), address);

  /** The name the pane shows for a development user: the seeded user's name, else the id. */
  const nameOf = (id: string) => seeded.find((u) => u.id === id)?.name ?? id;

  /** Signs in through the Connection panel as development user `id`, picked from the seeded users. */
  const signInAs = (id: string) => signInPane(page, id, nameOf(id));
  const typeOver = (address: string, value: number | string | null) => page.evaluate(([a, v]) => window.qatomTest.type(a as string, v), [address, value] as const);

  /** Controls a screen reader could not name (every control needs a name, every field a label). */
  const unnamedControls = () =>
    page.evaluate(() =>
      Array.from(document.querySelectorAll("button, a, input, textarea, select"))
        .filter((el) => {
          const e = el as HTMLElement & { labels?: NodeListOf<HTMLLabelElement> | null };
          return !(e.getAttribute("aria-label") || e.getAttribute("aria-labelledby") || e.labels?.length || e.textContent?.trim());
        })
        .map((el) => el.outerHTML.slice(0, 120)),
    );

  beforeAll(async () => {
    t = await openTestPage({
      name: "qatom-taskpane-",
      entry: path.join(__dirname, "helpers", "taskpane-page.tsx"),
      page: PAGE,
      title: "QuantatomAI",
      async startServer(pageDir) {
        const s = await CubeServer.start("PGlite", smallCubeDef, smallCubeCells(), { QATOM_ADDIN_DIR: pageDir });
        seeded = ((await (await fetch(`${s.url}/auth/config`)).json()) as { users: typeof seeded }).users;
        return s;
      },
      async beforeOpen(p) {
        // The server lists the users of its models' security sections. Until the Demo cube has one
        // (rights come later), the page is told of two seeded users in the server's own answer; the
        // server issues their tokens as for any user id.
        offered = seeded.length > 0 ? seeded.map((u) => ({ groups: [], ...u })) : [
          { id: "admin", name: "Ada Admin", groups: ["planners"], admin: true },
          { id: "ann", name: "Ann Analyst", groups: ["planners"] },
        ];
        await p.route("**/auth/config", async (route) => {
          const response = await route.fetch();
          const json = (await response.json()) as { users?: unknown[] };
          await route.fulfill({ response, json: { ...json, users: json.users?.length ? json.users : offered } });
        });
      },
    });
    ({ page, server } = t);
  });

  afterAll(async () => {
    await t?.close();
  });

  test("signs in as a seeded development user: the server's users to choose from, then the name the token gives and the server", async () => {
    const config = (await (await fetch(`${server.url}/auth/config`)).json()) as { mode: string };
    expect(config.mode).toBe("development");
    await page.getByRole("heading", { name: "Connection" }).waitFor();
    await page.getByText(`Not signed in at ${server.url}`).waitFor();
    const labels = offered.map((u) => `${u.name}${u.name !== u.id ? ` (${u.id})` : ""}${u.admin ? " – administrator" : ""}`);
    expect(await page.getByLabel("Sign in as").locator("option").allTextContents()).toEqual(labels);
    await page.getByText("Development sign-in", { exact: false }).waitFor();
    expect(await page.getByLabel("User name").count()).toBe(0); // the old field is gone
    await page.getByRole("heading", { name: "Selected cell: Sheet1!A1" }).waitFor();
    expect(await unnamedControls()).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
    await shot("signed-out");

    await signInAs("ann");
    await page.getByText(`at ${server.url} (development sign-in)`, { exact: false }).waitFor();
    await page.getByText("Connected: Demo").waitFor();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
    expect(await page.getByRole("button", { name: "Sign in", exact: true }).count()).toBe(0);
    await page.getByText("No QATOM formula here", { exact: false }).waitFor();
    await shot("connection");

    // The server URL is changed behind "Change server" (the same server here: still signed in).
    await page.getByRole("button", { name: "Change server" }).click();
    await page.getByLabel("Server URL").fill(server.url);
    await page.getByRole("button", { name: "Save connection" }).click();
    await page.getByLabel("Server URL").waitFor({ state: "detached" });
    expect(await page.getByRole("button", { name: "Change server" }).getAttribute("aria-expanded")).toBe("false");
    await page.getByText(`Signed in as ${nameOf("ann")}`).waitFor();
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

  test("a value typed over a consolidated cell is spread: proportional by default, the typed code's method preselected, RP asks for a reference", async () => {
    await page.evaluate(async (m) => {
      await window.qatomTest.placeFormula("Sheet1!B5", "Demo", m);
    }, NORTH);
    await typeOver("Sheet1!B5", 100);
    const item = pendingItem("Sheet1!B5");
    await item.getByText("Pending", { exact: true }).waitFor();
    await item.getByText("40 → 100").waitFor(); // Oslo 15 + Bergen 25
    await item.getByText("Consolidated: the value is spread to the leaf cells below it.").waitFor();
    const method = item.getByRole("combobox", { name: "Spread method for Sheet1!B5" });
    const action = item.getByRole("combobox", { name: "Data action for Sheet1!B5" });
    expect(await method.inputValue()).toBe("P");
    expect(await action.inputValue()).toBe("replace");
    expect(await method.locator("option").allTextContents()).toEqual([
      "Proportional (P)",
      "Equal (S)",
      "Equal leaves (LS)",
      "Repeat (R)",
      "Repeat leaves (LR)",
      "Percent change (P%)",
      "Relative proportional (RP)",
      "Relative percent (R%)",
      "Clear (C)",
    ]);
    expect(await action.locator("option").allTextContents()).toEqual(["Replace", "Add (+)", "Subtract (~)"]);

    // a TM1 code typed over the cell: its method and data action are preselected
    await typeOver("Sheet1!B5", "P%+10");
    await item.getByText("40 → P%+10").waitFor();
    expect(await method.inputValue()).toBe("P%");
    expect(await action.inputValue()).toBe("add");
    await typeOver("Sheet1!B5", "LS~*5");
    await item.getByText("40 → LS~*5").waitFor();
    expect(await item.getByRole("checkbox", { name: "Include empty leaves for Sheet1!B5" }).isChecked()).toBe(true);
    await typeOver("Sheet1!B5", "C");
    await item.getByText("40 → C").waitFor();
    expect(await action.isDisabled()).toBe(true);
    // the picker changes the spread (and what the pane shows)
    await typeOver("Sheet1!B5", 100);
    await method.selectOption("S");
    await item.getByText("40 → S100").waitFor();
    await action.selectOption("subtract");
    await item.getByText("40 → S~100").waitFor();

    // RP needs a reference cell: refused until the pane gives one
    await typeOver("Sheet1!B5", "RP100");
    await item.getByText("Rejected", { exact: true }).waitFor();
    await item.getByText("needs a reference cell", { exact: false }).waitFor();
    expect(await page.getByRole("button", { name: "Submit", exact: true }).isDisabled()).toBe(true);
    const reference = item.getByRole("textbox", { name: "Reference for Sheet1!B5" });
    await reference.fill("[Scenario].[Actual]");
    await reference.press("Enter");
    await item.getByText("Pending", { exact: true }).waitFor();
    await page.getByRole("button", { name: "Submit (1)" }).waitFor();
    expect(await unnamedControls()).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
    await shot("spread-picker");

    // a bad code is refused, naming the bad part and where it is
    await typeOver("Sheet1!B5", "P1OO");
    await item.getByText("Rejected", { exact: true }).waitFor();
    await item.getByText('"P1OO" is not a spreading code ("OO" at character 3)', { exact: false }).waitFor();
    expect((await serverCell(NORTH)).value).toBe(15 + 25); // nothing was sent

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
    expect(await unnamedControls()).toEqual([]);
  });

  test("is usable with the keyboard: Tab reaches every action in order", async () => {
    // Start from the top of the pane (as after clicking into it).
    await page.evaluate(() => {
      const main = document.querySelector("main")!;
      main.tabIndex = -1;
      main.focus();
      main.removeAttribute("tabindex");
    });
    // The pane's actions, top to bottom (Add comment and the sandbox's Create stay disabled while their boxes are empty); the
    // recent changes' Undo buttons are those of the transactions the tests above made.
    const undos = await page
      .getByRole("list", { name: "Your recent changes" })
      .getByRole("button")
      .evaluateAll((els) => els.filter((e) => !(e as HTMLButtonElement).disabled).map((e) => e.getAttribute("aria-label") ?? ""));
    expect(undos.length).toBeGreaterThan(0);
    const order = ["Change server", "Sign out", "Go to Sheet1!B3", "Keep mine on Sheet1!B3", "Take theirs on Sheet1!B3", "Go to Sheet1!B2", "Discard Sheet1!B2", "Submit (1)", "Discard all", "Refresh sandboxes", "Cells of Demo show", "New sandbox", "Refresh recent changes", ...undos, "Explain this number", "Refresh comments", "Add a comment"];
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

  test("Submit spreads: the total reaches the typed value, the leaves keep their proportions, one audit record per leaf; Equal from the picker; a held leaf stays", async () => {
    // Start from a clean list: drop the conflict and the pending change of the tests above.
    await page.getByRole("button", { name: "Take theirs on Sheet1!B3" }).click();
    await page.getByRole("button", { name: "Discard all" }).click();
    await page.getByRole("list", { name: "Pending changes" }).waitFor({ state: "detached" });
    const oslo0 = (await serverCell(OSLO)).value!;
    const bergen0 = (await serverCell(BERGEN)).value!;
    expect([oslo0, bergen0]).toEqual([15, 28]);

    const item = pendingItem("Sheet1!B5");
    await typeOver("Sheet1!B5", 86); // twice the total: each leaf doubles
    await item.getByText("43 → 86").waitFor();
    await page.getByRole("button", { name: "Submit (1)" }).click();
    await item.getByText("Applied", { exact: true }).waitFor();
    await item.getByText("Spread to 2 leaf cells; total now 86").waitFor();
    await page.getByRole("status").filter({ hasText: "Submitted: 1 applied (2 leaf cells changed)" }).waitFor({ state: "attached" });
    expect([(await serverCell(OSLO)).value, (await serverCell(BERGEN)).value]).toEqual([30, 56]);
    expect((await serverCell(NORTH)).value).toBe(86);
    const check = clientsOf("check").lattice;
    const [osloLog, bergenLog] = await Promise.all([OSLO, BERGEN].map(async (members) => (await check.getCellHistory({ cube: "Demo", members })).records));
    expect(osloLog[0]).toMatchObject({ user: "ann", oldValue: 15, newValue: 30 });
    expect(bergenLog[0]).toMatchObject({ user: "ann", oldValue: 28, newValue: 56 });
    expect(bergenLog[0].transactionId).toBe(osloLog[0].transactionId);
    expect([...osloLog, ...bergenLog].filter((r) => r.transactionId === osloLog[0].transactionId)).toHaveLength(2);

    // Equal (S) picked in the pane: each child of North gets half
    await typeOver("Sheet1!B5", 100);
    await item.getByText("86 → 100").waitFor();
    await item.getByRole("combobox", { name: "Spread method for Sheet1!B5" }).selectOption("S");
    await item.getByText("86 → S100").waitFor();
    await page.getByRole("button", { name: "Submit (1)" }).click();
    await item.getByText("Spread to 2 leaf cells; total now 100").waitFor();
    expect([(await serverCell(OSLO)).value, (await serverCell(BERGEN)).value]).toEqual([50, 50]);

    // H typed over Oslo holds it: the next spread leaves it and Bergen absorbs the change
    await typeOver("Sheet1!B2", "H");
    const held = page.getByRole("list", { name: "Held cells" }).getByRole("listitem");
    await held.getByRole("button", { name: "Go to Sheet1!B2" }).waitFor();
    expect(await held.count()).toBe(1);
    await typeOver("Sheet1!B5", 120);
    await item.getByText("100 → 120").waitFor();
    await page.getByRole("button", { name: "Submit (1)" }).click();
    await item.getByText("Spread to 1 leaf cell; total now 120").waitFor();
    expect([(await serverCell(OSLO)).value, (await serverCell(BERGEN)).value]).toEqual([50, 70]);
    expect(await unnamedControls()).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
    await shot("spread");

    await page.getByRole("button", { name: "Release Sheet1!B2" }).click();
    await page.getByRole("list", { name: "Held cells" }).waitFor({ state: "detached" });
    await page.getByRole("status").filter({ hasText: "Released Sheet1!B2" }).waitFor({ state: "attached" });
  });

  test("signs out: sign-in is offered again, the QATOM cells and every call say 'Sign in in the task pane'; signing in as someone else brings them back", async () => {
    await page.evaluate(() => window.qatomTest.select("Sheet1!B2"));
    await selectedHeading("Sheet1!B2").waitFor();
    const before = { b2: await shows("Sheet1!B2"), b5: await shows("Sheet1!B5") };
    expect(before.b2).toEqual({ value: (await serverCell(OSLO)).value });
    expect(before.b5).toEqual({ value: (await serverCell(NORTH)).value });

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText(`Not signed in at ${server.url}`).waitFor();
    await page.getByRole("button", { name: "Sign in", exact: true }).waitFor();
    expect(await page.getByRole("button", { name: "Sign out" }).count()).toBe(0);
    // The functions: every QATOM cell shows #N/A "Sign in in the task pane" (no value stays, looking live).
    await page.waitForFunction(() =>
      ["Sheet1!B2", "Sheet1!B3", "Sheet1!B5"].every((a) => JSON.stringify(window.qatomTest.shows(a)) === JSON.stringify({ error: "Sign in in the task pane" })),
    );
    // The pane: the selected cell, and a write submitted while signed out.
    await page.getByRole("main").getByText("Sign in in the task pane").first().waitFor();
    // Nothing read as Ann stays on screen (her cell's comments and history).
    await page.getByRole("list", { name: "Comments on this cell" }).waitFor({ state: "detached" });
    await page.getByRole("list", { name: "Changes to this cell" }).waitFor({ state: "detached" });
    await typeOver("Sheet1!B2", 51);
    await page.getByRole("button", { name: "Submit (1)" }).click();
    const item = pendingItem("Sheet1!B2");
    await item.getByText("Error", { exact: true }).waitFor();
    await item.getByText("Sign in in the task pane").waitFor();
    expect((await serverCell(OSLO)).value).toBe(before.b2 && "value" in before.b2 ? before.b2.value : Number.NaN); // nothing was written
    expect(await unnamedControls()).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
    await shot("signed-out-calls");

    await page.getByRole("button", { name: "Discard Sheet1!B2" }).click();
    await item.waitFor({ state: "detached" });
    await signInAs("admin");
    await page.getByText("Connected: Demo").waitFor();
    // The streams restart with Ada's token: the cells show their values again, by themselves.
    await page.waitForFunction(
      (expected) => JSON.stringify(window.qatomTest.shows("Sheet1!B2")) === JSON.stringify(expected.b2) && JSON.stringify(window.qatomTest.shows("Sheet1!B5")) === JSON.stringify(expected.b5),
      before,
    );
    await page.getByText("version", { exact: false }).first().waitFor();
    await shot("signed-in-again");
  });

  test("with Entra ID configured: one 'Sign in with Microsoft' button; a sign-in that cannot start says why", async () => {
    // A second pane told that the server signs in with Entra ID (the backend's oidc answer, with the
    // development server's origin); Entra ID itself cannot be reached from tests.
    const oidc = await t.browser.context.newPage();
    try {
      await oidc.route("**/auth/config", (route) =>
        route.fulfill({
          json: {
            mode: "oidc",
            issuer: "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0",
            audience: "11111111-1111-1111-1111-111111111111",
            clientId: "22222222-2222-2222-2222-222222222222",
            scopes: ["api://11111111-1111-1111-1111-111111111111/access_as_user"],
            authority: "https://login.microsoftonline.com/organizations",
          },
        }),
      );
      await oidc.goto(`${server.url}/${PAGE}`);
      const button = oidc.getByRole("button", { name: "Sign in with Microsoft" });
      await button.waitFor();
      expect(await oidc.getByLabel("Sign in as").count()).toBe(0);
      await oidc.getByText(`Not signed in at ${server.url}`).waitFor();
      await oidc.screenshot({ path: path.join(ARTIFACTS, "taskpane-sign-in-microsoft.png"), fullPage: true });
      // This page has no Office: the dialog fallback cannot open, and the pane says so.
      await button.click();
      await oidc.getByText("sign-in with Microsoft could not start", { exact: false }).waitFor();
      await button.waitFor(); // still offered
    } finally {
      await oidc.close();
    }
  });

  test("a formula Excel would not put back after typing is listed with the cell, what was typed and why; Retry puts it back", async () => {
    const formula = '=QATOM.CELL("Demo","[Measures].[Units]",B$1,B$2,$A7,"[Scenario].[Plan]")';
    await page.evaluate((f) => window.qatomTest.restoreRefused("Sheet1!B7", f, "42", 1), formula);
    const list = page.getByRole("list", { name: "Formulas not put back" });
    await list.waitFor();
    const item = list.getByRole("listitem").filter({ has: page.getByRole("button", { name: "Go to Sheet1!B7" }) });
    await item.getByText("Typed: 42").waitFor();
    expect(await item.getByRole("alert").textContent()).toBe("The formula could not be put back: The request could not be processed: Excel is busy.");
    expect(await unnamedControls()).toEqual([]);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(320);
    await shot("restore-failed");

    await item.getByRole("button", { name: "Retry Sheet1!B7" }).click(); // refused once more
    await item.getByText("Tried 2 times; trying again on its own.").waitFor();
    expect(await item.getByRole("alert").textContent()).toBe("The formula could not be put back: GeneralException: The request could not be processed: Excel is busy.");
    await item.getByRole("button", { name: "Retry Sheet1!B7" }).click();
    await list.waitFor({ state: "detached" });
    expect(await page.evaluate(() => window.qatomTest.restored)).toEqual([`Sheet1!B7 ${formula}`]);
  });

  // A write refused by rights: test/taskpane-rights.test.ts (a server with a secured cube).

  // Self-sufficient: run alone (-t "no errors") it still loads and drives the pane before checking,
  // and the check itself fails for a page that logs an error (test/page-errors.test.ts).
  test("the page had no errors", async () => {
    if (await page.getByRole("button", { name: "Sign in", exact: true }).count()) await signInAs("ann");
    await page.getByText("Connected: Demo").waitFor();
    await page.evaluate(async (m) => {
      await window.qatomTest.placeFormula("Sheet1!B6", "Demo", m);
      window.qatomTest.select("Sheet1!B6");
    }, ROME);
    await selectedHeading("Sheet1!B6").waitFor();
    await page.getByRole("heading", { name: "Comments", exact: false }).first().waitFor();
    await page.getByRole("list", { name: "Changes to this cell" }).or(page.getByText("No changes since the data was loaded.")).first().waitFor();
    expectNoPageErrors(t.pageErrors);
  });
});
