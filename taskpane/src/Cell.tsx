import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Badge, Button, Caption1, Field, makeStyles, MessageBar, MessageBarBody, Spinner, Text, Textarea, tokens } from "@fluentui/react-components";
import { type KeyboardEvent, useCallback, useEffect, useId, useState } from "react";
import type { FormulaCell, QatomApi } from "../../addin/src/contracts";
import type { Comment } from "../../proto/gen/quantatom/v1/commentary_pb";
import type { AuditRecord } from "../../proto/gen/quantatom/v1/lattice_pb";
import { cellLabel, differingMembers, formatTime, formatValue } from "./format";
import { errorMessage, type LiveCell } from "./hooks";
import type { SelectedCell } from "./host";

const useStyles = makeStyles({
  section: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS },
  heading: { display: "flex", alignItems: "center", justifyContent: "space-between", gap: tokens.spacingHorizontalS },
  headingLeft: { display: "flex", alignItems: "center", gap: tokens.spacingHorizontalS },
  muted: { color: tokens.colorNeutralForeground3, overflowWrap: "anywhere" },
  wrap: { overflowWrap: "anywhere" },
  value: { display: "flex", alignItems: "baseline", gap: tokens.spacingHorizontalS, flexWrap: "wrap" },
  list: { listStyle: "none", margin: 0, padding: 0, display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS },
  comment: {
    borderLeft: `3px solid ${tokens.colorBrandStroke2}`,
    paddingLeft: tokens.spacingHorizontalS,
    display: "flex",
    flexDirection: "column",
    gap: "2px",
  },
  below: { borderLeftColor: tokens.colorNeutralStroke1 },
  text: { whiteSpace: "pre-wrap", overflowWrap: "anywhere" },
  record: { display: "flex", flexDirection: "column", gap: "2px", borderBottom: `1px solid ${tokens.colorNeutralStroke2}`, paddingBottom: tokens.spacingVerticalXS },
  buttons: { display: "flex", gap: tokens.spacingHorizontalS },
});

/** The selected cell: its address, what it points at, and its live value. */
export function SelectedCellPanel({ selection, live, error }: { selection: SelectedCell | null; live: LiveCell | null; error: string | null }) {
  const styles = useStyles();
  const headingId = useId();
  const cell = selection?.cell;
  return (
    <section aria-labelledby={headingId} className={styles.section}>
      <Text as="h2" id={headingId} weight="semibold" size={400}>
        Selected cell{selection ? `: ${selection.address}` : ""}
      </Text>
      {!selection && <Caption1 className={styles.muted}>Reading the selection…</Caption1>}
      {selection && !cell && (
        <Caption1 className={styles.muted}>No QATOM formula here. Select a cell with =QATOM.CELL(…) to see its value, comments and history.</Caption1>
      )}
      {cell && (
        <>
          <Caption1 className={styles.muted}>
            {cell.cube}: {cellLabel(cell.members)}
          </Caption1>
          {error && (
            <MessageBar intent="error">
              <MessageBarBody>{error}</MessageBarBody>
            </MessageBar>
          )}
          {live && (
            <div className={styles.value}>
              <Caption1 className={styles.muted}>Value</Caption1>
              <Text size={500} weight="semibold">
                {formatValue(live.value)}
              </Text>
              <Caption1 className={styles.muted}>version {live.version.toString()}</Caption1>
              <Badge appearance="tint" color={live.calculated ? "warning" : live.consolidated ? "important" : "subtle"}>
                {live.calculated ? "Calculated (read-only)" : live.consolidated ? "Consolidated" : "Leaf"}
              </Badge>
              {live.sandboxChanged && (
                <Badge appearance="filled" color="brand">
                  Changed in sandbox
                </Badge>
              )}
            </div>
          )}
          {!live && !error && <Spinner size="tiny" label="Loading the cell" />}
        </>
      )}
    </section>
  );
}

/** Props of {@link CommentsPanel}. */
export interface CommentsPanelProps {
  clients: QatomApi;
  cell: FormulaCell;
  /** Known once the live cell arrives; a consolidated cell also lists the comments below it. */
  consolidated: boolean | undefined;
  announce(message: string): void;
}

/**
 * The comment thread of the selected cell, a box to add one, and on a consolidated cell the
 * comments below it. Mount it with the cell as its React key, so a new cell starts afresh.
 */
