/**
 * Stand-ins for the globals Excel gives a shared-runtime add-in, just enough for the functions
 * bundle and addin/src/host.ts: `CustomFunctions` (associate, Error, ErrorCode, streaming
 * invocations: ./custom-functions-stand-in.ts), `OfficeRuntime.storage`, `Office` (`onReady`,
 * requirement sets, the dialog API: ./office-dialog-stand-in.ts), and `Excel.run` over the workbook
 * stand-in (./fake-workbook.ts: cell-edit mode, onChanged and onFormulaChanged as Excel documents
 * them, one invocation for identical calls, undo, styles, structural edits, the 5 MB limit). Each
 * file says which Microsoft page each behaviour follows; this one re-exports them.
 */

import { ErrorCode, StandInError, StreamingInvocationStub } from "./custom-functions-stand-in";

export { ErrorCode, StandInError, StreamingInvocationStub };

type AnyFunction = (...args: unknown[]) => unknown;

/** The CustomFunctions global: `associate` records the functions by id. */
export function customFunctionsStandIn() {
  const functions = new Map<string, AnyFunction>();
  return {
    functions,
    global: {
      Error: StandInError,
      ErrorCode,
      associate(idOrMap: string | Record<string, AnyFunction>, fn?: AnyFunction) {
        if (typeof idOrMap === "string") functions.set(idOrMap.toUpperCase(), fn!);
        else for (const [id, f] of Object.entries(idOrMap)) functions.set(id.toUpperCase(), f);
      },
    },
  };
}

/** OfficeRuntime.storage over a Map. */
export function storageStandIn(initial: Record<string, string> = {}) {
  const items = new Map(Object.entries(initial));
  return {
    items,
    async getItem(key: string) {
      return items.get(key) ?? null;
    },
    async setItem(key: string, value: string) {
      items.set(key, value);
    },
    async removeItem(key: string) {
      items.delete(key);
    },
  };
}

/** The workbook (cells, events, undo, structural edits) lives in its own file; re-exported here. */
export * from "./fake-workbook";

/** Polls `cond` until it holds or `timeoutMs` passes; resolves to the time it took (ms). */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what = "a condition"): Promise<number> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - t0;
}

/** The `Office` global (requirement sets, the dialog API) lives in its own file; re-exported here. */
export * from "./office-dialog-stand-in";

/**
 * Office.Settings (the workbook's own settings) as documented: `get` gives null for a missing name,
 * `set` changes memory (a copy of the value, as it is saved as JSON), `save` (saveAsync) keeps what
 * was set, here in `saved`.
 * @see https://learn.microsoft.com/javascript/api/office/office.settings
 */
export function documentSettingsStandIn(initial: Record<string, unknown> = {}) {
  const memory = new Map(Object.entries(initial));
  const saved: Record<string, unknown> = {};
  const settings = {
    get: (name: string) => memory.get(name) ?? null,
    set: (name: string, value: unknown) => void memory.set(name, JSON.parse(JSON.stringify(value))),
    save: async () => {
      for (const [k, v] of memory) saved[k] = v;
    },
  };
  return { settings, saved };
}
