/**
 * The cell feed behind QATOM.CELL: one entry per distinct cell (cube + member spellings) with its
 * latest snapshot, fed by the wave batcher (first value) and the cube's WatchCells stream (every
 * change after that). Formulas that show the same cell share its entry.
 */
import type { Cell } from "../../proto/gen/quantatom/v1/lattice_pb";
import type { WaveBatcher } from "./batcher";
import type { CellOutcome, CellRef, CellSnapshot, QatomError } from "./contracts";
import { isAuthFailure, toQatomError } from "./errors";
import { cubeKey, refKey } from "./observable";
import type { StreamRegistry, StreamSink } from "./streams";

/** Reports whether calls reach the server (for the connection state). */
export interface ConnectionReporter {
  succeeded(): void;
  failed(err: unknown, serverUrl: string): void;
}

interface Entry {
  key: string;
  cubeKey: string;
  ref: CellRef;
  snapshot: CellSnapshot | null;
  error: QatomError | null;
  listeners: Set<(o: CellOutcome) => void>;
  /** What the listeners were last told, to skip repeats (a stream restart re-sends every cell). */
  last: string | null;
}

function signature(e: Entry): string {
  if (e.error) return `E${e.error.code}:${e.error.message}`;
  const s = e.snapshot!;
  return `V${s.value}:${s.version}:${s.consolidated}:${s.calculated}:${s.format ?? ""}`;
}

function outcome(e: Entry): CellOutcome | null {
  if (e.error) return { ok: false, error: e.error };
  if (e.snapshot) return { ok: true, snapshot: e.snapshot };
  return null;
}

/** Cells by key, kept current; see the module comment. */
export class CellFeed implements StreamSink {
  private readonly entries = new Map<string, Entry>();
  private streams: StreamRegistry | null = null;

  constructor(
    private readonly batcher: WaveBatcher,
    private readonly serverUrl: () => Promise<string>,
    private readonly connection: ConnectionReporter,
  ) {}

  /** Connects the feed to its streams (they are made with the feed as their sink). */
  attach(streams: StreamRegistry): void {
    this.streams = streams;
  }

  /**
   * Follows one cell: `listener` gets its state now if known, then on every change.
   * @returns the function that stops following (the cell leaves the stream when nobody follows it).
   */
  subscribe(ref: CellRef, listener: (o: CellOutcome) => void): () => void {
    const key = refKey(ref);
    let e = this.entries.get(key);
    if (!e) {
      e = { key, cubeKey: cubeKey(ref.cube), ref, snapshot: null, error: null, listeners: new Set(), last: null };
      this.entries.set(key, e);
      this.streams?.watch(e.cubeKey, ref.cube, key, ref.members);
      void this.read(e);
    }
    const entry = e;
    entry.listeners.add(listener);
    const now = outcome(entry);
    if (now) listener(now);
    return () => {
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0 && this.entries.get(key) === entry) {
        this.entries.delete(key);
        this.streams?.unwatch(entry.cubeKey, key);
      }
    };
  }

  /** The last snapshot of a followed cell, null when it is not followed or has none yet. */
  snapshotOf(ref: CellRef): CellSnapshot | null {
    return this.entries.get(refKey(ref))?.snapshot ?? null;
  }

  /** Number of distinct cells followed. */
  get size(): number {
    return this.entries.size;
  }

  onCell(key: string, cell: Cell): void {
    const e = this.entries.get(key);
    if (e) this.applyCell(e, cell, true);
  }

  onFailure(keys: readonly string[], err: unknown, serverUrl: string): void {
    this.connection.failed(err, serverUrl);
    const error = toQatomError(err, serverUrl);
    const signedOut = isAuthFailure(err);
    for (const k of keys) {
      const e = this.entries.get(k);
      // A cell that has shown a value keeps it while the stream reconnects (the pane shows the
      // connection state); a cell that never had one shows why. Without a sign-in every cell says
      // so: values must not stay on the sheet, looking live, after the user signed out.
      if (e && (!e.snapshot || signedOut)) this.setError(e, error);
    }
  }

  onConnected(): void {
    this.connection.succeeded();
  }

  private async read(e: Entry): Promise<void> {
    const r = await this.batcher.get(e.cubeKey, e.ref.cube, e.key, e.ref.members);
    if (this.entries.get(e.key) !== e) return;
    if ("cell" in r) {
      this.connection.succeeded();
      this.applyCell(e, r.cell, false);
    } else {
      const url = await this.serverUrl();
      this.connection.failed(r.failure, url);
      if (!e.snapshot || isAuthFailure(r.failure)) this.setError(e, toQatomError(r.failure, url));
    }
  }

  /**
   * Applies a cell from the server. Stream messages arrive in order and always apply; a GetCells
   * answer applies only when it is not older than what the stream already gave (versions only grow).
   */
  private applyCell(e: Entry, cell: Cell, fromStream: boolean): void {
    if (cell.error) {
      this.setError(e, { code: "notAvailable", message: cell.error.message });
      return;
    }
    if (!fromStream && e.snapshot && cell.version < e.snapshot.version) return;
    e.snapshot = {
      value: cell.value ?? null,
      version: cell.version,
      consolidated: cell.consolidated,
      calculated: cell.calculated,
      format: cell.formatString ?? "",
      ...(cell.sandboxChanged ? { sandboxChanged: true } : {}),
    };
    e.error = null;
    this.notify(e);
  }

  private setError(e: Entry, error: QatomError): void {
    e.error = error;
    this.notify(e);
  }

  private notify(e: Entry): void {
    const sig = signature(e);
    if (sig === e.last) return;
    e.last = sig;
    const o = outcome(e)!;
    for (const fn of Array.from(e.listeners)) fn(o);
  }
}
