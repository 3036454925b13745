/**
 * The shared runtime's one AddinContext. The functions bundle and the task pane bundle are loaded
 * into the same page (SharedRuntime 1.1), each with its own copy of this module, so the instance
 * lives on `globalThis` under a registered symbol: whichever bundle asks first creates it, and both
 * get the same one.
 *
 * @see https://learn.microsoft.com/office/dev/add-ins/develop/configure-your-add-in-to-use-a-shared-runtime
 */
import { AuthSession } from "./auth/session";
import type { MsalFactory } from "./auth/naa-provider";
import type { RenewalOptions } from "./auth/token-provider";
import { WaveBatcher } from "./batcher";
import { CellFeed, type ConnectionReporter } from "./cells";
import { CommentFeed, type CommentOptions, DEFAULT_COMMENT_OPTIONS } from "./comments";
import type { AddinContext, ConnectionSettings, ConnectionState, QatomApi } from "./contracts";
import { AddinError, isNetworkFailure, toQatomError } from "./errors";
import { DEFAULT_FORMULA_CELL_OPTIONS, FormulaCellRegistry, type FormulaCellOptions } from "./formula-cells";
import { HoldsStore } from "./holds";
import { type Host, officeHost } from "./host";
import { MemberRelation } from "../../proto/gen/quantatom/v1/lattice_pb";
import { ObservableValue, refKey } from "./observable";
import { PendingWritesStore } from "./pending-writes";
import { watchProtocol } from "./protocol";
import { RestoreProblems } from "./restores";
import { SandboxMarks } from "./sandbox-marks";
import { WorkbookSandboxes } from "./sandboxes";
import { startRibbon } from "./ribbon";
import { loadSettings, normalizeSettings, storeSettings } from "./settings";
import { DEFAULT_STREAM_OPTIONS, type StreamOptions, StreamRegistry } from "./streams";
import { createApi } from "./transport";
import { parseRange } from "./address";
import { PendingMarks } from "./pending-marks";
import { PendingPreview } from "./pending-preview";
import { WorkbookReports } from "./reports/workbook-reports";
import { createSheetEditHandlers } from "./sheet-edits";
import { applyTyped, typedContent } from "./writeback";

/** The key of the shared instance on `globalThis`. */
export const CONTEXT_KEY = Symbol.for("quantatom.addin.context");

/**
 * The key of optional `AddinOptions` on `globalThis`, read when the shared instance is created
 * (tests and diagnostics set it before loading a bundle; Excel never does).
 */
export const OPTIONS_KEY = Symbol.for("quantatom.addin.options");

/** Most members QATOM.MEMBERS lists (the server's GetMembers limit). */
export const MAX_MEMBERS = 100_000;

/** Everything tunable; the defaults suit Excel. */
export interface AddinOptions {
  /** The Office surface (default: the real Office globals). */
  host?: Host;
  /** The fetch to send requests with (default: `globalThis.fetch` at each call). */
  fetch?: typeof fetch;
  /** Makes MSAL's nested application for Entra ID sign-in (default MSAL's own; tests pass theirs). */
  msal?: MsalFactory;
  /** When tokens are renewed (default: 2 minutes before they expire). */
  renewal?: Partial<RenewalOptions>;
  /** How long the wave batcher collects QATOM.CELL reads after the first one (default 16 ms). */
  batchWindowMs?: number;
  streams?: Partial<StreamOptions>;
  comments?: Partial<CommentOptions>;
  formulaCells?: Partial<FormulaCellOptions>;
  /** Delays before retrying a formula that could not be put back (default 1 s, 5 s, then every 30 s). */
  restoreRetryMs?: readonly number[];
}

/** An AddinContext with the internals tests and diagnostics may look at. */
export interface AddinRuntime extends AddinContext {
  /** Cells of a cube that running WatchCells streams watch (their first message has arrived). */
  streamedCellCount(cube: string): number;
}

