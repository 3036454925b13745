/**
 * Pending writes: values typed over QATOM.CELL cells, kept until Submit. Submit sends one
 * WriteCells per cube (split only above the server's 10,000 writes) with the base version each user
 * saw, and every write gets its own result: applied, conflict (with the other writer's value,
 * version, name and time), rejected (with the server's reason) or error (not sent; Submit retries).
 *
 * The list is immutable between changes (each change makes a new array and new objects for the
 * changed writes), so the task pane can hand `list` to React's `useSyncExternalStore`.
 */
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { type WriteResult, WriteStatus } from "../../proto/gen/quantatom/v1/lattice_pb";
import { cellKey } from "./address";
import type { FormulaCell, PendingWrite, PendingWrites, QatomApi } from "./contracts";
import { toQatomError } from "./errors";
import { cubeKey } from "./observable";

/** The server's limit of writes per WriteCells (backend/src/services/backend.ts). */
export const MAX_WRITES_PER_REQUEST = 10_000;

/** What the pane says for a value typed over a consolidated cell while spreading does not exist. */
export const CONSOLIDATED_MESSAGE =
  "This is a consolidated cell (it adds up cells below it). Writing to it needs spreading, which the backend does not support yet: type the value into the leaf cells below it.";

/** Options of the pending-writes store. */
export interface PendingWritesOptions {
  /** True once the backend spreads writes to consolidated cells; until then such writes are refused here. */
  spreading: boolean;
}

/** PendingWrites over WriteCells; see the module comment. */
export class PendingWritesStore implements PendingWrites {
  private items: readonly PendingWrite[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly api: () => Promise<QatomApi>,
    private readonly opts: PendingWritesOptions = { spreading: false },
  ) {}

  list(): PendingWrite[] {
    return this.items as PendingWrite[];
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  add(cell: FormulaCell, value: number | null): PendingWrite {
    const snap = cell.snapshot;
    let w: PendingWrite = {
      id: cellKey(cell.address),
      address: cell.address,
      cube: cell.cube,
      members: cell.members,
      value,
      seenValue: snap?.value ?? null,
      baseVersion: snap?.version ?? 0n,
      status: "pending",
    };
    if (snap?.consolidated && !this.opts.spreading) w = { ...w, status: "rejected", message: CONSOLIDATED_MESSAGE };
    const i = this.items.findIndex((x) => x.id === w.id);
    this.commit(i >= 0 ? this.items.map((x, j) => (j === i ? w : x)) : [...this.items, w]);
    return w;
  }

  discard(ids?: string[]): void {
    if (!ids) {
      this.commit([]);
      return;
    }
    const drop = new Set(ids);
    this.commit(this.items.filter((w) => !drop.has(w.id)));
  }

  async submit(): Promise<void> {
    const sending = this.items.filter((w) => w.status === "pending" || w.status === "error").map((w) => this.replace(w, { status: "submitting", message: undefined }));
    const groups = new Map<string, PendingWrite[]>();
    for (const w of sending) {
      const k = cubeKey(w.cube);
      const g = groups.get(k);
      if (g) g.push(w);
      else groups.set(k, [w]);
    }
    const calls: Promise<void>[] = [];
    for (const g of groups.values()) {
      for (let lo = 0; lo < g.length; lo += MAX_WRITES_PER_REQUEST) calls.push(this.send(g.slice(lo, lo + MAX_WRITES_PER_REQUEST)));
    }
    await Promise.all(calls);
  }

  async keepMine(id: string): Promise<void> {
    const w = this.items.find((x) => x.id === id);
    if (w?.status !== "conflict" || !w.conflict) return;
    const retry = this.replace(w, {
      status: "submitting",
      baseVersion: w.conflict.theirVersion,
      seenValue: w.conflict.theirValue,
      message: undefined,
      conflict: undefined,
    });
    await this.send([retry]);
  }

  takeTheirs(id: string): void {
    this.commit(this.items.filter((x) => !(x.id === id && x.status === "conflict")));
  }

  private async send(writes: PendingWrite[]): Promise<void> {
    let results: WriteResult[] | null = null;
    let failure: unknown = null;
    let url = "";
    try {
      const api = await this.api();
      url = api.serverUrl;
      const res = await api.lattice.writeCells({
        cube: writes[0].cube,
        writes: writes.map((w) => ({ members: w.members, value: w.value ?? undefined, baseVersion: w.baseVersion })),
      });
      results = res.results;
    } catch (err) {
      failure = err;
    }
    writes.forEach((w, i) => {
      const r = results?.[i];
      if (!r) {
        const message = failure ? toQatomError(failure, url).message : "the server sent no result for this write";
        this.settle(w, { status: "error", message });
      } else if (r.status === WriteStatus.APPLIED) {
        this.settle(w, { status: "applied", baseVersion: r.version, message: undefined, conflict: undefined });
      } else if (r.status === WriteStatus.CONFLICT) {
        this.settle(w, {
          status: "conflict",
          message: r.message,
          conflict: { theirValue: r.currentValue ?? null, theirVersion: r.version, by: r.updatedBy, at: r.updatedAt ? timestampMs(r.updatedAt) : 0 },
        });
      } else {
        this.settle(w, { status: "rejected", message: r.message || r.error?.message || "the server rejected the write" });
      }
    });
  }

  /**
   * Records a result for a write that was sent. If the user typed over the cell again meanwhile,
   * the newer value stays pending; when the sent one was applied, the newer one is based on it.
   */
  private settle(sent: PendingWrite, patch: Partial<PendingWrite>): void {
    if (this.items.includes(sent)) {
      this.replace(sent, patch);
      return;
    }
    const newer = this.items.find((x) => x.id === sent.id);
    if (newer && patch.status === "applied" && newer.status === "pending" && newer.baseVersion === sent.baseVersion) {
      this.replace(newer, { baseVersion: patch.baseVersion, seenValue: sent.value });
    }
  }

  private replace(w: PendingWrite, patch: Partial<PendingWrite>): PendingWrite {
    const next: PendingWrite = { ...w, ...patch };
    for (const k of Object.keys(patch) as (keyof PendingWrite)[]) if (patch[k] === undefined) delete next[k];
    this.commit(this.items.map((x) => (x === w ? next : x)));
    return next;
  }

  private commit(items: readonly PendingWrite[]): void {
    this.items = items;
    for (const fn of Array.from(this.listeners)) {
      try {
        fn();
      } catch (err) {
        console.error("quantatom: a pending-writes subscriber failed", err);
      }
    }
  }
}
