/** React hooks over the pane's data sources: sign-in, the host's selection, pending writes, the live cell. */
import { ConnectError } from "@connectrpc/connect";
import { useEffect, useRef, useState, useSyncExternalStore } from "react";
import type { AuthState, CellRef, HeldCell, Holds, PendingWrite, PendingWrites, QatomApi, SignIn } from "../../addin/src/contracts";
import type { SelectedCell, TaskpaneHost } from "./host";

/** A message for a person from anything thrown (Connect errors keep only their message). */
export function errorMessage(err: unknown): string {
  if (err instanceof ConnectError) return err.rawMessage;
  return err instanceof Error ? err.message : String(err);
}

/** The shared runtime's sign-in state, re-rendered on every change. */
export function useAuthState(auth: SignIn): AuthState {
  return useSyncExternalStore(
    (fn) => auth.state.subscribe(fn),
    () => auth.state.get(),
  );
}

/**
 * A key that changes whenever the signed-in user (or the server) does, "" while nobody is signed
 * in: clients and the data they read are made again for a new user.
 */
export function signedInKey(s: AuthState): string {
  return s.status === "signedIn" ? JSON.stringify([s.serverUrl, s.user.tenant ?? "", s.user.id]) : "";
}

/** The selected cell, kept current through the host's selection events. */
export function useSelection(host: TaskpaneHost): { selection: SelectedCell | null; error: string | null } {
  const [selection, setSelection] = useState<SelectedCell | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let latest = 0;
    let alive = true;
    const refresh = () => {
      const n = ++latest;
      host.getSelectedCell().then(
        (s) => {
          if (alive && n === latest) {
            setSelection(s);
            setError(null);
          }
        },
        (err: unknown) => {
          if (alive && n === latest) setError(errorMessage(err));
        },
      );
    };
    refresh();
    const off = host.onSelectionChanged(refresh);
    return () => {
      alive = false;
      off();
    };
  }, [host]);
  return { selection, error };
}

/** The pending writes, re-rendered on every change. */
export function usePendingList(pending: PendingWrites): PendingWrite[] {
  const [list, setList] = useState<PendingWrite[]>(() => pending.list());
  useEffect(() => {
    setList(pending.list());
    return pending.subscribe(() => setList(pending.list()));
  }, [pending]);
  return list;
}

/** The held cells, re-rendered on every change. */
export function useHolds(holds: Holds): readonly HeldCell[] {
  return useSyncExternalStore(
    (fn) => holds.subscribe(fn),
    () => holds.get(),
  );
}

/** A cell as the server has it now. */
export interface LiveCell {
  value: number | null;
  version: bigint;
  consolidated: boolean;
  /** Calculated by a member formula: read-only. */
  calculated: boolean;
}

/**
 * Watches one cell (WatchCells): its value, version and whether it is consolidated, updated
 * whenever anyone writes below it. `key` identifies the cell; a new key restarts the watch.
 */
export function useLiveCell(clients: QatomApi, cell: CellRef | null): { live: LiveCell | null; error: string | null } {
  // State is kept with the key of its cell, so a new cell never shows the previous one's values.
  const [state, setState] = useState<{ key: string; live: LiveCell | null; error: string | null }>({ key: "", live: null, error: null });
  const key = cell ? JSON.stringify([cell.cube, cell.members]) : "";
  const cellRef = useRef(cell);
  cellRef.current = cell;
  useEffect(() => {
    const c = cellRef.current;
    if (!key || !c) return;
    const abort = new AbortController();
    (async () => {
      try {
        const stream = clients.lattice.watchCells({ cube: c.cube, cells: [{ members: c.members }] }, { signal: abort.signal });
        for await (const msg of stream) {
          for (const u of msg.updates) {
            const m = u.cell;
            if (!m) continue;
            if (m.error) setState({ key, live: null, error: m.error.message });
            else setState({ key, live: { value: m.value ?? null, version: m.version, consolidated: m.consolidated, calculated: m.calculated }, error: null });
          }
        }
      } catch (err) {
        if (!abort.signal.aborted) setState({ key, live: null, error: errorMessage(err) });
      }
    })();
    return () => abort.abort();
  }, [clients, key]);
  return state.key === key ? { live: state.live, error: state.error } : { live: null, error: null };
}
