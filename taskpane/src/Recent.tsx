import { Button, Caption1, MessageBar, MessageBarBody, Spinner, Text, makeStyles, tokens } from "@fluentui/react-components";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { useEffect, useId, useState } from "react";
import type { QatomApi } from "../../addin/src/contracts";
import { TransactionKind, type Transaction, type UndoConflict, WriteStatus } from "../../proto/gen/quantatom/v1/lattice_pb";
import { cardStyles } from "./card-styles";
import { cellLabel, formatTime, formatValue } from "./format";
import { errorMessage } from "./hooks";

const useStyles = makeStyles({
  ...cardStyles,
  heading: { display: "flex", alignItems: "center", justifyContent: "space-between", gap: tokens.spacingHorizontalS },
  text: { overflowWrap: "anywhere" },
  muted: { color: tokens.colorNeutralForeground3, overflowWrap: "anywhere" },
  conflict: { display: "flex", flexDirection: "column", gap: "2px" },
});

/** How a transaction's kind reads in the list. */
const KIND_TEXT: Record<TransactionKind, string> = {
  [TransactionKind.UNSPECIFIED]: "Change",
  [TransactionKind.WRITE]: "Write",
  [TransactionKind.SPREAD]: "Spread",
  [TransactionKind.COPY]: "Scenario copy",
  [TransactionKind.UNDO]: "Undo",
  [TransactionKind.SANDBOX]: "Sandbox commit",
};

/** Transactions the panel lists. */
const RECENT = 10;

/** An undo that met later changes: the transaction, its conflicting leaves and how many there are. */
interface MetConflicts {
  tx: Transaction;
  conflicts: UndoConflict[];
  count: number;
}

/**
 * "Recent changes": the signed-in user's latest transactions on `cube` (ListTransactions), newest
 * first, each with what was asked for, when, the leaf cells it changed and an Undo button
 * (UndoTransaction). An undo that meets later changes by others changes nothing and lists them
 * (the cell, their value, who and when, the value the undo would restore), with "Undo the others"
 * (only the unconflicted leaves) and "Keep as it is". With a sandbox chosen for the cube, its
 * transactions, undone in it. Read again when `refresh` changes (the selected cell moved, a
 * Submit), after an undo, and on Refresh.
 */
export function RecentChangesPanel({
  clients,
  cube,
  sandbox = "",
  refresh,
  announce,
}: {
  clients: QatomApi;
  cube: string | null;
  /** The sandbox the cube goes through: its transactions are listed and undone in it ("": the base's). */
  sandbox?: string;
  refresh: string;
  announce: (message: string) => void;
}) {
  const styles = useStyles();
  const headingId = useId();
  const [list, setList] = useState<Transaction[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [met, setMet] = useState<MetConflicts | null>(null);
  const [reload, setReload] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `refresh` and `reload` are the reasons to read again
  useEffect(() => {
    setError(null);
    if (cube === null) {
      setList(null);
      return;
    }
    let alive = true;
    clients.lattice.listTransactions({ cube, limit: RECENT, sandbox }).then(
      (r) => alive && setList(r.transactions),
      (err: unknown) => alive && setError(errorMessage(err)),
    );
    return () => {
      alive = false;
    };
  }, [clients, cube, sandbox, refresh, reload]);

  async function undo(tx: Transaction, onlyUnconflicted: boolean): Promise<void> {
    if (cube === null) return;
    setBusy(tx.transactionId);
    setError(null);
    try {
      const res = await clients.lattice.undoTransaction({ cube, transactionId: tx.transactionId, onlyUnconflicted, sandbox });
      if (res.status === WriteStatus.CONFLICT) {
        setMet({ tx, conflicts: res.conflicts, count: Number(res.conflictCount) });
        announce(`Not undone: ${res.conflictCount} cell${res.conflictCount === 1n ? "" : "s"} changed since by others`);
      } else {
        setMet(null);
        const skipped = Number(res.conflictCount);
        announce(`Undone: ${res.leavesRestored} leaf cell${res.leavesRestored === 1n ? "" : "s"} restored${skipped > 0 ? `, ${skipped} changed by others kept` : ""}`);
      }
      setReload((n) => n + 1);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(null);
    }
  }

  return (
    <section aria-labelledby={headingId} className={styles.section}>
      <div className={styles.heading}>
        <Text as="h2" id={headingId} weight="semibold" size={400}>
          Recent changes
        </Text>
        {cube !== null && (
          <Button size="small" appearance="subtle" onClick={() => setReload((n) => n + 1)} aria-label="Refresh recent changes">
            Refresh
          </Button>
        )}
      </div>
      {cube === null && <Caption1 className={styles.muted}>Select a QATOM cell to see your recent changes to its cube.</Caption1>}
      {error && (
        <MessageBar intent="error">
          <MessageBarBody>{error}</MessageBarBody>
        </MessageBar>
      )}
      {met && (
        <section className={`${styles.item} ${styles.conflictItem}`} aria-label="Undo not done">
          <Text weight="semibold" className={styles.text}>
            Not undone: {met.count} cell{met.count === 1 ? "" : "s"} changed since by others
          </Text>
          <ul className={styles.list} aria-label="Cells changed since">
            {met.conflicts.map((c) => (
              <li key={c.members.join("|")} className={styles.conflict}>
                <Text className={styles.text} title={c.members.join(", ")}>
                  {cellLabel(c.members)}
                </Text>
                <Caption1 className={styles.muted}>
                  now {formatValue(c.currentValue)} by {c.updatedBy || "someone"}, {formatTime(c.updatedAt ? timestampMs(c.updatedAt) : 0)}; the undo would restore {formatValue(c.undoValue)}
                </Caption1>
              </li>
            ))}
          </ul>
          {met.count > met.conflicts.length && <Caption1 className={styles.muted}>and {met.count - met.conflicts.length} more</Caption1>}
          <div className={styles.buttons}>
            <Button appearance="primary" disabled={busy !== null} onClick={() => undo(met.tx, true)}>
              Undo the others
            </Button>
            <Button disabled={busy !== null} onClick={() => setMet(null)}>
              Keep as it is
            </Button>
          </div>
        </section>
      )}
      {cube !== null && list === null && !error && <Spinner size="tiny" label="Loading your recent changes" />}
      {list && list.length === 0 && <Caption1 className={styles.muted}>No changes of yours to {cube}{sandbox ? " in this sandbox" : ""} yet.</Caption1>}
      {list && list.length > 0 && (
        <ul className={styles.list} aria-label="Your recent changes">
          {list.map((tx) => {
            const undone = tx.undoneBy.length > 0;
            return (
              <li key={tx.transactionId} className={styles.item}>
                <div className={styles.row}>
                  <Text weight="semibold">{KIND_TEXT[tx.kind]}</Text>
                  <Button
                    size="small"
                    disabled={undone || busy !== null}
                    onClick={() => undo(tx, false)}
                    aria-label={undone ? `Undone: ${tx.description}` : `Undo ${tx.description}`}
                  >
                    {busy === tx.transactionId ? "Undoing…" : undone ? "Undone" : "Undo"}
                  </Button>
                </div>
                <Text className={styles.text}>{tx.description || "(no description)"}</Text>
                <Caption1 className={styles.muted}>
                  {formatTime(tx.at ? timestampMs(tx.at) : 0)}, {tx.leavesChanged.toString()} leaf cell{tx.leavesChanged === 1n ? "" : "s"}
                </Caption1>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
