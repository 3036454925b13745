import { Divider, FluentProvider, makeStyles, tokens, webLightTheme } from "@fluentui/react-components";
import { useCallback, useMemo, useRef, useState } from "react";
import type { WorkbookReportsApi } from "../../addin/src/reports/workbook-reports";
import type { AddinContext, ConnectionSettings, Holds, PendingWrites, QatomApi, SandboxChoices, SignIn } from "../../addin/src/contracts";
import type { RestoreProblems } from "../../addin/src/restores";
import { createApi, type TokenSource } from "../../addin/src/transport";
import { CommentsPanel, HistoryPanel, SelectedCellPanel } from "./Cell";
import { ConflictsPanel, HoldsPanel, PendingPanel } from "./Changes";
import { ConnectionPanel } from "./Connection";
import { ExplainPanel } from "./Explain";
import { InsertMembersPanel } from "./InsertMembers";
import { RecentChangesPanel } from "./Recent";
import { ReportBuilderPanel } from "./ReportBuilder";
import { ReportReshapePanel } from "./ReportReshape";
import { RestoresPanel } from "./Restores";
import { SandboxPanel } from "./Sandbox";
import { signedInKey, useAuthState, useLiveCell, usePendingList, useSandboxOf, useSelection } from "./hooks";
import type { TaskpaneHost } from "./host";

const useStyles = makeStyles({
  root: {
    minHeight: "100vh",
    backgroundColor: tokens.colorNeutralBackground2,
    "& h2, & h3": { margin: 0 },
    "& h2:focus-visible": { outline: `2px solid ${tokens.colorStrokeFocus2}` },
  },
  main: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalM,
    padding: `${tokens.spacingVerticalM} ${tokens.spacingHorizontalM}`,
    maxWidth: "640px",
    boxSizing: "border-box",
  },
  visuallyHidden: {
    position: "absolute",
    width: "1px",
    height: "1px",
    margin: "-1px",
    overflow: "hidden",
    clip: "rect(0 0 0 0)",
    whiteSpace: "nowrap",
    border: 0,
  },
});

/** Clients made once per settings object and signed-in user, sending the shared runtime's tokens. */
const defaultClients = (settings: ConnectionSettings, tokens: TokenSource) => createApi(settings.serverUrl, { tokens });

/** Everything the task pane needs from outside; tests pass fakes for `host` (and may for `pending`). */
export interface TaskpaneProps {
  /** The Office edge: the selection (see host.ts). */
  host: TaskpaneHost;
  /** The shared runtime's pending writes. */
  pending: PendingWrites;
  /** The shared runtime's held cells. */
  holds: Holds;
  /** The workbook's sandbox per cube (none: no Sandbox panel). */
  sandboxes?: SandboxChoices;
  /** The workbook's reports (none: no report builder, member insertion or reshaping). */
  reports?: WorkbookReportsApi;
  /** Formulas the runtime could not put back after typing (none shown when omitted). */
  restores?: RestoreProblems;
  /** The shared runtime's sign-in (the functions use the same one). */
  auth: SignIn;
  /**
   * The shared runtime's cell feed and connection state: the selected cell is followed on its
   * cube's one WatchCells stream (the formulas'), and the connection line shows the streams.
   */
  feed: Pick<AddinContext, "watchCell" | "connection">;
  /** The connection in use; the pane re-creates its clients when it changes. */
  settings: ConnectionSettings;
  /** Stores new settings (the shared runtime keeps them); the caller then passes them back in `settings`. */
  onSaveSettings(settings: ConnectionSettings): void | Promise<void>;
  /** Clients for given settings and tokens; by default Connect over fetch, as the shared runtime's. */
  makeClients?: (settings: ConnectionSettings, tokens: TokenSource) => QatomApi;
}

/**
 * The QuantatomAI task pane: connection and sign-in, formulas not put back after typing, conflicts, pending changes with their spreads and results,
 * held cells, the sandbox of the selected cell's cube, your recent changes with Undo, "explain this number", the selected cell's value, comments and history, the report it lies in (reshape), and the report builder and member picker. Laid out for a 320 px wide pane.
 */
