/**
 * Formulas not put back after typing (see addin/src/restores.ts): the cell, what was typed over it,
 * why, and what the user can do: Retry (the add-in retries on its own too) where the formula is
 * known, or Dismiss (the cell keeps what was typed). Shown only while there are some: a cell that
 * silently lost its QATOM formula would look like a planned number and never update again.
 */
import { Badge, Button, Caption1, Link, makeStyles, Text, tokens } from "@fluentui/react-components";
import { useId, useSyncExternalStore } from "react";
import type { RestoreProblems } from "../../addin/src/restores";
import type { TaskpaneHost } from "./host";

const useStyles = makeStyles({
  section: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS },
  heading: { display: "flex", alignItems: "center", gap: tokens.spacingHorizontalS },
  list: { listStyleType: "none", margin: 0, padding: 0, display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS },
  item: {
    display: "flex",
    flexDirection: "column",
    gap: tokens.spacingVerticalXS,
    padding: tokens.spacingVerticalS,
    borderLeft: `3px solid ${tokens.colorPaletteRedBorder2}`,
    backgroundColor: tokens.colorNeutralBackground1,
  },
  buttons: { display: "flex", gap: tokens.spacingHorizontalS },
});

/** The list of formulas not put back, for the pane; see the module comment. */
export function RestoresPanel({ restores, host, announce }: { restores: RestoreProblems; host: TaskpaneHost; announce(message: string): void }) {
  const styles = useStyles();
  const headingId = useId();
  const list = useSyncExternalStore(
    (fn) => restores.subscribe(fn),
    () => restores.list(),
  );
  if (list.length === 0) return null;
  return (
    <section aria-labelledby={headingId} className={styles.section}>
      <div className={styles.heading}>
        <Text as="h2" id={headingId} weight="semibold" size={400}>
          Formulas not put back
        </Text>
        <Badge color="danger">{list.length}</Badge>
      </div>
      <ul className={styles.list} aria-label="Formulas not put back">
        {list.map((p) => (
          <li key={p.id} className={styles.item}>
            <Link as="button" onClick={() => void host.selectCell(p.address).catch(() => undefined)} aria-label={`Go to ${p.address}`}>
              {p.address}
            </Link>
            <Caption1>Typed: {p.typed === "" ? "(cleared)" : p.typed}</Caption1>
            <Text role="alert">{p.message}</Text>
            {p.formula !== null && <Caption1>Tried {p.attempts} time{p.attempts === 1 ? "" : "s"}; trying again on its own.</Caption1>}
            <div className={styles.buttons}>
              {p.formula !== null && (
                <Button
                  size="small"
                  appearance="primary"
                  aria-label={`Retry ${p.address}`}
                  onClick={() => {
                    void restores.retry().then(() => announce(restores.list().some((x) => x.id === p.id) ? `${p.address}: still not put back` : `${p.address}: formula put back`));
                  }}
                >
                  Retry
                </Button>
              )}
              <Button size="small" aria-label={`Dismiss ${p.address}`} onClick={() => restores.dismiss(p.id)}>
                Dismiss
              </Button>
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}
