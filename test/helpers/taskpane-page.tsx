/**
 * The task pane test page: mounts the real pane with the real shared runtime (addin/src's context:
 * settings, pending writes, the formula registry, Connect clients against the page's origin), and
 * a fake sheet in place of Office at the two host modules. `window.qatomTest` drives the sheet.
 * Bundled by esbuild in test/taskpane.test.ts.
 */
import { useState } from "react";
import { createRoot } from "react-dom/client";
import { WriteStatus } from "../../proto/gen/quantatom/v1/lattice_pb";
import { createAddinContext } from "../../addin/src/context";
import type { FormulaHandle } from "../../addin/src/contracts";
import type { Host, KeyValueStorage } from "../../addin/src/host";
import { TaskpaneApp } from "../../taskpane/src/App";
import type { SelectedCell, TaskpaneHost } from "../../taskpane/src/host";
import "./taskpane-page-api";

/** Writes of formulas Excel is to refuse next, and the formulas put back (`address formula`). */
let refusals = 0;
const restored: string[] = [];

/** The runtime's Office surface in a plain page: no Office, storage in memory. */
const items = new Map<string, string>();
const storage: KeyValueStorage = {
  getItem: async (k) => items.get(k) ?? null,
  setItem: async (k, v) => {
    items.set(k, v);
  },
};
/** The workbook's settings as Office.context.document.settings keeps them (get, set, saveAsync), in memory. */
const documentSettings = new Map<string, unknown>();
const runtimeHost: Host = {
  ready: async () => false,
  storage,
  documentSettings: () => ({
    get: (name) => documentSettings.get(name) ?? null,
    set: (name, value) => {
      documentSettings.set(name, JSON.parse(JSON.stringify(value)));
    },
    save: async () => undefined,
  }),
  pageOrigin: () => location.origin,
  readCells: async () => [],
  async writeFormulas(cells) {
    if (refusals > 0) {
      refusals--;
      throw Object.assign(new Error("The request could not be processed: Excel is busy."), { code: "GeneralException" });
    }
    for (const c of cells) restored.push(`${c.address} ${c.formula}`);
  },
  readAndRestore: async () => [],
  onSheetChanged: async () => async () => undefined,
  onFormulaChanged: async () => null,
  onSheetStructure: async () => async () => undefined,
  isSetSupported: () => false,
  displayDialog: async () => {
    throw new Error("no Office dialog in the test page");
  },
  messageParent: () => {
    throw new Error("the test page is not a dialog");
  },
};
// Retries of formulas not put back wait a minute: the test clicks Retry.
const ctx = createAddinContext({ host: runtimeHost, restoreRetryMs: [60_000] });

/** The fake sheet: formulas opened as Excel's QATOM.CELL invocations would, and one selected cell. */
const formulas = new Map<string, FormulaHandle>();
const shown = new Map<string, { value: number } | { error: string }>();
let selected = "Sheet1!A1";
const listeners = new Set<() => void>();
const wentTo: string[] = [];

const host: TaskpaneHost = {
  async getSelectedCell(): Promise<SelectedCell> {
    return { address: selected, cell: ctx.formulaCells.find(selected) ?? null };
  },
  onSelectionChanged(fn) {
    listeners.add(fn);
    return () => listeners.delete(fn);
  },
  async selectCell(address) {
    wentTo.push(address);
    window.qatomTest.select(address);
  },
};

window.qatomTest = {
  placeFormula(address, cube, members) {
    return new Promise((resolve, reject) => {
      if (formulas.has(address)) throw new Error(`${address} already holds a formula`);
      let first = true;
      const handle = ctx.openCell({ cube, members }, address, (outcome) => {
        shown.set(address, outcome.ok ? { value: outcome.snapshot.value ?? 0 } : { error: outcome.error.message });
        if (!first) return;
        first = false;
        if (outcome.ok) resolve();
        else reject(new Error(outcome.error.message));
      });
      formulas.set(address, handle);
    });
  },
  select(address) {
    selected = address;
    for (const fn of [...listeners]) fn();
  },
  type(address, value) {
    if (!ctx.formulaCells.find(address)) throw new Error(`no formula at ${address}`);
    ctx.typeOver(address, value);
  },
  restoreRefused(address, formula, typed, times) {
    refusals = times;
    ctx.restores.failed([{ address, formula }], new Map([[address, typed]]), new Error("The request could not be processed: Excel is busy."));
  },
  restored,
  wentTo,
  shows: (address) => shown.get(address) ?? null,
  async getCells(cube, cells) {
    const res = await (await ctx.api()).lattice.getCells({ cube, cells: cells.map((members) => ({ members })) });
    return res.cells.map((c) => ({ value: c.value ?? null, version: c.version.toString() }));
  },
  async writeCell(cube, members, value, baseVersion) {
    const res = await (await ctx.api()).lattice.writeCells({ cube, writes: [{ members, value, baseVersion: BigInt(baseVersion) }] });
    return { status: WriteStatus[res.results[0].status], version: res.results[0].version.toString() };
  },
};

function Page({ initial }: { initial: Awaited<ReturnType<typeof ctx.getSettings>> }) {
  const [settings, setSettings] = useState(initial);
  return <TaskpaneApp host={host} pending={ctx.pendingWrites} holds={ctx.holds} sandboxes={ctx.sandboxes} restores={ctx.restores} auth={ctx.auth} feed={ctx} settings={settings} onSaveSettings={async (s) => setSettings(await ctx.saveSettings(s))} />;
}

ctx.getSettings().then((initial) => createRoot(document.getElementById("root")!).render(<Page initial={initial} />));
