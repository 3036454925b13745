import {
  Badge,
  type BadgeProps,
  Button,
  Caption1,
  Checkbox,
  Field,
  Input,
  Link,
  makeStyles,
  Select,
  Text,
  tokens,
} from "@fluentui/react-components";
import { type RefObject, useEffect, useId, useRef, useState } from "react";
import type { CellRef, Holds, PendingSpread, PendingStatus, PendingWrite, PendingWrites, SpreadAction, SpreadMethodCode } from "../../addin/src/contracts";
import { needsReference, SPREAD_ACTION_NAMES, SPREAD_METHOD_NAMES, splitMembers, spreadCodeText } from "../../addin/src/spreading";
import { cardStyles } from "./card-styles";
import { cellLabel, formatTime, formatValue } from "./format";
import { errorMessage, useHolds } from "./hooks";
import type { TaskpaneHost } from "./host";

const useStyles = makeStyles({
  ...cardStyles,
  heading: { display: "flex", alignItems: "center", gap: tokens.spacingHorizontalS },
  address: { overflowWrap: "anywhere", fontWeight: tokens.fontWeightSemibold, textAlign: "start" },
  members: { color: tokens.colorNeutralForeground3, overflowWrap: "anywhere" },
  message: { color: tokens.colorPaletteRedForeground1, overflowWrap: "anywhere" },
  facts: { display: "grid", gridTemplateColumns: "auto 1fr", columnGap: tokens.spacingHorizontalM, rowGap: "2px", margin: 0 },
  term: { color: tokens.colorNeutralForeground3 },
  def: { margin: 0, overflowWrap: "anywhere" },
  empty: { color: tokens.colorNeutralForeground3 },
  spread: { display: "grid", gridTemplateColumns: "minmax(0, 1fr) minmax(0, 1fr)", gap: `${tokens.spacingVerticalXS} ${tokens.spacingHorizontalS}` },
  wide: { gridColumn: "1 / -1" },
  code: { fontFamily: tokens.fontFamilyMonospace },
  spreadResult: { color: tokens.colorPaletteGreenForeground1, overflowWrap: "anywhere" },
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
  announce(message: string): void;
  /** The "Pending changes" heading: focus goes there when the last conflict is resolved. */
  pendingHeadingRef: RefObject<HTMLHeadingElement | null>;
}

/** The cell's address as a link that selects it on the sheet. */
function GoToCell({ w, host }: { w: { address: string }; host: TaskpaneHost }) {
  const styles = useStyles();
  return (
    <Link as="button" className={styles.address} onClick={() => void host.selectCell(w.address).catch(() => undefined)} aria-label={`Go to ${w.address}`}>
      {w.address}
    </Link>
  );
}

/** What the cell is: its cube and members' own names. */
function CellMembers({ w }: { w: CellRef }) {
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
              <dd className={styles.def}>{targetText(w).text}</dd>
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

/** The picker's methods, in TM1's order. */
const METHODS = Object.keys(SPREAD_METHOD_NAMES) as SpreadMethodCode[];
const ACTIONS = Object.keys(SPREAD_ACTION_NAMES) as SpreadAction[];

/**
 * What a pending write writes, as the user would type it: a number, or the TM1 code of its spread
 * (`P%+10`, `S500`); a leaf written from a code shows the code beside the value.
 */
export function targetText(w: PendingWrite): { text: string; isCode: boolean } {
  if (w.spread) {
    const plain = w.spread.method === "P" && w.spread.action === "replace";
    return plain ? { text: formatValue(w.value), isCode: false } : { text: spreadCodeText(w.spread, w.value), isCode: true };
  }
  if (w.code && w.status === "rejected" && w.value === null) return { text: w.code, isCode: true };
  return { text: w.code ? `${formatValue(w.value)} (${w.code})` : formatValue(w.value), isCode: false };
}

/**
 * How a write to a consolidated cell is spread: the method (proportional unless the typed code
 * said otherwise), the data action, TM1's `*` for the leaf methods, and the reference cell of RP and R%.
 */
function SpreadControls({ w, pending }: { w: PendingWrite & { spread: PendingSpread }; pending: PendingWrites }) {
  const styles = useStyles();
  const s = w.spread;
  const [reference, setReference] = useState(s.reference.join(", "));
  useEffect(() => setReference(s.reference.join(", ")), [s.reference]);
  const isLeafMethod = s.method === "LS" || s.method === "LR";
  return (
    <div className={styles.spread}>
      <Field className={styles.wide} label="Spread method" size="small">
        <Select size="small" aria-label={`Spread method for ${w.address}`} value={s.method} onChange={(_, d) => pending.setSpread(w.id, { method: d.value as SpreadMethodCode })}>
          {METHODS.map((m) => (
            <option key={m} value={m}>
              {SPREAD_METHOD_NAMES[m]} ({m})
            </option>
          ))}
        </Select>
      </Field>
      <Field label="Data action" size="small">
        <Select
          size="small"
          aria-label={`Data action for ${w.address}`}
          value={s.action}
          disabled={s.method === "C"}
          onChange={(_, d) => pending.setSpread(w.id, { action: d.value as SpreadAction })}
        >
          {ACTIONS.map((a) => (
            <option key={a} value={a}>
              {SPREAD_ACTION_NAMES[a]}
            </option>
          ))}
        </Select>
      </Field>
      {isLeafMethod && (
        <Checkbox
          className={styles.wide}
          label="Include empty leaves (*)"
          aria-label={`Include empty leaves for ${w.address}`}
          checked={s.includeEmpty}
          onChange={(_, d) => pending.setSpread(w.id, { includeEmpty: d.checked === true })}
        />
      )}
      {needsReference(s.method) && (
        <Field className={styles.wide} label="Reference" size="small" hint="Members that replace this cell's, e.g. [Scenario].[Actual]">
          <Input
            size="small"
            aria-label={`Reference for ${w.address}`}
            value={reference}
            onChange={(_, d) => setReference(d.value)}
            onBlur={() => pending.setSpread(w.id, { reference: splitMembers(reference) })}
            onKeyDown={(e) => {
              if (e.key === "Enter") pending.setSpread(w.id, { reference: splitMembers(reference) });
            }}
          />
        </Field>
      )}
    </div>
  );
}

/** Values typed over QATOM cells, waiting for Submit, and the result of each after it. */
export function PendingPanel({ list, pending, host, announce, pendingHeadingRef }: ChangesProps) {
  const styles = useStyles();
  const headingId = useId();
  const [submitting, setSubmitting] = useState(false);
  const items = list.filter((w) => w.status !== "conflict");
  // Submit sends these (a write that failed to reach the server is sent again).
  const waiting = items.filter((w) => (w.status === "pending" && !w.confirm) || w.status === "error").length;

  const submit = async () => {
    setSubmitting(true);
    const sent = new Set(items.filter((w) => (w.status === "pending" && !w.confirm) || w.status === "error").map((w) => w.id));
    try {
      await pending.submit();
      const counts = new Map<PendingStatus, number>();
      let leaves = 0;
      for (const w of pending.list()) {
        if (!sent.has(w.id)) continue;
        counts.set(w.status, (counts.get(w.status) ?? 0) + 1);
        if (w.status === "applied") leaves += w.leavesChanged ?? 0;
      }
      const summary = [...counts]
        .filter(([s]) => s !== "pending")
        .map(([s, n]) => `${n} ${statusText[s].toLowerCase()}`)
        .join(", ");
      announce(`Submitted: ${summary}${leaves > 0 ? ` (${leaves} leaf ${leaves === 1 ? "cell" : "cells"} changed)` : ""}`);
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
        <Caption1 className={styles.empty}>
          No pending changes. Type a value or a spreading code (P%+10, S500, C; H to hold) over a QATOM cell to stage a change here.
        </Caption1>
      ) : (
        <ul className={styles.list} aria-label="Pending changes">
          {items.map((w) => {
            const editable = w.spread && (w.status === "pending" || w.status === "rejected" || w.status === "error");
            const target = targetText(w);
            return (
              <li key={w.id} className={styles.item}>
                <div className={styles.row}>
                  <GoToCell w={w} host={host} />
                  <Badge color={statusColor[w.status]}>{statusText[w.status]}</Badge>
                </div>
                <CellMembers w={w} />
                <div className={styles.row}>
                  <Text>
                    {formatValue(w.seenValue)} → <strong className={target.isCode ? styles.code : undefined}>{target.text}</strong>
                  </Text>
                  {w.status !== "submitting" && (
                    <Button size="small" appearance="subtle" onClick={() => pending.discard([w.id])} aria-label={`${w.status === "applied" ? "Clear" : "Discard"} ${w.address}`}>
                      {w.status === "applied" ? "Clear" : "Discard"}
                    </Button>
                  )}
                </div>
                {w.consolidated && w.status === "pending" && (
                  <Caption1 className={styles.members}>Consolidated: the value is spread to the leaf cells below it.</Caption1>
                )}
                {editable && w.spread && <SpreadControls w={{ ...w, spread: w.spread }} pending={pending} />}
                {w.status === "applied" && w.spread && (
                  <Caption1 className={styles.spreadResult}>
                    Spread to {w.leavesChanged ?? 0} leaf {w.leavesChanged === 1 ? "cell" : "cells"}
                    {w.currentValue !== undefined ? `; total now ${formatValue(w.currentValue)}` : ""}
                  </Caption1>
                )}
                {w.message && w.status !== "applied" && <Caption1 className={styles.message}>{w.message}</Caption1>}
                {w.confirm && w.status === "pending" && (
                  <div className={styles.buttons}>
                    <Caption1 className={styles.message}>{w.confirm}</Caption1>
                    <Button size="small" appearance="primary" onClick={() => pending.confirm(w.id)} aria-label={`Confirm clearing ${w.address}`}>
                      Clear every leaf
                    </Button>
                  </div>
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

/**
 * The cells held for spreading (typed H over them): spreads leave them as they are. Each can be
 * released here (or by typing RH over it). Shown only while something is held.
 */
export function HoldsPanel({ holds, host, announce }: { holds: Holds; host: TaskpaneHost; announce(message: string): void }) {
  const styles = useStyles();
  const headingId = useId();
  const list = useHolds(holds);
  if (list.length === 0) return null;
  return (
    <section aria-labelledby={headingId} className={styles.section}>
      <div className={styles.heading}>
        <Text as="h2" id={headingId} weight="semibold" size={400}>
          Held cells
        </Text>
        <Badge color="informative">{list.length}</Badge>
      </div>
      <Caption1>Spreads leave these cells as they are; the other cells below a total absorb the change.</Caption1>
      <ul className={styles.list} aria-label="Held cells">
        {list.map((h) => (
          <li key={h.id} className={styles.item}>
            <div className={styles.row}>
              <GoToCell w={h} host={host} />
              <Badge appearance="tint" color={h.consolidated ? "important" : "subtle"}>
                {h.consolidated ? "Consolidated" : "Leaf"}
              </Badge>
            </div>
            <CellMembers w={h} />
            <div className={styles.buttons}>
              <Button
                size="small"
                onClick={() => {
                  holds.release(h.id);
                  announce(`Released ${h.address}`);
                }}
                aria-label={`Release ${h.address}`}
              >
                Release
              </Button>
            </div>
          </li>
        ))}
      </ul>
      <div className={styles.buttons}>
        <Button
          onClick={() => {
            holds.releaseAll();
            announce("Released every held cell");
          }}
        >
          Release all
        </Button>
      </div>
    </section>
  );
}
