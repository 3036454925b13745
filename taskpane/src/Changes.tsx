import {
  Badge,
  type BadgeProps,
  Button,
  Caption1,
  Link,
  makeStyles,
  MessageBar,
  MessageBarBody,
  MessageBarTitle,
  Text,
  tokens,
} from "@fluentui/react-components";
import { type RefObject, useId, useRef, useState } from "react";
import type { PendingStatus, PendingWrite, PendingWrites } from "../../addin/src/contracts";
import { CONSOLIDATED_MESSAGE } from "../../addin/src/pending-writes";
import { cellLabel, formatTime, formatValue } from "./format";
import { errorMessage } from "./hooks";
import type { TaskpaneHost } from "./host";

const useStyles = makeStyles({
  section: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS },
  heading: { display: "flex", alignItems: "center", gap: tokens.spacingHorizontalS },
  list: { listStyle: "none", margin: 0, padding: 0, display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS },
  item: {
    border: `1px solid ${tokens.colorNeutralStroke2}`,
    borderRadius: tokens.borderRadiusMedium,
    padding: `${tokens.spacingVerticalS} ${tokens.spacingHorizontalM}`,
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalXS,
    backgroundColor: tokens.colorNeutralBackground1,
  },
  conflictItem: { border: `1px solid ${tokens.colorPaletteMarigoldBorder2}`, backgroundColor: tokens.colorPaletteYellowBackground1 },
  row: { display: "flex", alignItems: "center", justifyContent: "space-between", gap: tokens.spacingHorizontalS },
  address: { overflowWrap: "anywhere", fontWeight: tokens.fontWeightSemibold, textAlign: "start" },
  members: { color: tokens.colorNeutralForeground3, overflowWrap: "anywhere" },
  message: { color: tokens.colorPaletteRedForeground1, overflowWrap: "anywhere" },
  facts: { display: "grid", gridTemplateColumns: "auto 1fr", columnGap: tokens.spacingHorizontalM, rowGap: "2px", margin: 0 },
  term: { color: tokens.colorNeutralForeground3 },
  def: { margin: 0, overflowWrap: "anywhere" },
  buttons: { display: "flex", flexWrap: "wrap", gap: tokens.spacingHorizontalS },
  empty: { color: tokens.colorNeutralForeground3 },
});

const statusText: Record<PendingStatus, string> = {
  pending: "Pending",
  submitting: "Submitting",
  applied: "Applied",
  conflict: "Conflict",
  rejected: "Rejected",
  error: "Error",
};

const statusColor: Record<PendingStatus, BadgeProps["color"]> = {
  pending: "informative",
  submitting: "informative",
  applied: "success",
  conflict: "warning",
  rejected: "danger",
  error: "danger",
};

/** Props of {@link ConflictsPanel} and {@link PendingPanel}. */
export interface ChangesProps {
  list: PendingWrite[];
  pending: PendingWrites;
  host: TaskpaneHost;
  /** Ids of pending writes whose cell is consolidated. */
  consolidated: ReadonlySet<string>;
  announce(message: string): void;
  /** The "Pending changes" heading: focus goes there when the last conflict is resolved. */
  pendingHeadingRef: RefObject<HTMLHeadingElement | null>;
}

/** The cell's address as a link that selects it on the sheet. */
function GoToCell({ w, host }: { w: PendingWrite; host: TaskpaneHost }) {
  const styles = useStyles();
  return (
    <Link as="button" className={styles.address} onClick={() => void host.selectCell(w.address).catch(() => undefined)} aria-label={`Go to ${w.address}`}>
      {w.address}
    </Link>
  );
}

/** What the cell is: its cube and members' own names. */
function CellMembers({ w }: { w: PendingWrite }) {
  const styles = useStyles();
  return (
    <Caption1 className={styles.members}>
      {w.cube}: {cellLabel(w.members)}
    </Caption1>
  );
}

/**
 * Writes that met a newer value on the server: mine against theirs, who wrote theirs and when, and
 * the two ways out. Shown only while there are conflicts.
 */
