import { Button, Caption1, Field, Select, Text, makeStyles, tokens } from "@fluentui/react-components";
import { useEffect, useId, useState } from "react";
import { splitSheet } from "../../addin/src/address";
import type { QatomApi } from "../../addin/src/contracts";
import { layoutReport, type ReportAxis, type ReportContext, type ReportDef } from "../../addin/src/reports/report";
import type { WorkbookReportsApi } from "../../addin/src/reports/workbook-reports";
import type { DimensionInfo } from "../../proto/gen/quantatom/v1/lattice_pb";
import { cardStyles } from "./card-styles";
import { memberName } from "./format";
import { errorMessage, useCubes } from "./hooks";
import { ContextPicker, MemberPicker } from "./MemberPicker";

const useStyles = makeStyles({
  ...cardStyles,
  muted: { color: tokens.colorNeutralForeground3, overflowWrap: "anywhere" },
  axis: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalXS },
  context: { display: "grid", gridTemplateColumns: "auto 1fr auto", alignItems: "center", columnGap: tokens.spacingHorizontalS, rowGap: "2px" },
  value: { overflow: "hidden", textOverflow: "ellipsis", whiteSpace: "nowrap" },
});

/** A dimension's default member as the context starts with it (caption: its own name). */
const defaultContext = (d: DimensionInfo): ReportContext => ({ dimension: d.name, member: d.defaultMember, caption: d.defaultMember ? memberName(d.defaultMember) : "" });

/** Which picker is open: an axis's (rows or columns, its index) or a context dimension's. */
type Picking = { axis: "rows" | "columns"; index: number } | { context: string } | null;