export function TaskpaneApp({ host, pending, holds, sandboxes, reports, restores, auth, feed, settings, onSaveSettings, makeClients = defaultClients }: TaskpaneProps) {
  const styles = useStyles();
  const who = signedInKey(useAuthState(auth));
  // Made again when the user changes, so that everything shown is read again as the new user.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `who` is the reason to make them again
  const clients = useMemo(() => makeClients(settings, auth), [makeClients, settings, auth, who]);
  const { selection, error: selectionError } = useSelection(host);
  const list = usePendingList(pending);
  const cell = selection?.cell ?? null;
  const { live, error: liveError } = useLiveCell(feed, cell);
  const cellKey = cell ? JSON.stringify([cell.address, cell.cube, cell.members]) : "";
  // The sandbox the selected cell's cube goes through: recent changes are that sandbox's.
  const sandbox = useSandboxOf(sandboxes, cell?.cube ?? null);

  const pendingHeadingRef = useRef<HTMLHeadingElement>(null);

  // One polite live region for results that appear away from the focus (Submit, conflicts, comments).
  const [announcement, setAnnouncement] = useState("");
  const flip = useRef(false);
  const announce = useCallback((message: string) => {
    // A trailing no-break space makes a repeated message a change, so it is read again.
    flip.current = !flip.current;
    setAnnouncement(flip.current ? message : `${message}\u00a0`);
  }, []);

  const changes = { list, pending, host, announce, pendingHeadingRef };
  // Changes to the results of the pending list (a Submit's outcomes): the recent changes are read again.
  const submitted = list.map((w) => `${w.id}:${w.status}:${w.baseVersion}`).join(",");
  // Sandbox commits, which change the base as a transaction of their own.
  const [commits, setCommits] = useState(0);

  return (
    <FluentProvider theme={webLightTheme} className={styles.root}>
      <main className={styles.main} aria-label="QuantatomAI">
        <ConnectionPanel settings={settings} clients={clients} auth={auth} connection={feed.connection} onSave={onSaveSettings} />
        <Divider />
        {restores && <RestoresPanel restores={restores} host={host} announce={announce} />}
        <ConflictsPanel {...changes} />
        <PendingPanel {...changes} />
        <HoldsPanel holds={holds} host={host} announce={announce} />
        {sandboxes && (
          <SandboxPanel key={`s${who}`} clients={clients} cube={cell?.cube ?? null} sandboxes={sandboxes} refresh={submitted} announce={announce} onCommitted={() => setCommits((n) => n + 1)} />
        )}
        {/* Read again as another user, on another cube, and after each Submit's results. */}
        <RecentChangesPanel key={`r${who}${sandbox}`} clients={clients} cube={cell?.cube ?? null} sandbox={sandbox} refresh={`${submitted};${commits}`} announce={announce} />
        <Divider />
        <SelectedCellPanel selection={selection} live={live} error={selectionError ?? liveError} />
        {reports && selection && <ReportReshapePanel key={`p${who}`} clients={clients} reports={reports} address={selection.address} announce={announce} />}
        {cell && (
          <>
            {/* Keyed by the user too: nothing read as the previous user stays on screen. */}
            <ExplainPanel key={`e${who}${cellKey}${sandbox}`} clients={clients} cell={cell} sandbox={sandbox} refresh={live ? `${live.version}` : ""} />
            <CommentsPanel key={`c${who}${cellKey}`} clients={clients} cell={cell} consolidated={live?.consolidated} announce={announce} />
            <HistoryPanel key={`h${who}${cellKey}${sandbox}`} clients={clients} cell={cell} live={live} sandbox={sandbox} />
          </>
        )}
        {reports && (
          <>
            <Divider />
            <ReportBuilderPanel key={`b${who}`} clients={clients} reports={reports} address={selection?.address ?? null} announce={announce} />
            <InsertMembersPanel key={`m${who}`} clients={clients} reports={reports} address={selection?.address ?? null} announce={announce} />
          </>
        )}
        <div role="status" aria-live="polite" className={styles.visuallyHidden}>
          {announcement}
        </div>
      </main>
    </FluentProvider>
  );
}
