import { Button, Caption1, Text, makeStyles, tokens } from "@fluentui/react-components";
import { useId, useState, useSyncExternalStore } from "react";
import type { QatomApi } from "../../addin/src/contracts";
import {
  type AxisName,
  keepOnly,
  locate,
  type ReportDef,
  type ReportMember,
  removeMember,
  reportSize,
  sheetAndLocal,
  setContext,
  swapAxes,
  zoomIn,
  zoomOut,
} from "../../addin/src/reports/report";
import type { WorkbookReportsApi } from "../../addin/src/reports/workbook-reports";
import { MemberRelation } from "../../proto/gen/quantatom/v1/lattice_pb";
import { cardStyles } from "./card-styles";
import { memberName } from "./format";
import { errorMessage, useCubes } from "./hooks";
import { ContextPicker, memberNode, reportMemberOf } from "./MemberPicker";

const useStyles = makeStyles({
  ...cardStyles,
  muted: { color: tokens.colorNeutralForeground3, overflowWrap: "anywhere" },
});

/** The dimension of a unique name (`[Store].[USA]` -> `Store`). */
const dimensionOf = (uniqueName: string) => uniqueName.slice(1).split("]")[0];

/**
 * A member's own record (GetMembers SEARCH by its name, the exact unique name kept): its caption,
 * depth and parent. @throws Error when the cube does not know it (or the caller may not see it).
 */
async function memberInfo(clients: QatomApi, cube: string, uniqueName: string) {
  const res = await clients.lattice.getMembers({ cube, dimension: dimensionOf(uniqueName), relation: MemberRelation.SEARCH, query: memberName(uniqueName), limit: 100_000 });
  const m = res.members.find((x) => x.uniqueName === uniqueName);
  if (!m) throw new Error(`${uniqueName} is not a member you can see in ${cube}.`);
  return m;
}

/**
 * "Report": for a selected cell of a report built in the pane (ReportBuilder.tsx), reshape it in
 * place: zoom in (the member replaced by its children, GetMembers), zoom out (it and its siblings
 * replaced by its parent), keep only, remove, swap rows and columns, and change a context member.
 * On a header the member is the header's; on a data cell, its innermost row member. The add-in
 * rewrites the report's block (addin/src/reports/workbook-reports.ts), pending changes moving with
 * the cells that stay.
 */
