import { timestampMs } from "@bufbuild/protobuf/wkt";
import { Button, Caption1, Field, Input, MessageBar, MessageBarBody, Radio, RadioGroup, Select, Text, makeStyles, tokens } from "@fluentui/react-components";
import { useEffect, useId, useState, useSyncExternalStore } from "react";
import type { QatomApi, SandboxChoices } from "../../addin/src/contracts";
import { WriteStatus } from "../../proto/gen/quantatom/v1/lattice_pb";
import { type Sandbox, SandboxAccess, type SandboxConflict, SandboxState } from "../../proto/gen/quantatom/v1/sandbox_pb";
import { cardStyles } from "./card-styles";
import { cellLabel, formatTime, formatValue } from "./format";
import { errorMessage } from "./hooks";

const useStyles = makeStyles({
  ...cardStyles,
  text: { overflowWrap: "anywhere" },
  muted: { color: tokens.colorNeutralForeground3, overflowWrap: "anywhere" },
  create: { display: "flex", alignItems: "flex-end", gap: tokens.spacingHorizontalS },
  grow: { flexGrow: 1, minWidth: 0 },
  conflict: { display: "flex", flexDirection: "column", gap: "2px" },
});

/** How a sandbox reads in the picker: its name, whose it is when not mine, and committed ones marked. */
function optionText(s: Sandbox): string {
  const whose = s.access === SandboxAccess.OWNER ? "" : ` (shared by ${s.owner}${s.access === SandboxAccess.READ ? ", read only" : ""})`;
  return `${s.name}${whose}${s.state === SandboxState.COMMITTED ? " (committed)" : ""}`;
}

/** A commit that met base changes: the conflicting cells and, per cell, whether to keep mine. */
interface MetConflicts {
  conflicts: SandboxConflict[];
  count: number;
  keep: Record<string, boolean>;
}

const keyOf = (c: SandboxConflict) => c.members.join("|");

/**
 * "Sandbox": the picker of the layer the selected cell's cube is read and written through (Base, or
 * a sandbox of mine or shared with me: ListSandboxes), which switches every QATOM cell of that cube
 * in the workbook (the choice is a workbook setting, addin/src/sandboxes.ts); New sandbox (CreateSandbox,
 * then chosen); for my open sandbox, Commit (CommitSandbox: cells the base changed since are listed
 * with mine and theirs, each with Keep mine / Take theirs, then committed with those choices) and
 * Discard (DiscardSandbox, after a confirmation). After a commit or a discard the cube is back on the base.
 */