export function CommentsPanel({ clients, cell, consolidated, announce }: CommentsPanelProps) {
  const styles = useStyles();
  const headingId = useId();
  const belowId = useId();
  const [comments, setComments] = useState<Comment[] | null>(null);
  const [below, setBelow] = useState<{ count: number; comments: Comment[] }>({ count: 0, comments: [] });
  const [error, setError] = useState<string | null>(null);
  const [draft, setDraft] = useState("");
  const [adding, setAdding] = useState(false);
  const [reload, setReload] = useState(0);
  const key = JSON.stringify([cell.cube, cell.members]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the cell; `reload` forces a fetch
  useEffect(() => {
    let alive = true;
    setError(null);
    // The comments below are asked for always: for a leaf cell there are none, and a consolidated
    // cell then needs no second call once the live cell says what it is.
    clients.commentary.listComments({ cube: cell.cube, members: cell.members, limit: 100, includeDescendants: true }).then(
      (r) => {
        if (!alive) return;
        setComments(r.comments);
        setBelow({ count: r.descendantCommentCount, comments: r.descendantComments });
      },
      (err: unknown) => alive && setError(errorMessage(err)),
    );
    return () => {
      alive = false;
    };
  }, [clients, key, reload]);

  const add = useCallback(async () => {
    const text = draft.trim();
    if (!text) return;
    setAdding(true);
    try {
      await clients.commentary.addComment({ cube: cell.cube, members: cell.members, text });
      setDraft("");
      setReload((n) => n + 1);
      announce("Comment added");
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setAdding(false);
    }
  }, [clients, cell, draft, announce]);

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void add();
    }
  };

  return (
    <section aria-labelledby={headingId} className={styles.section}>
      <div className={styles.heading}>
        <div className={styles.headingLeft}>
          <Text as="h2" id={headingId} weight="semibold" size={400}>
            Comments
          </Text>
          {comments && <Badge appearance="tint">{comments.length}</Badge>}
        </div>
        <Button size="small" appearance="subtle" onClick={() => setReload((n) => n + 1)} aria-label="Refresh comments">
          Refresh
        </Button>
      </div>
      {error && (
        <MessageBar intent="error">
          <MessageBarBody>{error}</MessageBarBody>
        </MessageBar>
      )}
      {comments === null && !error && <Spinner size="tiny" label="Loading comments" />}
      {comments && comments.length === 0 && <Caption1 className={styles.muted}>No comments on this cell yet.</Caption1>}
      {comments && comments.length > 0 && (
        <ul className={styles.list} aria-label="Comments on this cell">
          {comments.map((c) => (
            <li key={c.id.toString()} className={styles.comment}>
              <Caption1 className={styles.muted}>
                <strong>{c.author}</strong>, {formatTime(c.createdAt ? timestampMs(c.createdAt) : 0)}
              </Caption1>
              <Text className={styles.text}>{c.text}</Text>
            </li>
          ))}
        </ul>
      )}
      <Field label="Add a comment" hint="Ctrl+Enter adds it">
        <Textarea value={draft} onChange={(_, d) => setDraft(d.value)} onKeyDown={onKeyDown} resize="vertical" maxLength={4000} />
      </Field>
      <div className={styles.buttons}>
        <Button appearance="primary" disabled={!draft.trim() || adding} onClick={add}>
          {adding ? "Adding…" : "Add comment"}
        </Button>
      </div>
      {consolidated && (
        <>
          <Text as="h3" id={belowId} weight="semibold">
            Comments below this cell ({below.count})
          </Text>
          {below.count === 0 ? (
            <Caption1 className={styles.muted}>None of the cells below this one has comments.</Caption1>
          ) : (
            <ul className={styles.list} aria-labelledby={belowId}>
              {below.comments.map((c) => (
                <li key={c.id.toString()} className={`${styles.comment} ${styles.below}`}>
                  <Caption1 className={styles.muted}>
                    <strong>{cellLabel(differingMembers(c.members, cell.members))}</strong>: {c.author}, {formatTime(c.createdAt ? timestampMs(c.createdAt) : 0)}
                  </Caption1>
                  <Text className={styles.text}>{c.text}</Text>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}

/**
 * The selected leaf cell's audit log, newest first, refreshed whenever the cell's version moves.
 * Mount it with the cell as its React key.
 */
export function HistoryPanel({ clients, cell, live, sandbox = "" }: { clients: QatomApi; cell: FormulaCell; live: LiveCell | null; sandbox?: string }) {
  const styles = useStyles();
  const headingId = useId();
  const [records, setRecords] = useState<AuditRecord[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const key = JSON.stringify([cell.cube, cell.members]);
  const leafVersion = live && !live.consolidated ? live.version.toString() : null;

  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the cell; a new version refetches
  useEffect(() => {
    setError(null);
    if (leafVersion === null) {
      setRecords(null);
      return;
    }
    let alive = true;
    clients.lattice.getCellHistory({ cube: cell.cube, members: cell.members, limit: 50, sandbox }).then(
      (r) => alive && setRecords(r.records),
      (err: unknown) => alive && setError(errorMessage(err)),
    );
    return () => {
      alive = false;
    };
  }, [clients, key, leafVersion, sandbox]);

  return (
    <section aria-labelledby={headingId} className={styles.section}>
      <Text as="h2" id={headingId} weight="semibold" size={400}>
        History{sandbox ? " in this sandbox" : ""}
      </Text>
      {live?.consolidated && (
        <Caption1 className={styles.muted}>History is kept for leaf cells; this cell is the sum of the cells below it.</Caption1>
      )}
      {error && (
        <MessageBar intent="error">
          <MessageBarBody>{error}</MessageBarBody>
        </MessageBar>
      )}
      {!records && !error && leafVersion !== null && <Spinner size="tiny" label="Loading the history" />}
      {records && records.length === 0 && (
        <Caption1 className={styles.muted}>{sandbox ? "Not changed in this sandbox." : "No changes since the data was loaded."}</Caption1>
      )}
      {records && records.length > 0 && (
        <ul className={styles.list} aria-label="Changes to this cell">
          {records.map((r) => (
            <li key={`${r.transactionId}-${r.version}`} className={styles.record}>
              <Text>
                {formatValue(r.oldValue)} → <strong>{formatValue(r.newValue)}</strong>
              </Text>
              <Caption1 className={styles.muted}>
                {r.user}, {formatTime(r.at ? timestampMs(r.at) : 0)}, version {r.version.toString()}
                {r.undoes ? ", an undo" : ""}
              </Caption1>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
