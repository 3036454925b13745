import { Button, Caption1, Field, Input, makeStyles, Text, tokens } from "@fluentui/react-components";
import { type FormEvent, useEffect, useId, useState } from "react";
import type { ConnectionSettings, QatomApi } from "../../addin/src/contracts";
import { errorMessage } from "./hooks";

const useStyles = makeStyles({
  summary: { display: "flex", alignItems: "flex-start", justifyContent: "space-between", gap: tokens.spacingHorizontalS },
  summaryText: { display: "flex", flexDirection: "column", minWidth: 0, overflowWrap: "anywhere" },
  form: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS, marginTop: tokens.spacingVerticalS },
  buttons: { display: "flex", gap: tokens.spacingHorizontalS },
  ok: { color: tokens.colorPaletteGreenForeground1 },
  bad: { color: tokens.colorPaletteRedForeground1 },
});

/** Props of {@link ConnectionPanel}. */
export interface ConnectionPanelProps {
  settings: ConnectionSettings;
  clients: QatomApi;
  onSave(settings: ConnectionSettings): void | Promise<void>;
}

/**
 * The server URL and user name: a one-line summary with the server's reachability, and a form to
 * change them (open at first, while no user name is set).
 */
export function ConnectionPanel({ settings, clients, onSave }: ConnectionPanelProps) {
  const styles = useStyles();
  const headingId = useId();
  const formId = useId();
  const [editing, setEditing] = useState(!settings.userName.trim());
  const [serverUrl, setServerUrl] = useState(settings.serverUrl);
  const [userName, setUserName] = useState(settings.userName);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [reach, setReach] = useState<{ ok: boolean; text: string } | null>(null);

  useEffect(() => {
    let alive = true;
    setReach(null);
    clients.lattice.listCubes({}).then(
      (r) => alive && setReach({ ok: true, text: `Connected: ${r.cubes.map((c) => c.name).join(", ") || "no cubes"}` }),
      (err: unknown) => alive && setReach({ ok: false, text: `Not connected: ${errorMessage(err)}` }),
    );
    return () => {
      alive = false;
    };
  }, [clients]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const next = { serverUrl: serverUrl.trim(), userName: userName.trim() };
    try {
      new URL(next.serverUrl);
    } catch {
      setSaveError("Enter the server's full URL, e.g. https://localhost:3000");
      return;
    }
    try {
      await onSave(next);
      setSaveError(null);
      setEditing(false);
    } catch (err) {
      setSaveError(errorMessage(err));
    }
  };

  return (
    <section aria-labelledby={headingId}>
      <div className={styles.summary}>
        <div className={styles.summaryText}>
          <Text as="h2" id={headingId} weight="semibold" size={400}>
            Connection
          </Text>
          <Caption1>
            {settings.userName.trim() || "no user name"} at {settings.serverUrl || "no server"}
          </Caption1>
          {reach && (
            <Caption1 role="status" className={reach.ok ? styles.ok : styles.bad}>
              {reach.text}
            </Caption1>
          )}
        </div>
        <Button size="small" aria-expanded={editing} aria-controls={formId} onClick={() => setEditing(!editing)}>
          {editing ? "Close" : "Change"}
        </Button>
      </div>
      {editing && (
        <form id={formId} className={styles.form} onSubmit={submit} aria-label="Connection settings">
          <Field label="Server URL" validationMessage={saveError ?? undefined}>
            <Input type="url" value={serverUrl} onChange={(_, d) => setServerUrl(d.value)} placeholder="https://localhost:3000" />
          </Field>
          <Field label="User name" hint="Recorded with your writes and comments">
            <Input value={userName} onChange={(_, d) => setUserName(d.value)} autoComplete="username" />
          </Field>
          <div className={styles.buttons}>
            <Button appearance="primary" type="submit">
              Save connection
            </Button>
          </div>
        </form>
      )}
    </section>
  );
}
