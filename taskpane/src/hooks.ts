/** React hooks over the pane's data sources: sign-in, the host's selection, pending writes, the live cell, the connection, the sandbox chosen. */
import { ConnectError } from "@connectrpc/connect";
import { useEffect, useRef, useState, useSyncExternalStore } from "react";
import type { AddinContext, AuthState, CellRef, ConnectionState, HeldCell, Holds, Observable, PendingWrite, PendingWrites, SandboxChoices, SignIn } from "../../addin/src/contracts";
import type { QatomApi } from "../../addin/src/contracts";
import type { CubeInfo } from "../../proto/gen/quantatom/v1/lattice_pb";
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
  /** Read through a sandbox that changed it (or a leaf below it). */
  sandboxChanged: boolean;
}

/**
 * Follows one cell through the shared runtime's cell feed (`AddinContext.watchCell`: the server's value, not an entry waiting over it): its value,
 * version and whether it is consolidated or calculated, updated whenever anyone writes below it.
 * The cell joins its cube's one WatchCells stream (the one the sheet's QATOM.CELL formulas share;
 * the selected formula's cell is already on it), so the pane opens no stream of its own. A new cell
 * (cube and members) follows anew; a cell that has shown a value keeps it while its stream
 * reconnects (the connection line says so), as the sheet's formulas do.
 */
export function useLiveCell(feed: Pick<AddinContext, "watchCell">, cell: CellRef | null): { live: LiveCell | null; error: string | null } {
  // State is kept with the key of its cell, so a new cell never shows the previous one's values.
  const [state, setState] = useState<{ key: string; live: LiveCell | null; error: string | null }>({ key: "", live: null, error: null });
  const key = cell ? JSON.stringify([cell.cube, cell.members]) : "";
  const cellRef = useRef(cell);
  cellRef.current = cell;
  useEffect(() => {
    const c = cellRef.current;
    if (!key || !c) return;
    const handle = feed.watchCell({ cube: c.cube, members: c.members }, (o) => {
      if (!o.ok) setState({ key, live: null, error: o.error.message });
      else setState({ key, live: {
            value: o.snapshot.value,
            version: o.snapshot.version,
            consolidated: o.snapshot.consolidated,
            calculated: o.snapshot.calculated,
            sandboxChanged: o.snapshot.sandboxChanged === true,
          }, error: null });
    });
    return () => handle.close();
  }, [feed, key]);
  return state.key === key ? { live: state.live, error: state.error } : { live: null, error: null };
}

/** The runtime's connection state (reachability, live streams, pending retry, protocol), re-rendered on every change. */
export function useConnectionState(connection: Observable<ConnectionState>): ConnectionState {
  return useSyncExternalStore(
    (fn) => connection.subscribe(fn),
    () => connection.get(),
  );
}

/** The sandbox id the workbook uses for `cube` ("" for the base, and where there are no sandboxes or no cube), followed as it changes. */
export function useSandboxOf(sandboxes: SandboxChoices | undefined, cube: string | null): string {
  const choices = useSyncExternalStore(
    (fn) => sandboxes?.subscribe(fn) ?? (() => undefined),
    () => sandboxes?.get() ?? null,
  );
  return choices && cube ? (sandboxes?.of(cube) ?? "") : "";
}

/** The cubes the caller sees (ListCubes: dimensions, levels, defaults, counts), read once per set of clients; null until read. */
export function useCubes(clients: QatomApi): { cubes: CubeInfo[] | null; error: string | null } {
  const [cubes, setCubes] = useState<CubeInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    clients.lattice
      .listCubes({})
      .then((r) => live && setCubes(r.cubes))
      .catch((err) => live && setError(errorMessage(err)));
    return () => {
      live = false;
    };
  }, [clients]);
  return { cubes, error };
}
