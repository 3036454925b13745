import type { AuthState, PendingStatus, PendingWrite, PendingWrites } from "./contracts";
import type { CommandEvent, Host, RibbonUpdate } from "./host";
import { ObservableValue } from "./observable";
import { RIBBON_CONTROLS, type RibbonContext, ribbonState, startRibbon } from "./ribbon";

const SIGNED_IN = { status: "signedIn", serverUrl: "https://x", config: { mode: "development", users: [] }, via: "development", user: { id: "ann", name: "Ann" } } as unknown as AuthState;
const SIGNED_OUT = { status: "signedOut", serverUrl: "https://x", config: { mode: "development", users: [] }, via: "development" } as unknown as AuthState;

function write(address: string, status: PendingStatus): PendingWrite {
  return { id: address.toLowerCase(), address, cube: "Demo", members: [], consolidated: false, value: 1, seenValue: 0, baseVersion: 0n, status };
}

/** Pending writes as a list the test sets; submit() marks the waiting ones with `outcome`. */
function fakePending(outcome: PendingStatus = "applied") {
  let items: PendingWrite[] = [];
  const listeners = new Set<() => void>();
  const set = (next: PendingWrite[]) => {
    items = next;
    for (const fn of [...listeners]) fn();
  };
  const pending = {
    list: () => items,
    subscribe(fn: () => void) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    discard: jest.fn((ids?: string[]) => set(items.filter((w) => ids && !ids.includes(w.id)))),
    submit: jest.fn(async () => set(items.map((w) => (w.status === "pending" || w.status === "error" ? { ...w, status: outcome } : w)))),
  } as unknown as PendingWrites & { discard: jest.Mock; submit: jest.Mock };
  return { pending, set };
}

function fakeHost(opts: { ribbonApi?: boolean; refuse?: boolean } = {}) {
  const updates: RibbonUpdate[] = [];
  const actions = new Map<string, (event?: CommandEvent) => unknown>();
  let shown = 0;
  const host = {
    isSetSupported: (name: string) => name === "RibbonApi" && opts.ribbonApi !== false,
    requestRibbonUpdate: jest.fn(async (u: RibbonUpdate) => {
      if (opts.refuse) throw Object.assign(new Error("HostRestartNeeded"), { code: "HostRestartNeeded" });
      updates.push(u);
    }),
    associateAction: (id: string, fn: (event?: CommandEvent) => unknown) => {
      actions.set(id, fn);
      return true;
    },
    showTaskpane: async () => {
      shown++;
    },
  } as unknown as Host;
  /** Which controls the last update enabled. */
  const enabled = () => updates.at(-1)?.tabs[0].groups.flatMap((g) => g.controls.filter((c) => c.enabled).map((c) => c.id)) ?? [];
  /** Runs a button's action as Office does; resolves to how often completed() was called. */
  const click = async (id: string) => {
    let completed = 0;
    await actions.get(id)!({ completed: () => completed++ });
    return completed;
  };
  return { host, updates, actions, enabled, click, shown: () => shown };
}

function setup(opts: { ribbonApi?: boolean; refuse?: boolean; outcome?: PendingStatus } = {}) {
  const { pending, set } = fakePending(opts.outcome);
  const auth = new ObservableValue<AuthState>({ status: "loading", serverUrl: "" });
  const refresh = jest.fn();
  const ctx = { pendingWrites: pending, auth: { state: auth }, refresh } as unknown as RibbonContext;
  const h = fakeHost(opts);
  const stop = startRibbon(ctx, h.host);
  return { ...h, pending, set, auth, refresh, stop };
}

