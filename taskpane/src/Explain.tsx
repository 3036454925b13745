import { Button, Caption1, MessageBar, MessageBarBody, Spinner, Text, makeStyles, tokens } from "@fluentui/react-components";
import { useEffect, useId, useState } from "react";
import type { CellRef, QatomApi } from "../../addin/src/contracts";
import type { ExplainCellResponse } from "../../proto/gen/quantatom/v1/lattice_pb";
import { cardStyles } from "./card-styles";
import { cellLabel, formatValue } from "./format";
import { errorMessage } from "./hooks";

const useStyles = makeStyles({
  ...cardStyles,
  text: { overflowWrap: "anywhere" },
  muted: { color: tokens.colorNeutralForeground3, overflowWrap: "anywhere" },
  bar: { height: "4px", backgroundColor: tokens.colorBrandBackground, borderRadius: "2px" },
  track: { height: "4px", backgroundColor: tokens.colorNeutralBackground3, borderRadius: "2px", overflow: "hidden" },
  contributor: { display: "flex", flexDirection: "column", gap: "2px" },
});

/** Contributors listed per dimension. */
const TOP = 5;

/** A share as a person reads it: `33.3 %`. */
function percent(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}

/**
 * "Explain this number" (ExplainCell) for the selected cell, on request: per dimension the children
 * that contribute most, with their values and shares (a bar each), the rest and the hidden ones
 * counted; for a calculated cell its formula and the cells it reads. **Explain** on a contributor
 * that has children zooms into it (the explained cell becomes that child's), **Back** returns.
 * Through the cube's chosen sandbox, when there is one.
 */
export function ExplainPanel({ clients, cell, sandbox = "", refresh }: { clients: QatomApi; cell: CellRef; sandbox?: string; refresh: string }) {
  const styles = useStyles();
  const headingId = useId();
  /** The explained cells, the selected one first; the last is shown. */
  const [stack, setStack] = useState<string[][] | null>(null);
  const [res, setRes] = useState<ExplainCellResponse | null>(null);
  const [error, setError] = useState<string | null>(null);
  const members = stack?.at(-1) ?? null;

  // biome-ignore lint/correctness/useExhaustiveDependencies: `refresh` (the cell's value moved) is a reason to read again
  useEffect(() => {
    setError(null);
    if (members === null) return;
    let alive = true;
    clients.lattice.explainCell({ cube: cell.cube, members, topN: TOP, sandbox }).then(
      (r) => alive && setRes(r),
      (err: unknown) => alive && setError(errorMessage(err)),
    );
    return () => {
      alive = false;
    };
  }, [clients, cell.cube, members, sandbox, refresh]);

  const zoom = (dimension: string, member: string) => {
    if (!res) return;
    const next = res.members.map((m) => (m.startsWith(`[${dimension}]`) ? member : m));
    setRes(null);
    setStack([...(stack ?? []), next]);
  };

  return (
    <section aria-labelledby={headingId} className={styles.section}>
      <div className={styles.row}>
        <Text as="h2" id={headingId} weight="semibold" size={400}>
          Explain
        </Text>
        {stack === null ? (
          <Button size="small" onClick={() => setStack([cell.members])}>
            Explain this number
          </Button>
        ) : (
          stack.length > 1 && (
            <Button
              size="small"
              appearance="subtle"
              onClick={() => {
                setRes(null);
                setStack(stack.slice(0, -1));
              }}
            >
              Back
            </Button>
          )
        )}
      </div>
      {error && (
        <MessageBar intent="error">
          <MessageBarBody>{error}</MessageBarBody>
        </MessageBar>
      )}
      {stack !== null && !res && !error && <Spinner size="tiny" label="Explaining the cell" />}
      {res && (
        <>
          <Text className={styles.text}>
            {cellLabel(res.members.filter((m) => !/^\[[^\]]+\]\.\[All /.test(m)))} = <b>{formatValue(res.cell?.value)}</b>
          </Text>
          {res.formula && (
            <section className={styles.item} aria-label="Formula">
              <Caption1 className={styles.muted}>Calculated: {res.formula}</Caption1>
              <ul className={styles.list} aria-label="Cells the formula reads">
                {res.operands.map((o) => (
                  <li key={o.members.join("|")} className={styles.row}>
                    <Text className={styles.text}>{cellLabel(o.members.filter((m) => res.members.indexOf(m) < 0))}</Text>
                    <Text>{o.hidden ? "(no access)" : formatValue(o.value)}</Text>
                  </li>
                ))}
              </ul>
            </section>
          )}
          {res.dimensions.map((d) => (
            <section key={d.dimension} className={styles.item} aria-label={`By ${d.dimension}`}>
              <Text weight="semibold">By {d.dimension}</Text>
              <ul className={styles.list} aria-label={`Contributors by ${d.dimension}`}>
                {d.contributors.map((c) => (
                  <li key={c.member} className={styles.contributor}>
                    <div className={styles.row}>
                      <Text className={styles.text}>{c.caption}</Text>
                      <Text>
                        {formatValue(c.value)} · {percent(c.share)}
                      </Text>
                    </div>
                    <div className={styles.track} aria-hidden="true">
                      <div className={styles.bar} style={{ width: `${Math.min(100, Math.abs(c.share) * 100)}%` }} />
                    </div>
                    {c.hasChildren && (
                      <Button size="small" appearance="subtle" onClick={() => zoom(d.dimension, c.member)} aria-label={`Explain ${c.caption}`}>
                        Explain {c.caption}
                      </Button>
                    )}
                  </li>
                ))}
              </ul>
              {d.others !== undefined && <Caption1 className={styles.muted}>Other members: {formatValue(d.others)}</Caption1>}
              {d.hidden > 0 && (
                <Caption1 className={styles.muted}>
                  {d.hidden} member{d.hidden === 1 ? "" : "s"} you may not read
                </Caption1>
              )}
            </section>
          ))}
          {res.dimensions.length === 0 && !res.formula && <Caption1 className={styles.muted}>A leaf cell: its value was loaded or written, not computed.</Caption1>}
        </>
      )}
    </section>
  );
}