export function ReportReshapePanel({ clients, reports, address, announce }: { clients: QatomApi; reports: WorkbookReportsApi; address: string; announce: (message: string) => void }) {
  const styles = useStyles();
  const headingId = useId();
  useSyncExternalStore(
    (fn) => reports.subscribe(fn),
    () => reports.get(),
  );
  const def = reports.at(address);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  if (!def) return null;
  const local = sheetAndLocal(address)?.local ?? "";
  const part = locate(def, local);
  const layout = reportSize(def);

  type Target = { axis: AxisName; index: number; member: ReportMember };
  /** The member the buttons act on in a report, with its axis: a header's, or a value cell's innermost row member. */
  const targetIn = (d: ReportDef): Target | null => {
    const p = locate(d, local);
    if (p?.kind === "row") return { axis: "rows", index: p.axis, member: p.member };
    if (p?.kind === "column") return { axis: "columns", index: p.axis, member: p.member };
    if (p?.kind === "data") return { axis: "rows", index: p.row.length - 1, member: p.row[p.row.length - 1] };
    return null;
  };
  const target = targetIn(def);

  /**
   * Reshapes the report as the sheet shows it now (headers typed over count: reports.fromSheet),
   * acting on the selected cell's member there.
   */
  const apply = async (what: string, next: (base: ReportDef, t: Target | null) => Promise<ReportDef> | ReportDef) => {
    setBusy(true);
    setError(null);
    try {
      const base = await reports.fromSheet(def);
      await reports.write(await next(base, targetIn(base)), base);
      announce(`${what}: the report is rewritten.`);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  /** `t` or, when the sheet no longer shows a member there, an error that says so. */
  const need = (t: Target | null): Target => {
    if (!t) throw new Error("The selected cell is no longer a header or a value of the report.");
    return t;
  };

  const zoomInto = async (base: ReportDef, found: Target | null) => {
    const t = need(found);
    const res = await clients.lattice.getMembers({ cube: base.cube, dimension: base[t.axis][t.index].dimension, relation: MemberRelation.CHILDREN, parent: t.member.uniqueName, limit: 100_000 });
    return zoomIn(base, t.axis, t.index, t.member.uniqueName, res.members.map((m) => reportMemberOf(memberNode(m))));
  };

  const zoomOutOf = async (base: ReportDef, found: Target | null) => {
    const t = need(found);
    const self = await memberInfo(clients, base.cube, t.member.uniqueName);
    if (!self.parentUniqueName) throw new Error(`${t.member.caption} is at the top of its hierarchy.`);
    const p = await memberInfo(clients, base.cube, self.parentUniqueName);
    return zoomOut(base, t.axis, t.index, reportMemberOf(memberNode(p)));
  };

  return (
    <section aria-labelledby={headingId} className={styles.section}>
      <h3 id={headingId}>Report</h3>
      <Caption1 className={styles.muted}>
        {def.cube} report at {def.sheet}!{def.anchor}: {layout.rows} rows by {layout.cols} columns
      </Caption1>
      {target && (
        <>
          <Text>
            {target.member.caption} ({def[target.axis][target.index].dimension}, {target.axis})
          </Text>
          <div className={styles.buttons}>
            <Button size="small" disabled={busy || target.member.isLeaf} onClick={() => void apply(`Zoomed in on ${target.member.caption}`, zoomInto)}>
              Zoom in
            </Button>
            <Button size="small" disabled={busy} onClick={() => void apply(`Zoomed out of ${target.member.caption}`, zoomOutOf)}>
              Zoom out
            </Button>
            <Button size="small" disabled={busy} onClick={() => void apply(`Kept only ${target.member.caption}`, (base, found) => {
                const t = need(found);
                return keepOnly(base, t.axis, t.index, t.member.uniqueName);
              })}>
              Keep only
            </Button>
            <Button size="small" disabled={busy} onClick={() => void apply(`Removed ${target.member.caption}`, (base, found) => {
                const t = need(found);
                return removeMember(base, t.axis, t.index, t.member.uniqueName);
              })}>
              Remove
            </Button>
          </div>
        </>
      )}
      <div className={styles.buttons}>
        <Button size="small" disabled={busy} onClick={() => void apply("Rows and columns swapped", (base) => swapAxes(base))}>
          Swap rows and columns
        </Button>
      </div>
      {part?.kind === "context" && (
        <ContextChange clients={clients} def={def} index={part.index} onPick={(m) => void apply(`${def.context[part.index].dimension} is now ${m.caption}`, (base) => setContext(base, part.index, m))} />
      )}
      {error && <Text className={styles.muted}>{error}</Text>}
    </section>
  );
}

/** The selected context cell's dimension in the member picker (one member); picking another rewrites the report. */
function ContextChange({ clients, def, index, onPick }: { clients: QatomApi; def: ReportDef; index: number; onPick(m: ReportMember): void }) {
  const styles = useStyles();
  const c = def.context[index];
  const { cubes, error: cubesError } = useCubes(clients);
  const dimension = cubes?.find((x) => x.name === def.cube)?.dimensions.find((x) => x.name === c.dimension) ?? null;
  const error = cubesError ?? (cubes && !dimension ? `${def.cube} has no dimension ${c.dimension} you can see.` : null);
  return (
    <>
      <Text>
        {c.dimension}: {c.caption}
      </Text>
      {dimension && <ContextPicker clients={clients} cube={def.cube} dimension={dimension} context={c} onPick={onPick} />}
      {error && <Text className={styles.muted}>{error}</Text>}
    </>
  );
}