export function ConflictsPanel({ list, pending, host, announce, pendingHeadingRef }: ChangesProps) {
  const styles = useStyles();
  const headingId = useId();
  const headingRef = useRef<HTMLHeadingElement>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const conflicts = list.filter((w) => w.status === "conflict");
  if (conflicts.length === 0) return null;

  const resolve = async (w: PendingWrite, how: "mine" | "theirs") => {
    setBusy(w.id);
    try {
      if (how === "mine") {
        await pending.keepMine(w.id);
        const after = pending.list().find((x) => x.id === w.id);
        announce(`${w.address}: kept your value, ${after ? statusText[after.status].toLowerCase() : "done"}`);
      } else {
        pending.takeTheirs(w.id);
        announce(`${w.address}: took their value; your change was dropped`);
      }
    } catch (err) {
      announce(`${w.address}: ${errorMessage(err)}`);
    } finally {
      setBusy(null);
      // The resolved card is gone; keep the focus in the pane, not on the page's body.
      const more = pending.list().some((x) => x.status === "conflict");
      (more ? headingRef : pendingHeadingRef).current?.focus();
    }
  };

  return (
    <section aria-labelledby={headingId} className={styles.section}>
      <div className={styles.heading}>
        <Text as="h2" id={headingId} ref={headingRef} tabIndex={-1} weight="semibold" size={400}>
          Conflicts
        </Text>
        <Badge color="warning">
          {conflicts.length}
        </Badge>
      </div>
      <Caption1>Someone else changed these cells after you read them. Keep your value (it is written over theirs) or take theirs.</Caption1>
      <ul className={styles.list} aria-label="Conflicts">
        {conflicts.map((w) => (
          <li key={w.id} className={`${styles.item} ${styles.conflictItem}`}>
            <GoToCell w={w} host={host} />
            <CellMembers w={w} />
            <dl className={styles.facts}>
              <dt className={styles.term}>Your value</dt>
              <dd className={styles.def}>{formatValue(w.value)}</dd>
              <dt className={styles.term}>Their value</dt>
              <dd className={styles.def}>{formatValue(w.conflict?.theirValue)}</dd>
              <dt className={styles.term}>Changed by</dt>
              <dd className={styles.def}>{w.conflict?.by || "unknown"}</dd>
              <dt className={styles.term}>When</dt>
              <dd className={styles.def}>{formatTime(w.conflict?.at)}</dd>
              <dt className={styles.term}>You saw</dt>
              <dd className={styles.def}>{formatValue(w.seenValue)}</dd>
            </dl>
            <div className={styles.buttons}>
              <Button appearance="primary" size="small" disabled={busy === w.id} onClick={() => resolve(w, "mine")} aria-label={`Keep mine on ${w.address}`}>
                Keep mine
              </Button>
              <Button size="small" disabled={busy === w.id} onClick={() => resolve(w, "theirs")} aria-label={`Take theirs on ${w.address}`}>
                Take theirs
              </Button>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Values typed over QATOM cells, waiting for Submit, and the result of each after it. */
export function PendingPanel({ list, pending, host, consolidated, announce, pendingHeadingRef }: ChangesProps) {
  const styles = useStyles();
  const headingId = useId();
  const [submitting, setSubmitting] = useState(false);
  const items = list.filter((w) => w.status !== "conflict");
  // Submit sends these (a write that failed to reach the server is sent again).
  const waiting = items.filter((w) => w.status === "pending" || w.status === "error").length;

  const submit = async () => {
    setSubmitting(true);
    const sent = new Set(items.filter((w) => w.status === "pending" || w.status === "error").map((w) => w.id));
    try {
      await pending.submit();
      const counts = new Map<PendingStatus, number>();
      for (const w of pending.list()) if (sent.has(w.id)) counts.set(w.status, (counts.get(w.status) ?? 0) + 1);
      announce(
        `Submitted: ${[...counts]
          .filter(([s]) => s !== "pending")
          .map(([s, n]) => `${n} ${statusText[s].toLowerCase()}`)
          .join(", ")}`,
      );
    } catch (err) {
      announce(`Submit failed: ${errorMessage(err)}`);
    } finally {
      setSubmitting(false);
    }
  };

  return (
    <section aria-labelledby={headingId} className={styles.section}>
      <div className={styles.heading}>
        <Text as="h2" id={headingId} ref={pendingHeadingRef} tabIndex={-1} weight="semibold" size={400}>
          Pending changes
        </Text>
        <Badge color={waiting ? "brand" : "informative"} appearance={waiting ? "filled" : "tint"}>
          {waiting}
        </Badge>
      </div>
      {items.length === 0 ? (
        <Caption1 className={styles.empty}>No pending changes. Type a value over a QATOM cell to stage a change here.</Caption1>
      ) : (
        <ul className={styles.list} aria-label="Pending changes">
          {items.map((w) => {
            const isConsolidated = consolidated.has(w.id) || (w.status === "rejected" && /consolidated/i.test(w.message ?? ""));
            return (
              <li key={w.id} className={styles.item}>
                <div className={styles.row}>
                  <GoToCell w={w} host={host} />
                  <Badge color={statusColor[w.status]}>{statusText[w.status]}</Badge>
                </div>
                <CellMembers w={w} />
                <div className={styles.row}>
                  <Text>
                    {formatValue(w.seenValue)} → <strong>{formatValue(w.value)}</strong>
                  </Text>
                  {w.status !== "submitting" && (
                    <Button size="small" appearance="subtle" onClick={() => pending.discard([w.id])} aria-label={`${w.status === "applied" ? "Clear" : "Discard"} ${w.address}`}>
                      {w.status === "applied" ? "Clear" : "Discard"}
                    </Button>
                  )}
                </div>
                {isConsolidated && w.status !== "applied" ? (
                  <MessageBar intent={w.status === "rejected" ? "error" : "warning"} layout="multiline">
                    <MessageBarBody>
                      <MessageBarTitle>Can't be written yet</MessageBarTitle>
                      {(w.status === "rejected" && w.message) || CONSOLIDATED_MESSAGE}
                    </MessageBarBody>
                  </MessageBar>
                ) : (
                  w.message && w.status !== "applied" && <Caption1 className={styles.message}>{w.message}</Caption1>
                )}
              </li>
            );
          })}
        </ul>
      )}
      <div className={styles.buttons}>
        <Button appearance="primary" disabled={waiting === 0 || submitting} onClick={submit}>
          {submitting ? "Submitting…" : `Submit${waiting ? ` (${waiting})` : ""}`}
        </Button>
        <Button disabled={items.length === 0 || submitting} onClick={() => pending.discard(items.map((w) => w.id))}>
          Discard all
        </Button>
      </div>
    </section>
  );
}
