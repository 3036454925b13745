import { Button, Field, Select, Text, makeStyles, tokens } from "@fluentui/react-components";
import { useId, useState } from "react";
import { splitSheet } from "../../addin/src/address";
import type { QatomApi } from "../../addin/src/contracts";
import type { ReportMember } from "../../addin/src/reports/report";
import type { WorkbookReportsApi } from "../../addin/src/reports/workbook-reports";
import { cardStyles } from "./card-styles";
import { errorMessage, useCubes } from "./hooks";
import { MemberPicker } from "./MemberPicker";

const useStyles = makeStyles({
  ...cardStyles,
  muted: { color: tokens.colorNeutralForeground3, overflowWrap: "anywhere" },
  pair: { display: "flex", gap: tokens.spacingHorizontalS, "& > *": { flexGrow: 1, minWidth: 0 } },
});

/**
 * "Insert members": the member picker on its own. Choose a cube's dimension, pick members (a
 * level, a search, leaves below a member), and insert their unique names down a column from the
 * selected cell (captions shown, indented by depth), for reports written by hand.
 */
export function InsertMembersPanel({ clients, reports, address, announce }: { clients: QatomApi; reports: WorkbookReportsApi; address: string | null; announce: (message: string) => void }) {
  const styles = useStyles();
  const headingId = useId();
  const { cubes, error: cubesError } = useCubes(clients);
  const [cubeName, setCubeName] = useState("");
  const [dimName, setDimName] = useState("");
  const [members, setMembers] = useState<ReportMember[]>([]);
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);


  const cube = cubes?.find((c) => c.name === cubeName) ?? cubes?.[0] ?? null;
  const dimension = cube?.dimensions.find((d) => d.name === dimName) ?? cube?.dimensions[0] ?? null;

  const insert = async () => {
    if (!address) return;
    setError(null);
    try {
      await reports.insertMembers(address, members);
      announce(`${members.length} members inserted from ${address}.`);
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <section aria-labelledby={headingId} className={styles.section}>
      <h3 id={headingId}>Insert members</h3>
      {cube && dimension ? (
        <>
          <div className={styles.pair}>
            <Field label="Members of cube">
              <Select value={cube.name} onChange={(_, d) => {
                  setCubeName(d.value);
                  setMembers([]);
                }}>
                {cubes?.map((c) => (
                  <option key={c.name}>{c.name}</option>
                ))}
              </Select>
            </Field>
            <Field label="Dimension">
              <Select value={dimension.name} onChange={(_, d) => {
                  setDimName(d.value);
                  setMembers([]);
                }}>
                {cube.dimensions.map((d) => (
                  <option key={d.name}>{d.name}</option>
                ))}
              </Select>
            </Field>
          </div>
          <div className={styles.buttons}>
            <Button size="small" aria-expanded={open} onClick={() => setOpen(!open)}>
              {open ? "Close the member picker" : `Pick ${dimension.name} members`}
            </Button>
            <Button size="small" disabled={!address || members.length === 0} onClick={() => void insert()}>
              {address ? `Insert ${members.length} at ${splitSheet(address).local}` : "Insert (select a cell)"}
            </Button>
          </div>
          {open && <MemberPicker key={`${cube.name}/${dimension.name}`} clients={clients} cube={cube.name} dimension={dimension} selected={members} onChange={setMembers} label={`${dimension.name} members to insert`} />}
        </>
      ) : (
        <Text className={styles.muted}>{cubesError ?? "Reading the cubes…"}</Text>
      )}
      {error && <Text className={styles.muted}>{error}</Text>}
    </section>
  );
}
