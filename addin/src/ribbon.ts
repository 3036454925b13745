/**
 * The QuantatomAI ribbon tab (manifest.xml's `CustomTab`) and the Submit keyboard shortcut
 * (addin/public/shortcuts.json): what each button runs in the shared runtime, and which buttons are
 * enabled as pending changes and the sign-in change.
 *
 * - **Submit** (and Ctrl+Alt+Shift+S) sends the pending changes, as the pane's Submit does. Signed
 *   out, it opens the task pane instead (only the pane signs in). When a write comes back as a
 *   conflict, refused or failed, the pane opens so that the user sees why.
 * - **Discard** drops the changes not yet submitted (`pending`, `error`, `rejected`) at once,
 *   without asking: the pane's Discard all does not ask either, and a ribbon command has no dialog
 *   of its own (an Office dialog for a confirmation would be a page of its own to load). Results of
 *   applied writes and conflicts stay in the pane, where the user reads or decides them.
 * - **Refresh** reads every QATOM cell and comment again (`AddinContext.refresh`).
 * - **Sign in** shows the task pane (`Office.addin.showAsTaskpane`): the pane signs in.
 * - **Task pane** is the manifest's own ShowTaskpane action; it is always enabled.
 *
 * Enabled: Submit when someone is signed in and a change waits (`pending`, or `error`: never
 * applied, Submit sends it again) and nothing is being submitted; Discard when a change not yet
 * submitted is listed and nothing is being submitted; Refresh when someone is signed in; Sign in when
 * nobody is (signed out, or the server's sign-in could not be read: the pane says why). The manifest
 * starts Submit, Discard, Refresh and Sign in disabled; the runtime sends their state once Office
 * is ready, then again only when it changes. Where Office lacks RibbonApi 1.1 every button stays
 * enabled (Microsoft: "all custom add-in commands are enabled all of the time"), so each handler
 * checks the state itself, as Microsoft advises, and re-sends it when a disabled button ran.
 *
 * The ids are the manifest's (test/ribbon.test.ts checks them against manifest.xml and
 * shortcuts.json); Office refuses an update that names an id the manifest does not declare.
 *
 * @see https://learn.microsoft.com/office/dev/add-ins/design/disable-add-in-commands
 * @see https://learn.microsoft.com/office/dev/add-ins/design/keyboard-shortcuts
 * @see https://learn.microsoft.com/office/dev/add-ins/develop/create-addin-commands
 */
import type { AddinContext, AuthState, PendingStatus, PendingWrite } from "./contracts";
import type { CommandEvent, Host, RibbonUpdate } from "./host";

/** The manifest's CustomTab id. */
export const RIBBON_TAB = "Quantatom.Tab";

/**
 * The controls the runtime enables and disables, by manifest id, with the id of the group that
 * holds each. Each one's ExecuteFunction `FunctionName` is its id too (the action Office runs).
 */
export const RIBBON_CONTROLS = {
  submit: { id: "Quantatom.Submit", group: "Quantatom.Changes" },
  discard: { id: "Quantatom.Discard", group: "Quantatom.Changes" },
  refresh: { id: "Quantatom.Refresh", group: "Quantatom.Changes" },
  signIn: { id: "Quantatom.SignIn", group: "Quantatom.Pane" },
} as const;

/** A command of the tab. */
export type RibbonCommand = keyof typeof RIBBON_CONTROLS;

/** Which commands may run now. */
export type RibbonState = Record<RibbonCommand, boolean>;

/** The state the manifest starts with (`<Enabled>false</Enabled>` on each). */
export const MANIFEST_STATE: RibbonState = { submit: false, discard: false, refresh: false, signIn: false };

/** Statuses of a change not yet submitted: what Discard drops. */
const UNSENT: ReadonlySet<PendingStatus> = new Set(["pending", "error", "rejected"]);

/** Statuses Submit sends (the pane's Submit counts the same). */
const WAITING: ReadonlySet<PendingStatus> = new Set(["pending", "error"]);

/** Statuses after a Submit that the user has to see in the pane. */
const NEEDS_ATTENTION: ReadonlySet<PendingStatus> = new Set(["conflict", "rejected", "error"]);