/** A new report id (workbook-unique enough: time and randomness). */
const newId = () => `r${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

/**
 * "Build a report": the cube (ListCubes), the dimensions on rows (one or more, nested) and on
 * columns with their members chosen in the member picker, and the context (one member of every
 * other dimension, the defaults shown, each changeable in the picker). Insert lays the report out at
 * the selected cell (addin/src/reports/report.ts) as plain QATOM.CELL formulas that refer to their
 * headers and context, so the report streams like hand-written formulas; the data cells take the
 * measure's number format (read with GetCells).
 */
export function ReportBuilderPanel({
  clients,
  reports,
  address,
  announce,
}: {
  clients: QatomApi;
  reports: WorkbookReportsApi;
  /** The selected cell (with sheet), where Insert puts the report; null: none yet. */
  address: string | null;
  announce: (message: string) => void;
}) {
  const styles = useStyles();
  const headingId = useId();
  const { cubes, error: cubesError } = useCubes(clients);
  const [cubeName, setCubeName] = useState("");
  const [rows, setRows] = useState<ReportAxis[]>([]);
  const [columns, setColumns] = useState<ReportAxis[]>([]);
  const [context, setContext] = useState<Record<string, ReportContext>>({});
  const [picking, setPicking] = useState<Picking>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);


  const cube = cubes?.find((c) => c.name === cubeName) ?? cubes?.[0] ?? null;
  // A new cube: the first dimension (not Measures) down, the next across, every other in the context.
  useEffect(() => {
    if (!cube) return;
    const plain = cube.dimensions.filter((d) => d.name !== "Measures");
    setRows(plain[0] ? [{ dimension: plain[0].name, members: [] }] : []);
    setColumns(plain[1] ? [{ dimension: plain[1].name, members: [] }] : []);
    setContext(Object.fromEntries(cube.dimensions.map((d) => [d.name, defaultContext(d)])));
    setPicking(null);
  }, [cube]);

  if (!cubes || !cube) {
    return (
      <section aria-labelledby={headingId} className={styles.section}>
        <h3 id={headingId}>Build a report</h3>
        <Text className={styles.muted}>{cubesError ?? "Reading the cubes…"}</Text>
      </section>
    );
  }

  const dimensionOf = (name: string) => cube.dimensions.find((d) => d.name === name)!;
  const onAxes = new Set([...rows, ...columns].map((a) => a.dimension));
  const contextDims = cube.dimensions.filter((d) => !onAxes.has(d.name));
  const free = (current: string) => cube.dimensions.filter((d) => d.name === current || !onAxes.has(d.name));

  const setAxis = (axis: "rows" | "columns", index: number, next: ReportAxis | null) => {
    const [list, set] = axis === "rows" ? [rows, setRows] : [columns, setColumns];
    set(next ? list.map((a, i) => (i === index ? next : a)) : list.filter((_, i) => i !== index));
  };

  const insert = async () => {
    if (!address) return;
    const { sheet, local } = splitSheet(address);
    const def: ReportDef = {
      id: newId(),
      cube: cube.name,
      sheet,
      anchor: local.replace(/\$/g, "").split(":")[0],
      context: contextDims.map((d) => context[d.name] ?? defaultContext(d)),
      rows,
      columns,
    };
    setBusy(true);
    setError(null);
    try {
      const layout = layoutReport(def);
      // The measure's format: the first data cell's, as the cube gives it.
      const first = [...def.context.map((c) => c.member), ...rows.map((a) => a.members[0].uniqueName), ...columns.map((a) => a.members[0].uniqueName)].filter(Boolean);
      const read = await clients.lattice.getCells({ cube: cube.name, cells: [{ members: first }] });
      const format = read.cells[0]?.formatString;
      await reports.write(format ? { ...def, numberFormat: format } : def);
      announce(`Report inserted at ${address}: ${layout.rows} rows by ${layout.cols} columns.`);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const axisEditor = (axis: "rows" | "columns", list: ReportAxis[]) => {
    const title = axis === "rows" ? "Rows" : "Columns";
    return (
      <div className={styles.axis}>
        {list.map((a, i) => {
          const open = picking !== null && "axis" in picking && picking.axis === axis && picking.index === i;
          return (
            <div key={`${axis}${a.dimension}`} className={styles.axis}>
              <Field label={list.length > 1 ? `${title}, level ${i + 1}` : title}>
                <Select value={a.dimension} onChange={(_, d) => setAxis(axis, i, { dimension: d.value, members: [] })}>
                  {free(a.dimension).map((d) => (
                    <option key={d.name}>{d.name}</option>
                  ))}
                </Select>
              </Field>
              <Caption1 className={styles.muted}>
                {a.members.length === 0 ? "No members chosen." : `${a.members.length.toLocaleString("en-US")} chosen: ${a.members.slice(0, 6).map((m) => m.caption).join(", ")}${a.members.length > 6 ? ", …" : ""}`}
              </Caption1>
              <div className={styles.buttons}>
                <Button size="small" aria-expanded={open} onClick={() => setPicking(open ? null : { axis, index: i })}>
                  {open ? `Done choosing ${a.dimension}` : `Choose ${a.dimension} members`}
                </Button>
                {list.length > 1 && (
                  <Button size="small" onClick={() => setAxis(axis, i, null)}>
                    Remove {a.dimension} from {title.toLowerCase()}
                  </Button>
                )}
              </div>
              {open && (
                <MemberPicker
                  clients={clients}
                  cube={cube.name}
                  dimension={dimensionOf(a.dimension)}
                  selected={a.members}
                  onChange={(members) => setAxis(axis, i, { ...a, members })}
                  label={`${a.dimension} members`}
                />
              )}
            </div>
          );
        })}
        {contextDims.length > 0 && (
          <Button
            size="small"
            onClick={() => (axis === "rows" ? setRows : setColumns)([...list, { dimension: contextDims[0].name, members: [] }])}
          >
            Nest another dimension in {title.toLowerCase()}
          </Button>
        )}
      </div>
    );
  };

  const ready = rows.length > 0 && columns.length > 0 && [...rows, ...columns].every((a) => a.members.length > 0);

  return (
    <section aria-labelledby={headingId} className={styles.section}>
      <h3 id={headingId}>Build a report</h3>
      <Field label="Cube">
        <Select value={cube.name} onChange={(_, d) => setCubeName(d.value)}>
          {cubes.map((c) => (
            <option key={c.name}>{c.name}</option>
          ))}
        </Select>
      </Field>
      {axisEditor("rows", rows)}
      {axisEditor("columns", columns)}
      <Text weight="semibold">Context</Text>
      <div className={styles.context}>
        {contextDims.map((d) => {
          const c = context[d.name] ?? defaultContext(d);
          const open = picking !== null && "context" in picking && picking.context === d.name;
          return (
            <ContextRow key={d.name} label={d.name} value={c.caption || "(none)"} title={c.member} open={open} onToggle={() => setPicking(open ? null : { context: d.name })}>
              {open && (
                <ContextPicker clients={clients} cube={cube.name} dimension={d} context={c} onPick={(m) => setContext({ ...context, [d.name]: { dimension: d.name, member: m.uniqueName, caption: m.caption } })} />
              )}
            </ContextRow>
          );
        })}
      </div>
      <Button appearance="primary" disabled={!ready || !address || busy} onClick={() => void insert()}>
        {address ? `Insert report at ${splitSheet(address).local}` : "Insert report (select a cell)"}
      </Button>
      {!ready && <Caption1 className={styles.muted}>Choose members for every dimension on rows and columns.</Caption1>}
      {error && <Text className={styles.muted}>{error}</Text>}
    </section>
  );
}

/** One context dimension: its name, the member shown, and Change (opens the picker below it). */
function ContextRow({ label, value, title, open, onToggle, children }: { label: string; value: string; title: string; open: boolean; onToggle(): void; children: React.ReactNode }) {
  const styles = useStyles();
  return (
    <>
      <Text>{label}</Text>
      <Text className={styles.value} title={title}>
        {value}
      </Text>
      <Button size="small" aria-expanded={open} aria-label={`Change ${label} (${value})`} onClick={onToggle}>
        {open ? "Done" : "Change"}
      </Button>
      {open && <div style={{ gridColumn: "1 / -1" }}>{children}</div>}
    </>
  );
}
