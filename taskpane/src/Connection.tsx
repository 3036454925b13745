import { Button, Caption1, Field, Input, makeStyles, MessageBar, MessageBarBody, Select, Spinner, Text, tokens } from "@fluentui/react-components";
import { type FormEvent, useEffect, useId, useState } from "react";
import type { AuthState, ConnectionSettings, ConnectionState, Observable, QatomApi, SeededUser, SignIn } from "../../addin/src/contracts";
import { streamsLine } from "./format";
import { errorMessage, useAuthState, useConnectionState } from "./hooks";

const useStyles = makeStyles({
  section: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS },
  summary: { display: "flex", alignItems: "flex-start", justifyContent: "space-between", gap: tokens.spacingHorizontalS },
  summaryText: { display: "flex", flexDirection: "column", minWidth: 0, overflowWrap: "anywhere" },
  form: { display: "flex", flexDirection: "column", gap: tokens.spacingVerticalS },
  buttons: { display: "flex", gap: tokens.spacingHorizontalS, flexWrap: "wrap" },
  muted: { color: tokens.colorNeutralForeground3 },
  ok: { color: tokens.colorPaletteGreenForeground1 },
  bad: { color: tokens.colorPaletteRedForeground1 },
});

/** Props of {@link ConnectionPanel}. */
export interface ConnectionPanelProps {
  settings: ConnectionSettings;
  /** Clients of the signed-in user (re-created when the user changes). */
  clients: QatomApi;
  /** The shared runtime's sign-in. */
  auth: SignIn;
  /** The shared runtime's connection state (its streams, the protocol, a pending reconnect). */
  connection: Observable<ConnectionState>;
  onSave(settings: ConnectionSettings): void | Promise<void>;
}

/**
 * The streams' line (see {@link streamsLine}), a polite status. While it counts a retry down, the
 * seconds are hidden from screen readers, which would otherwise read the line every second.
 */