export function SandboxPanel({
  clients,
  cube,
  sandboxes,
  refresh,
  announce,
  onCommitted,
}: {
  clients: QatomApi;
  cube: string | null;
  sandboxes: SandboxChoices;
  /** Changes when the list is to be read again (a Submit's results). */
  refresh: string;
  announce: (message: string) => void;
  /** Told after a commit changed the base (the pane's recent changes are read again). */
  onCommitted: () => void;
}) {
  const styles = useStyles();
  const headingId = useId();
  const pickerId = useId();
  const choices = useSyncExternalStore(
    (fn) => sandboxes.subscribe(fn),
    () => sandboxes.get(),
  );
  const chosen = cube ? sandboxes.of(cube) : "";
  const [list, setList] = useState<Sandbox[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [met, setMet] = useState<MetConflicts | null>(null);
  const [confirmDiscard, setConfirmDiscard] = useState(false);
  const [reload, setReload] = useState(0);

  // A Submit's results: the leaf counts are read again, nothing else changes.
  // biome-ignore lint/correctness/useExhaustiveDependencies: `refresh` is the reason to read again
  useEffect(() => setReload((n) => n + 1), [refresh]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `reload` and the choices are reasons to read again
  useEffect(() => {
    setError(null);
    if (cube === null) {
      setList(null);
      return;
    }
    let alive = true;
    clients.sandbox.listSandboxes({ cube }).then(
      (r) => alive && setList(r.sandboxes),
      (err: unknown) => alive && setError(errorMessage(err)),
    );
    return () => {
      alive = false;
    };
  }, [clients, cube, reload, choices]);

  // Another cube or another sandbox: nothing of the last one's commit or discard stays on screen.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the cube and the choice are the reasons
  useEffect(() => {
    setMet(null);
    setConfirmDiscard(false);
  }, [cube, chosen]);

  if (cube === null) {
    return (
      <section aria-labelledby={headingId} className={styles.section}>
        <Text as="h2" id={headingId} weight="semibold" size={400}>
          Sandbox
        </Text>
        <Caption1 className={styles.muted}>Select a QATOM cell to work in a sandbox of its cube.</Caption1>
      </section>
    );
  }
  const current = list?.find((s) => s.id === chosen) ?? null;
  const mineOpen = current !== null && current.access === SandboxAccess.OWNER && current.state === SandboxState.OPEN;

  async function act(what: () => Promise<void>): Promise<void> {
    setBusy(true);
    setError(null);
    try {
      await what();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  const pick = (id: string) =>
    act(async () => {
      const s = list?.find((x) => x.id === id);
      await sandboxes.choose(cube, s ? { id: s.id, name: s.name } : null);
      announce(s ? `${cube} now shows sandbox ${s.name}` : `${cube} now shows the base`);
    });

  const create = () =>
    act(async () => {
      const res = await clients.sandbox.createSandbox({ cube, name });
      const s = res.sandbox!;
      setName("");
      await sandboxes.choose(cube, { id: s.id, name: s.name });
      announce(`Sandbox ${s.name} created: changes you submit to ${cube} now go to it`);
    });

  const commit = (keepMine: SandboxConflict[], onlyUnconflicted: boolean) =>
    act(async () => {
      if (!current) return;
      const res = await clients.sandbox.commitSandbox({ cube, sandbox: current.id, onlyUnconflicted, keepMine: keepMine.map((c) => ({ members: c.members })) });
      if (res.status === WriteStatus.CONFLICT) {
        setMet({ conflicts: res.conflicts, count: Number(res.conflictCount), keep: {} });
        announce(`Not committed: ${res.conflictCount} cell${res.conflictCount === 1n ? "" : "s"} changed in the base since`);
        return;
      }
      setMet(null);
      await sandboxes.choose(cube, null);
      onCommitted();
      const skipped = Number(res.conflictCount);
      announce(`Committed ${current.name}: ${res.leavesCommitted} leaf cell${res.leavesCommitted === 1n ? "" : "s"}${skipped > 0 ? `, ${skipped} kept as the base has them` : ""}`);
    });

  const discard = () =>
    act(async () => {
      if (!current) return;
      await clients.sandbox.discardSandbox({ cube, sandbox: current.id });
      setConfirmDiscard(false);
      await sandboxes.choose(cube, null);
      announce(`Sandbox ${current.name} discarded`);
    });

  return (
    <section aria-labelledby={headingId} className={styles.section}>
      <div className={styles.row}>
        <Text as="h2" id={headingId} weight="semibold" size={400}>
          Sandbox
        </Text>
        <Button size="small" appearance="subtle" onClick={() => setReload((n) => n + 1)} aria-label="Refresh sandboxes">
          Refresh
        </Button>
      </div>
      <Field label={`Cells of ${cube} show`}>
        <Select id={pickerId} value={chosen} disabled={busy || list === null} onChange={(_, d) => void pick(d.value)}>
          <option value="">Base (shared data)</option>
          {chosen && !current && list !== null && <option value={chosen}>{choices[cube.trim().toLowerCase()]?.name ?? "a sandbox"} (not available)</option>}
          {list?.map((s) => (
            <option key={s.id} value={s.id}>
              {optionText(s)}
            </option>
          ))}
        </Select>
      </Field>
      {chosen && current && (
        <Caption1 className={styles.muted}>
          {current.state === SandboxState.COMMITTED
            ? `Sandbox ${current.name} was committed; it is kept read-only for reference.`
            : `Changes you submit to ${cube} go to sandbox ${current.name} (${current.leavesChanged} leaf cell${current.leavesChanged === 1n ? "" : "s"} changed); the shared data stays as it is until you commit.`}
        </Caption1>
      )}
      {chosen && list !== null && !current && (
        <MessageBar intent="warning">
          <MessageBarBody>The sandbox this workbook uses for {cube} is not available to you (discarded, or not shared with you). Choose another, or the base.</MessageBarBody>
        </MessageBar>
      )}
      {error && (
        <MessageBar intent="error">
          <MessageBarBody>{error}</MessageBarBody>
        </MessageBar>
      )}
      {met && (
        <section className={`${styles.item} ${styles.conflictItem}`} aria-label="Commit not done">
          <Text weight="semibold" className={styles.text}>
            Not committed: {met.count} cell{met.count === 1 ? "" : "s"} changed in the base since
          </Text>
          <ul className={styles.list} aria-label="Cells changed in the base">
            {met.conflicts.map((c) => (
              <li key={keyOf(c)} className={styles.conflict}>
                <Text className={styles.text} title={c.members.join(", ")}>
                  {cellLabel(c.members)}
                </Text>
                <Caption1 className={styles.muted}>
                  yours {formatValue(c.sandboxValue)}; theirs {formatValue(c.baseValue)} by {c.updatedBy || "someone"}, {formatTime(c.updatedAt ? timestampMs(c.updatedAt) : 0)}
                </Caption1>
                <RadioGroup
                  layout="horizontal"
                  aria-label={`For ${cellLabel(c.members)}`}
                  value={met.keep[keyOf(c)] ? "mine" : "theirs"}
                  onChange={(_, d) => setMet({ ...met, keep: { ...met.keep, [keyOf(c)]: d.value === "mine" } })}
                >
                  <Radio value="mine" label="Keep mine" />
                  <Radio value="theirs" label="Take theirs" />
                </RadioGroup>
              </li>
            ))}
          </ul>
          {met.count > met.conflicts.length && <Caption1 className={styles.muted}>and {met.count - met.conflicts.length} more, kept as the base has them</Caption1>}
          <div className={styles.buttons}>
            <Button appearance="primary" disabled={busy} onClick={() => commit(met.conflicts.filter((c) => met.keep[keyOf(c)]), true)}>
              Commit with these choices
            </Button>
            <Button disabled={busy} onClick={() => setMet(null)}>
              Cancel
            </Button>
          </div>
        </section>
      )}
      {mineOpen && !met && !confirmDiscard && (
        <div className={styles.buttons}>
          <Button appearance="primary" disabled={busy} onClick={() => commit([], false)}>
            Commit to the base
          </Button>
          <Button disabled={busy} onClick={() => setConfirmDiscard(true)}>
            Discard
          </Button>
        </div>
      )}
      {confirmDiscard && current && (
        <section className={styles.item} aria-label="Discard sandbox">
          <Text className={styles.text}>Discard sandbox {current.name} and every change in it?</Text>
          <div className={styles.buttons}>
            <Button appearance="primary" disabled={busy} onClick={() => discard()}>
              Discard sandbox
            </Button>
            <Button disabled={busy} onClick={() => setConfirmDiscard(false)}>
              Cancel
            </Button>
          </div>
        </section>
      )}
      <div className={styles.create}>
        <Field label="New sandbox" className={styles.grow}>
          <Input value={name} onChange={(_, d) => setName(d.value)} placeholder="e.g. Q3 what-if" />
        </Field>
        <Button disabled={busy || name.trim() === ""} onClick={() => create()}>
          Create
        </Button>
      </div>
    </section>
  );
}