/** Makes a context (normally once per runtime: use `getAddinContext`). */
export function createAddinContext(options: AddinOptions = {}): AddinRuntime {
  const host = options.host ?? officeHost();
  let settings: Promise<ConnectionSettings> | null = null;
  let api: Promise<QatomApi> | null = null;
  let serverUrl = "";
  const getSettings = () => {
    settings ??= loadSettings(host);
    return settings;
  };
  const auth = new AuthSession({ host, serverUrl: async () => (await getSettings()).serverUrl, fetch: options.fetch, msal: options.msal, renewal: options.renewal });
  const getApi = () => {
    api ??= getSettings().then((s) => {
      const a = createApi(s.serverUrl, { tokens: auth, fetch: options.fetch });
      serverUrl = a.serverUrl;
      return a;
    });
    return api;
  };

  const connection = new ObservableValue<ConnectionState>({ status: "unknown", serverUrl: "" });
  // Changes fields of the connection state (undefined drops one); subscribers hear only of a change.
  const updateConnection = (patch: Partial<ConnectionState>) => {
    const now = connection.get();
    const next = { ...now, ...patch };
    for (const k of Object.keys(next) as (keyof ConnectionState)[]) if (next[k] === undefined) delete next[k];
    if (JSON.stringify(next) !== JSON.stringify(now)) connection.set(next);
  };
  const reporter: ConnectionReporter = {
    succeeded() {
      updateConnection({ status: "connected", serverUrl, message: undefined });
    },
    failed(err, url) {
      if (isNetworkFailure(err)) updateConnection({ status: "disconnected", serverUrl: url, message: toQatomError(err, url).message });
    },
  };
  // Which protocol answers (h2: every stream and call on one connection), for the pane's line.
  const stopWatchingProtocol = watchProtocol(() => serverUrl, (protocol) => updateConnection({ protocol }));

  // The sandbox of each cube (./sandboxes.ts): reads, streams and writes go through it.
  const sandboxes = new WorkbookSandboxes(() => host.documentSettings?.() ?? null);
  sandboxes.load();
  const sandboxOf = (cube: string) => sandboxes.of(cube);
  const batcher = new WaveBatcher(async (cube, cells) => {
    const a = await getApi();
    const res = await a.lattice.getCells({ cube, cells: cells.map((members) => ({ members })), sandbox: sandboxOf(cube) });
    return res.cells;
  }, options.batchWindowMs ?? 16);
  const feed = new CellFeed(batcher, async () => (await getApi()).serverUrl, reporter);
  const streams = new StreamRegistry(
    getApi,
    feed,
    { ...DEFAULT_STREAM_OPTIONS, ...options.streams },
    () => updateConnection({ streams: streams.liveStreams(), retryAt: streams.nextRetryAt() ?? undefined }),
    sandboxOf,
  );
  // Another sandbox (or the base): every stream starts again, and its first message re-sends every cell.
  const stopWatchingSandboxes = sandboxes.subscribe(() => streams.restartAll());
  feed.attach(streams);
  const comments = new CommentFeed(getApi, reporter, { ...DEFAULT_COMMENT_OPTIONS, ...options.comments });
  const formulaCells = new FormulaCellRegistry(
    async (addresses) => {
      if (!(await host.ready())) return new Map();
      const cells = await host.readCells(addresses);
      return new Map(cells.map((c) => [c.address, c.formula]));
    },
    { ...DEFAULT_FORMULA_CELL_OPTIONS, ...options.formulaCells },
  );
  const holds = new HoldsStore();
  const pendingWrites = new PendingWritesStore(getApi, holds, sandboxOf);
  const restores = new RestoreProblems((cells) => host.writeFormulas(cells), options.restoreRetryMs);
  const preview = new PendingPreview(pendingWrites);
  const marks = new PendingMarks(host, pendingWrites);
  const sandboxMarks = new SandboxMarks(host, formulaCells, marks);
  const reports = new WorkbookReports({
    settings: () => host.documentSettings?.() ?? null,
    write: (cells) => host.writeFormulas(cells),
    move: (move) => pendingWrites.moveAddresses(move),
    read: async (addresses) => new Map((await host.readCells(addresses)).map((c) => [c.address, c.formula])),
  });
  reports.load();

  // A new user (or none) sees only what they may: every stream and comment is read again with the
  // new token, or shows "Sign in in the task pane" when there is none.
  let signedInAs: string | null = null;
  const stopWatchingAuth = auth.state.subscribe(() => {
    const s = auth.state.get();
    if (s.status === "loading" || s.status === "signingIn") return;
    const who = s.status === "signedIn" ? `${s.serverUrl}\u0000${s.user.tenant ?? ""}\u0000${s.user.id}` : null;
    if (who === signedInAs) return;
    signedInAs = who;
    streams.restartAll();
    comments.refreshAll();
  });

  const refresh = () => {
    streams.restartAll();
    comments.refreshAll();
  };

  let started: Promise<void> | null = null;
  const stopListening: (() => Promise<void>)[] = [];
  let stopRibbon: (() => void) | null = null;
  let disposed = false;

  return {
    getSettings,
    async saveSettings(patch) {
      const next = normalizeSettings({ ...(await getSettings()), ...patch });
      const before = (await getSettings()).serverUrl;
      await storeSettings(host, next);
      settings = Promise.resolve(next);
      api = null;
      connection.set({ status: "unknown", serverUrl: next.serverUrl });
      if (next.serverUrl !== before) auth.reset();
      streams.restartAll();
      comments.refreshAll();
      return next;
    },
    auth,
    api: getApi,
    connection,
    pendingWrites,
    holds,
    sandboxes,
    reports,
    formulaCells,
    restores,

    start() {
      started ??= (async () => {
        // Sign in silently where possible (a remembered development user, MSAL's single sign-on).
        void auth.start();
        if (!(await host.ready()) || disposed) return;
        // The workbook is there: the sandboxes it was saved with.
        sandboxes.load();
        reports.load();
        // The ribbon tab's commands and their enabled state (Office is ready: requestUpdate may run).
        stopRibbon = startRibbon({ pendingWrites, auth, refresh }, host);
        const edits = createSheetEditHandlers({ host, cells: formulaCells, pending: pendingWrites, holds, restores, marks, snapshotOf: (ref) => feed.snapshotOf(ref) });
        const failed = (err: unknown) => console.error("quantatom: writeback failed", err);
        stopListening.push(await host.onSheetChanged((change) => void edits.onChanged(change).catch(failed)));
        const formulas = await host.onFormulaChanged((change) => void edits.onFormulaChanged(change).catch(failed));
        if (formulas) stopListening.push(formulas);
        stopListening.push(await host.onSheetStructure((change) => void edits.onStructure(change).catch(failed)));
      })();
      return started;
    },

    typeOver(address, content) {
      const range = parseRange(address);
      const cell = formulaCells.find(address) ?? (range ? formulaCells.within(range).find((c) => !c.ambiguous)?.cell : undefined);
      const typed = typedContent(content);
      if (!cell || !typed) return { kind: "ignored" };
      return applyTyped({ cells: formulaCells, pending: pendingWrites, holds }, cell, typed);
    },

    openCell(ref, address, onResult) {
      const token = address ? formulaCells.register(address, ref) : null;
      // A formula running at an address listed as not put back is back (re-entered by the user).
      if (address) restores.resolved(address);
      // Without an address (Excel did not give one) typing over it is seen only through onFormulaChanged: say so.
      const unaddressed = address ? null : `noaddress:${refKey(ref)}`;
      if (unaddressed) restores.noAddress(unaddressed, `=QATOM.CELL("${ref.cube}", ${ref.members.map((m) => `"${m}"`).join(", ")})`);
      // The formula shows a value typed over it until Submit or Discard (./pending-preview.ts).
      const shown = preview.watch(ref, onResult);
      const unsubscribe = feed.subscribe(ref, (o) => {
        if (token) formulaCells.update(token, o.ok ? o.snapshot : null);
        shown.deliver(o);
      });
      let open = true;
      return {
        close() {
          if (!open) return;
          open = false;
          unsubscribe();
          shown.close();
          if (token) formulaCells.release(token);
          if (unaddressed) restores.dismiss(unaddressed);
        },
      };
    },

    watchCell(ref, onResult) {
      return { close: feed.subscribe(ref, onResult) };
    },

    formattedNumbers() {
      return host.isSetSupported("CustomFunctionsRuntime", "1.4");
    },

    openComment(ref, onResult) {
      const unsubscribe = comments.subscribe(ref, onResult);
      return { close: unsubscribe };
    },

    async listMembers(cube, dimension, parent, depth) {
      let a: QatomApi | null = null;
      try {
        a = await getApi();
        const res = await a.lattice.getMembers({ cube, dimension, parent, relation: MemberRelation.DESCENDANTS, depth, limit: MAX_MEMBERS });
        reporter.succeeded();
        if (res.truncated) {
          throw new AddinError("notAvailable", `more than ${MAX_MEMBERS} members; ask for fewer levels (depth) or a lower parent`);
        }
        if (res.members.length === 0) {
          throw new AddinError("notAvailable", `${parent || dimension} has no members below it`);
        }
        return res.members.map((m) => m.uniqueName);
      } catch (err) {
        if (err instanceof AddinError) throw err;
        reporter.failed(err, a?.serverUrl ?? serverUrl);
        const e = toQatomError(err, a?.serverUrl ?? serverUrl);
        throw new AddinError(e.code, e.message);
      }
    },

    async addComment(ref, text) {
      const a = await getApi();
      await a.commentary.addComment({ cube: ref.cube, members: ref.members, text });
      comments.refreshCube(ref.cube);
    },

    refresh,

    dispose() {
      disposed = true;
      stopWatchingAuth();
      stopWatchingProtocol();
      stopWatchingSandboxes();
      batcher.dispose();
      streams.dispose();
      comments.dispose();
      formulaCells.dispose();
      restores.dispose();
      preview.dispose();
      marks.dispose();
      sandboxMarks.dispose();
      for (const stop of stopListening.splice(0)) void stop();
      stopRibbon?.();
    },

    streamedCellCount(cube) {
      return streams.liveCount(cube.trim().toLowerCase());
    },
  };
}

/** The runtime's shared context, created on first use (see the module comment). */
export function getAddinContext(): AddinRuntime {
  const g = globalThis as unknown as Record<symbol, AddinRuntime | AddinOptions | undefined>;
  let ctx = g[CONTEXT_KEY] as AddinRuntime | undefined;
  if (!ctx) {
    ctx = createAddinContext((g[OPTIONS_KEY] as AddinOptions | undefined) ?? {});
    g[CONTEXT_KEY] = ctx;
  }
  return ctx;
}