/** Which commands may run, from the pending changes and the sign-in (see the module comment). */
export function ribbonState(writes: readonly PendingWrite[], auth: AuthState): RibbonState {
  const signedIn = auth.status === "signedIn";
  const submitting = writes.some((w) => w.status === "submitting");
  return {
    // A C over a consolidated cell that waits for the pane's confirmation is not sent yet.
    submit: signedIn && !submitting && writes.some((w) => WAITING.has(w.status) && !(w.status === "pending" && w.confirm)),
    discard: !submitting && writes.some((w) => UNSENT.has(w.status)),
    refresh: signedIn,
    signIn: auth.status === "signedOut" || auth.status === "unavailable",
  };
}

/** The `Office.ribbon.requestUpdate` input for a state: every control, under its group and the tab. */
export function ribbonUpdate(state: RibbonState): RibbonUpdate {
  const groups = new Map<string, { id: string; enabled: boolean }[]>();
  for (const [command, control] of Object.entries(RIBBON_CONTROLS) as [RibbonCommand, (typeof RIBBON_CONTROLS)[RibbonCommand]][]) {
    const controls = groups.get(control.group) ?? [];
    controls.push({ id: control.id, enabled: state[command] });
    groups.set(control.group, controls);
  }
  return { tabs: [{ id: RIBBON_TAB, groups: [...groups].map(([id, controls]) => ({ id, controls })) }] };
}

/** What the ribbon needs of the runtime. */
export type RibbonContext = Pick<AddinContext, "pendingWrites" | "auth" | "refresh">;

/**
 * Associates the tab's actions with the runtime and keeps the buttons' enabled state current.
 * Call once Office is ready (`Host.ready()`); the runtime's `start()` does.
 * @returns a function that stops following the state (the associations stay: Office has no API to undo them).
 * @example const stop = startRibbon(getAddinContext(), officeHost());
 */
export function startRibbon(ctx: RibbonContext, host: Host): () => void {
  if (!host.associateAction) return () => {};
  const showPane = async () => {
    if (!host.showTaskpane) throw new Error("this host cannot show the task pane");
    await host.showTaskpane();
  };

  /** The state last sent to Office as JSON (null: send the next one whatever it is). */
  let sent: string | null = null;
  const current = () => ribbonState(ctx.pendingWrites.list(), ctx.auth.state.get());
  const update = () => {
    const state = current();
    const key = JSON.stringify(state);
    if (key === sent || !host.requestRibbonUpdate || !host.isSetSupported("RibbonApi", "1.1")) return;
    sent = key;
    host.requestRibbonUpdate(ribbonUpdate(state)).catch((err: unknown) => {
      // e.g. HostRestartNeeded after an upgrade of the add-in: logged, and tried again at the next change.
      sent = null;
      console.warn("quantatom: the ribbon could not be updated", err);
    });
  };

  /** A command ran while it should not have (a stale ribbon, or a shortcut): log, and send the state again. */
  const notNow = (command: RibbonCommand) => {
    console.info(`quantatom: ${RIBBON_CONTROLS[command].id} does nothing now`);
    sent = null;
    update();
  };

  const handlers: Record<RibbonCommand, () => Promise<void>> = {
    async submit() {
      if (ctx.auth.state.get().status !== "signedIn") return showPane();
      if (!current().submit) return notNow("submit");
      const sending = new Set(ctx.pendingWrites.list().filter((w) => WAITING.has(w.status)).map((w) => w.id));
      await ctx.pendingWrites.submit();
      if (ctx.pendingWrites.list().some((w) => sending.has(w.id) && NEEDS_ATTENTION.has(w.status))) await showPane();
    },
    async discard() {
      if (!current().discard) return notNow("discard");
      ctx.pendingWrites.discard(ctx.pendingWrites.list().filter((w) => UNSENT.has(w.status)).map((w) => w.id));
    },
    async refresh() {
      if (!current().refresh) return notNow("refresh");
      ctx.refresh();
    },
    async signIn() {
      await showPane();
    },
  };

  for (const [command, run] of Object.entries(handlers) as [RibbonCommand, () => Promise<void>][]) {
    // A button passes an event whose completed() Office waits for; a shortcut passes none. The
    // promise is returned for the shortcut's sake (Microsoft's examples return it).
    host.associateAction(RIBBON_CONTROLS[command].id, (event?: CommandEvent) =>
      run()
        .catch((err: unknown) => console.error(`quantatom: ${RIBBON_CONTROLS[command].id} failed`, err))
        .finally(() => event?.completed()),
    );
  }

  const stops = [ctx.pendingWrites.subscribe(update), ctx.auth.state.subscribe(update)];
  update();
  return () => {
    for (const stop of stops) stop();
  };
}
