/**
 * The ribbon test page: the real shared runtime (addin/src's context, sign-in, pending writes,
 * Connect clients against the page's origin, and addin/src/ribbon.ts started by `start()`), with
 * Office's ribbon, add-in commands and shortcuts played by ./ribbon-stand-in.ts through the real
 * host module (`officeHost` over the stand-in's `Office` global). The manifest's tab comes from the
 * test as `window.qatomRibbonModel`; `window.qatomRibbon` drives the rest. Bundled by esbuild in
 * test/ribbon.test.ts.
 */
import { createAddinContext } from "../../addin/src/context";
import type { FormulaHandle } from "../../addin/src/contracts";
import { type Host, type KeyValueStorage, officeHost } from "../../addin/src/host";
import { type RibbonModel, type RibbonRecord, ribbonStandIn } from "./ribbon-stand-in";

/** What the page offers the test. */
export interface RibbonTestApi {
  /** Puts a QATOM.CELL formula at `address`; resolves once its first value arrived. */
  placeFormula(address: string, cube: string, members: string[]): Promise<void>;
  /** Types a number over a formula cell, as the worksheet handler reads it: a pending write. */
  type(address: string, value: number): void;
  /** The pane's sign-in buttons: as development user `user`, and out. */
  signIn(user: string): Promise<void>;
  signOut(): Promise<void>;
  /** The runtime's sign-in status. */
  authStatus(): string;
  /** The pending writes' `address status`. */
  pending(): string[];
  /** Whether Office shows the control enabled. */
  isEnabled(id: string): boolean;
  /** What the stand-in recorded. */
  record: RibbonRecord;
  /** Calls the stand-in's `Office.ribbon.requestUpdate` as an add-in would; resolves to Office's refusal, or null. */
  requestUpdate(input: unknown): Promise<string | null>;
}

declare global {
  interface Window {
    qatomRibbonModel: RibbonModel;
    qatomRibbon: RibbonTestApi;
  }
}

const items = new Map<string, string>();
const storage: KeyValueStorage = {
  getItem: async (k) => items.get(k) ?? null,
  setItem: async (k, v) => {
    items.set(k, v);
  },
};

const standIn = ribbonStandIn(window.qatomRibbonModel);
const office = officeHost({ Office: standIn.Office });
/** Office is ready, with no workbook to read: the runtime starts its ribbon and nothing else. */
const host: Host = {
  ready: async () => true,
  storage,
  pageOrigin: () => location.origin,
  readCells: async () => [],
  writeFormulas: async () => {},
  readAndRestore: async () => [],
  onSheetChanged: async () => async () => undefined,
  onFormulaChanged: async () => null,
  onSheetStructure: async () => async () => undefined,
  isSetSupported: office.isSetSupported,
  displayDialog: async () => {
    throw new Error("no Office dialog in the test page");
  },
  messageParent: () => {
    throw new Error("the test page is not a dialog");
  },
  requestRibbonUpdate: office.requestRibbonUpdate,
  associateAction: office.associateAction,
  showTaskpane: office.showTaskpane,
};
const ctx = createAddinContext({ host });

const formulas = new Map<string, FormulaHandle>();
window.qatomRibbon = {
  placeFormula(address, cube, members) {
    return new Promise((resolve, reject) => {
      let first = true;
      formulas.set(
        address,
        ctx.openCell({ cube, members }, address, (outcome) => {
          if (!first) return;
          first = false;
          if (outcome.ok) resolve();
          else reject(new Error(outcome.error.message));
        }),
      );
    });
  },
  type(address, value) {
    const outcome = ctx.typeOver(address, value);
    if (outcome.kind !== "writes") throw new Error(`typing ${value} over ${address} made no pending write (${outcome.kind})`);
  },
  async signIn(user) {
    await ctx.auth.signIn({ user });
  },
  signOut: () => ctx.auth.signOut(),
  authStatus: () => ctx.auth.state.get().status,
  pending: () => ctx.pendingWrites.list().map((w) => `${w.address} ${w.status}`),
  isEnabled: standIn.isEnabled,
  record: standIn.record,
  requestUpdate: (input) =>
    standIn.Office.ribbon.requestUpdate(input as never).then(
      () => null,
      (err: Error) => err.message,
    ),
};

standIn.render(document.getElementById("root")!);
standIn.listen(document);
void ctx.start();