describe("the ribbon's enabled state", () => {
  it("follows the Excel user: Sign in while signed out; Refresh once signed in; Submit and Discard while a change waits", () => {
    expect(ribbonState([], SIGNED_OUT)).toEqual({ submit: false, discard: false, refresh: false, signIn: true });
    expect(ribbonState([], SIGNED_IN)).toEqual({ submit: false, discard: false, refresh: true, signIn: false });
    // a C over a consolidated cell waiting for the pane's confirmation: nothing to submit yet, but it can be discarded
    const clear = { id: "sheet1!b2", address: "Sheet1!B2", cube: "Demo", members: ["[Region].[North]"], consolidated: true, value: null, seenValue: 5, baseVersion: 1n, status: "pending" as const, confirm: "C clears..." };
    expect(ribbonState([clear], SIGNED_IN)).toMatchObject({ submit: false, discard: true });
    expect(ribbonState([{ ...clear, confirm: undefined }], SIGNED_IN)).toMatchObject({ submit: true });
    expect(ribbonState([write("B2", "pending")], SIGNED_IN)).toEqual({ submit: true, discard: true, refresh: true, signIn: false });
    // Nobody signed in: a waiting change can be discarded, not submitted.
    expect(ribbonState([write("B2", "pending")], SIGNED_OUT)).toEqual({ submit: false, discard: true, refresh: false, signIn: true });
    // While a Submit runs, neither; a refused change can only be discarded; results are the pane's.
    expect(ribbonState([write("B2", "submitting"), write("B3", "pending")], SIGNED_IN)).toMatchObject({ submit: false, discard: false });
    expect(ribbonState([write("B2", "rejected")], SIGNED_IN)).toMatchObject({ submit: false, discard: true });
    expect(ribbonState([write("B2", "applied"), write("B3", "conflict")], SIGNED_IN)).toMatchObject({ submit: false, discard: false });
  });

  it("is sent once when the runtime starts, then only when it changes", () => {
    const r = setup();
    expect(r.updates).toHaveLength(1);
    expect(r.enabled()).toEqual([]);
    expect(r.updates[0].tabs[0].groups.map((g) => g.id)).toEqual(["Quantatom.Changes", "Quantatom.Pane"]);
    r.auth.set(SIGNED_OUT);
    expect(r.enabled()).toEqual([RIBBON_CONTROLS.signIn.id]);
    r.auth.set({ ...SIGNED_OUT, message: "Your sign-in expired" } as AuthState); // same buttons: nothing sent
    r.set([]);
    expect(r.updates).toHaveLength(2);
    r.auth.set(SIGNED_IN);
    r.set([write("B2", "pending")]);
    expect(r.enabled()).toEqual([RIBBON_CONTROLS.submit.id, RIBBON_CONTROLS.discard.id, RIBBON_CONTROLS.refresh.id]);
    r.set([write("B2", "pending"), write("B3", "pending")]);
    expect(r.updates).toHaveLength(4);
    r.stop();
    r.set([]);
    expect(r.updates).toHaveLength(4);
  });

  it("is never sent where Office lacks RibbonApi 1.1, and a button run anyway checks it", async () => {
    const info = jest.spyOn(console, "info").mockImplementation(() => {});
    try {
      const r = setup({ ribbonApi: false });
      r.auth.set(SIGNED_IN);
      expect(r.host.requestRibbonUpdate).not.toHaveBeenCalled();
      expect(await r.click(RIBBON_CONTROLS.submit.id)).toBe(1); // nothing waits: nothing sent
      expect(r.pending.submit).not.toHaveBeenCalled();
      expect(await r.click(RIBBON_CONTROLS.discard.id)).toBe(1);
      expect(r.pending.discard).not.toHaveBeenCalled();
      expect(info).toHaveBeenCalledWith("quantatom: Quantatom.Discard does nothing now");
    } finally {
      info.mockRestore();
    }
  });

  it("logs an update Office refuses, without throwing, and tries again at the next change", async () => {
    const warn = jest.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const r = setup({ refuse: true });
      await new Promise((resolve) => setImmediate(resolve));
      expect(warn).toHaveBeenCalledWith("quantatom: the ribbon could not be updated", expect.any(Error));
      r.set([]); // the same state, but the last one never arrived: sent again
      expect(r.host.requestRibbonUpdate).toHaveBeenCalledTimes(2);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warn).toHaveBeenCalledTimes(2);
    } finally {
      warn.mockRestore();
    }
  });
});

describe("the ribbon's buttons", () => {
  it("Submit sends the waiting changes, and calls completed(); the keyboard shortcut (no event) does the same", async () => {
    const r = setup();
    r.auth.set(SIGNED_IN);
    r.set([write("B2", "pending"), write("B3", "rejected")]);
    expect(await r.click(RIBBON_CONTROLS.submit.id)).toBe(1);
    expect(r.pending.submit).toHaveBeenCalledTimes(1);
    expect(r.enabled()).toEqual([RIBBON_CONTROLS.discard.id, RIBBON_CONTROLS.refresh.id]); // B3 is still refused
    expect(r.shown()).toBe(0);
    r.set([write("B4", "pending")]);
    await r.actions.get(RIBBON_CONTROLS.submit.id)!();
    expect(r.pending.submit).toHaveBeenCalledTimes(2);
  });

  it("Submit opens the task pane when a change comes back as a conflict, and when nobody is signed in", async () => {
    const r = setup({ outcome: "conflict" });
    r.auth.set(SIGNED_IN);
    r.set([write("B2", "pending")]);
    await r.click(RIBBON_CONTROLS.submit.id);
    expect(r.shown()).toBe(1);
    r.auth.set(SIGNED_OUT);
    r.set([write("B3", "pending")]);
    expect(await r.click(RIBBON_CONTROLS.submit.id)).toBe(1);
    expect(r.pending.submit).toHaveBeenCalledTimes(1);
    expect(r.shown()).toBe(2);
  });

  it("Discard drops the changes not yet submitted and keeps results and conflicts", async () => {
    const r = setup();
    r.set([write("B2", "pending"), write("B3", "rejected"), write("B4", "applied"), write("B5", "conflict"), write("B6", "error")]);
    await r.click(RIBBON_CONTROLS.discard.id);
    expect(r.pending.discard).toHaveBeenCalledWith(["b2", "b3", "b6"]);
    expect(r.pending.list().map((w) => w.address)).toEqual(["B4", "B5"]);
  });

  it("Refresh reads everything again; Sign in shows the task pane", async () => {
    const r = setup();
    r.auth.set(SIGNED_IN);
    await r.click(RIBBON_CONTROLS.refresh.id);
    expect(r.refresh).toHaveBeenCalledTimes(1);
    r.auth.set(SIGNED_OUT);
    await r.click(RIBBON_CONTROLS.signIn.id);
    expect(r.shown()).toBe(1);
  });

  it("a failing command is logged and still calls completed()", async () => {
    const error = jest.spyOn(console, "error").mockImplementation(() => {});
    try {
      const r = setup();
      r.auth.set(SIGNED_IN);
      r.set([write("B2", "pending")]);
      r.pending.submit.mockRejectedValueOnce(new Error("Not connected to https://x"));
      expect(await r.click(RIBBON_CONTROLS.submit.id)).toBe(1);
      expect(error).toHaveBeenCalledWith("quantatom: Quantatom.Submit failed", expect.any(Error));
    } finally {
      error.mockRestore();
    }
  });
});