function StreamsStatus({ connection }: { connection: Observable<ConnectionState> }) {
  const styles = useStyles();
  const state = useConnectionState(connection);
  const [now, setNow] = useState(() => Date.now());
  const counting = state.status === "disconnected" && state.retryAt !== undefined;
  useEffect(() => {
    if (!counting) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [counting]);
  const line = streamsLine(state, now);
  if (!line) return null;
  return (
    <Caption1 role="status" className={line.ok ? styles.ok : styles.bad}>
      {line.text}
      {line.seconds !== undefined && (
        <>
          <span aria-hidden="true"> in {line.seconds} s</span>…{state.message ? ` ${state.message}` : ""}
        </>
      )}
    </Caption1>
  );
}

/** How the server signs users in, in a few words. */
function providerLabel(s: Extract<AuthState, { via: unknown }>): string {
  if (s.via === "development") return "development sign-in";
  return s.via === "naa" ? "Microsoft, single sign-on" : "Microsoft";
}

/** The seeded user's label in the picker: name, id, and whether they administer the server. */
function userLabel(u: SeededUser): string {
  return `${u.name}${u.name !== u.id ? ` (${u.id})` : ""}${u.admin ? " – administrator" : ""}`;
}

/**
 * Who is signed in and to which server: the display name and the server, whether the server
 * answers, and Sign out; when nobody is signed in, the way this server signs users in: a choice of
 * its seeded users in development mode, "Sign in with Microsoft" with Entra ID. Below, the state of
 * the runtime's streams: how many are live and over which protocol, or when they reconnect. The
 * server URL is changed in a form behind "Change server".
 */
export function ConnectionPanel({ settings, clients, auth, connection, onSave }: ConnectionPanelProps) {
  const styles = useStyles();
  const headingId = useId();
  const formId = useId();
  const state = useAuthState(auth);
  const [editing, setEditing] = useState(false);
  const [serverUrl, setServerUrl] = useState(settings.serverUrl);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [reach, setReach] = useState<{ ok: boolean; text: string } | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);

  // The pane may open before the runtime has started: make sure sign-in has read its configuration.
  useEffect(() => {
    void auth.start();
  }, [auth]);

  const signedIn = state.status === "signedIn";
  useEffect(() => {
    if (!signedIn) {
      setReach(null);
      return;
    }
    let alive = true;
    setReach(null);
    clients.lattice.listCubes({}).then(
      (r) => alive && setReach({ ok: true, text: `Connected: ${r.cubes.map((c) => c.name).join(", ") || "no cubes"}` }),
      (err: unknown) => alive && setReach({ ok: false, text: `Not connected: ${errorMessage(err)}` }),
    );
    return () => {
      alive = false;
    };
  }, [clients, signedIn]);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    const next = { serverUrl: serverUrl.trim() };
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

  const signOut = async () => {
    setActionError(null);
    try {
      await auth.signOut();
    } catch (err) {
      setActionError(errorMessage(err));
    }
  };

  return (
    <section aria-labelledby={headingId} className={styles.section}>
      <div className={styles.summary}>
        <div className={styles.summaryText}>
          <Text as="h2" id={headingId} weight="semibold" size={400}>
            Connection
          </Text>
          {state.status === "signedIn" ? (
            <>
              <Text>
                Signed in as <Text weight="semibold">{state.user.name}</Text>
              </Text>
              <Caption1 className={styles.muted}>
                {state.user.name !== state.user.id ? `${state.user.id} ` : ""}at {state.serverUrl} ({providerLabel(state)})
              </Caption1>
            </>
          ) : (
            <Caption1>
              {state.status === "loading" ? "Checking sign-in" : "Not signed in"} at {state.serverUrl || settings.serverUrl}
            </Caption1>
          )}
          {reach && (
            <Caption1 role="status" className={reach.ok ? styles.ok : styles.bad}>
              {reach.text}
            </Caption1>
          )}
          <StreamsStatus connection={connection} />
        </div>
        <Button size="small" aria-expanded={editing} aria-controls={formId} onClick={() => setEditing(!editing)}>
          {editing ? "Close" : "Change server"}
        </Button>
      </div>

      {state.status === "signedIn" && (
        <div className={styles.buttons}>
          <Button size="small" onClick={signOut}>
            Sign out
          </Button>
        </div>
      )}
      {state.status === "loading" && <Spinner size="tiny" label="Reading the server's sign-in" />}
      {state.status === "unavailable" && (
        <MessageBar intent="error">
          <MessageBarBody>
            Cannot sign in: {state.message}{" "}
            <Button size="small" appearance="transparent" onClick={() => void auth.start()}>
              Try again
            </Button>
          </MessageBarBody>
        </MessageBar>
      )}
      {(state.status === "signedOut" || state.status === "signingIn") && <SignInForm auth={auth} state={state} onError={setActionError} />}
      {state.status === "signedOut" && state.message && !actionError && (
        <MessageBar intent="warning">
          <MessageBarBody>{state.message}</MessageBarBody>
        </MessageBar>
      )}
      {actionError && (
        <MessageBar intent="error">
          <MessageBarBody>{actionError}</MessageBarBody>
        </MessageBar>
      )}

      {editing && (
        <form id={formId} className={styles.form} onSubmit={save} aria-label="Connection settings">
          <Field label="Server URL" hint="Changing the server signs you in again, to that server" validationMessage={saveError ?? undefined}>
            <Input type="url" value={serverUrl} onChange={(_, d) => setServerUrl(d.value)} placeholder="https://localhost:3000" />
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

/** Props of {@link SignInForm}. */
interface SignInFormProps {
  auth: SignIn;
  state: Extract<AuthState, { status: "signedOut" | "signingIn" }>;
  onError(message: string | null): void;
}

/**
 * Signing in: in development mode a choice of the server's seeded users (or a user id, when it
 * lists none); with Entra ID one button, which opens Microsoft's sign-in (a pop-up through Office,
 * or the sign-in dialog).
 */
function SignInForm({ auth, state, onError }: SignInFormProps) {
  const styles = useStyles();
  const config = state.config;
  const users = config.mode === "development" ? config.users : [];
  const [user, setUser] = useState(users[0]?.id ?? "");
  const busy = state.status === "signingIn";

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    onError(null);
    try {
      await auth.signIn(config.mode === "development" ? { user: user.trim() } : {});
    } catch (err) {
      onError(errorMessage(err));
    }
  };

  if (config.mode === "oidc") {
    return (
      <form className={styles.form} onSubmit={submit} aria-label="Sign in">
        <div className={styles.buttons}>
          <Button appearance="primary" type="submit" disabled={busy}>
            Sign in with Microsoft
          </Button>
          {busy && <Spinner size="tiny" label="Signing in…" />}
        </div>
      </form>
    );
  }
  return (
    <form className={styles.form} onSubmit={submit} aria-label="Sign in">
      {users.length > 0 ? (
        <Field label="Sign in as" hint="Development sign-in: this server has no identity provider, so you pick one of its users">
          <Select value={user} onChange={(_, d) => setUser(d.value)}>
            {users.map((u) => (
              <option key={u.id} value={u.id}>
                {userLabel(u)}
              </option>
            ))}
          </Select>
        </Field>
      ) : (
        <Field label="User id" hint="Development sign-in: this server has no identity provider and lists no users">
          <Input value={user} onChange={(_, d) => setUser(d.value)} autoComplete="username" />
        </Field>
      )}
      <div className={styles.buttons}>
        <Button appearance="primary" type="submit" disabled={busy || !user.trim()}>
          Sign in
        </Button>
        {busy && <Spinner size="tiny" label="Signing in…" />}
      </div>
    </form>
  );
}
