/**
 * Pending writes: values typed over QATOM.CELL cells, kept until Submit. Clearing a consolidated
 * cell (`C`) waits for a confirmation in the pane (`confirm`): it empties every leaf below it. Submit sends one
 * WriteCells per cube (split only above the server's 10,000 writes) with the base version each user
 * saw and the cube's holds, and every write gets its own result: applied (with the leaf cells it
 * changed), conflict (with the other writer's value, version, name and time), rejected (with the
 * server's reason) or error (not sent; Submit retries).
 *
 * A write to a consolidated cell carries its spread (TM1's method and data action; proportional
 * replace by default), which the task pane can change until Submit. A write to a calculated cell,
 * or of a value beyond ±1e15 (common/limits.ts MAX_ABS_VALUE), is refused here at once, with the
 * server's reason.
 *
 * The list is immutable between changes (each change makes a new array and new objects for the
 * changed writes), so the task pane can hand `list` to React's `useSyncExternalStore`.
 */
import { timestampMs } from "@bufbuild/protobuf/wkt";
import { MAX_WRITES_PER_REQUEST, valueBoundProblem } from "../../common/limits";
import { type WriteResult, WriteStatus } from "../../proto/gen/quantatom/v1/lattice_pb";
import { cellKey } from "./address";
import type { FormulaCell, Holds, PendingOptions, PendingSpread, PendingWrite, PendingWrites, QatomApi } from "./contracts";
import { toQatomError } from "./errors";
import { cubeKey, refKey } from "./observable";
import { defaultSpread, spreadProblem, toProtoSpread, wireValue } from "./spreading";

/** The server's limit of writes per WriteCells (common/limits.ts). */
export { MAX_WRITES_PER_REQUEST };

/** Why a value typed over a calculated cell is refused (the server refuses it too). */
export const CALCULATED_MESSAGE =
  "This cell is calculated by a formula (a member formula of the cube), so it is read-only: change the cells it is calculated from.";

/** The question a `C` over a consolidated cell asks before Submit sends it. */
export const CLEAR_CONFIRM_MESSAGE = "C clears this consolidated cell: every leaf cell below it becomes empty. Confirm to send it with Submit.";

/** Why a pending write whose cell was deleted from the sheet is not sent. */
export const DELETED_CELL_MESSAGE = "Its cell was deleted from the sheet, so it is not sent: discard it, or type it again where the cell is now.";

/** PendingWrites over WriteCells; see the module comment. */
export class PendingWritesStore implements PendingWrites {
  private items: readonly PendingWrite[] = [];
  private readonly listeners = new Set<() => void>();

  /** @param holds the session's holds, sent with every WriteCells of their cube (none when omitted). */
  /**
   * @param sandboxOf the sandbox a cube's writes go to ("" for the base; ./sandboxes.ts), asked at each Submit.
   */
  constructor(
    private readonly api: () => Promise<QatomApi>,
    private readonly holds?: Holds,
    private readonly sandboxOf: (cube: string) => string = () => "",
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

  add(cell: FormulaCell, value: number | null, options: PendingOptions = {}): PendingWrite {
    const snap = cell.snapshot;
    let w: PendingWrite = {
      ...this.base(cell),
      consolidated: (snap?.consolidated ?? false) && !snap?.calculated,
      value,
      status: "pending",
    };
    if (options.code !== undefined) w.code = options.code;
    const overBound = valueBoundProblem(value);
    if (snap?.calculated) {
      w = { ...w, status: "rejected", message: CALCULATED_MESSAGE };
    } else if (overBound) {
      w = { ...w, status: "rejected", message: overBound };
    } else if (w.consolidated) {
      w.spread = defaultSpread(value, options.spread);
      const problem = spreadProblem(w.spread, value);
      if (problem) w = { ...w, status: "rejected", message: problem };
      else if (w.spread.method === "C") w.confirm = CLEAR_CONFIRM_MESSAGE;
    }
    return this.put(w);
  }

  reject(cell: FormulaCell, typed: string, message: string): PendingWrite {
    return this.put({ ...this.base(cell), consolidated: cell.snapshot?.consolidated ?? false, value: null, code: typed, status: "rejected", message });
  }

  setSpread(id: string, patch: Partial<PendingSpread>): void {
    const w = this.items.find((x) => x.id === id);
    if (!w?.spread || w.status === "submitting" || w.status === "applied" || w.status === "conflict") return;
    const spread = defaultSpread(w.value, { ...w.spread, ...patch });
    const problem = valueBoundProblem(w.value) ?? spreadProblem(spread, w.value);
    const confirm = !problem && spread.method === "C" ? CLEAR_CONFIRM_MESSAGE : undefined;
    this.replace(w, { spread, status: problem ? "rejected" : "pending", message: problem ?? undefined, leavesChanged: undefined, currentValue: undefined, confirm });
  }

  confirm(id: string): void {
    const w = this.items.find((x) => x.id === id);
    if (w?.confirm) this.replace(w, { confirm: undefined });
  }

  discard(ids?: string[]): void {
    if (!ids) {
      this.commit([]);
      return;
    }
    const drop = new Set(ids);
    this.commit(this.items.filter((w) => !drop.has(w.id)));
  }

  /**
   * Moves writes after rows or columns moved or a sheet was renamed (`move` gives a cell's new
   * address). A write whose cell was deleted is refused with the reason, never sent: the user
   * discards it or types it again.
   */
  moveAddresses(move: (address: string) => string | null): void {
    let changed = false;
    const next = this.items.map((w) => {
      const to = move(w.address);
      if (to === w.address) return w;
      changed = true;
      if (to === null) {
        return w.status === "applied" ? w : { ...w, status: "rejected" as const, message: DELETED_CELL_MESSAGE };
      }
      return { ...w, id: cellKey(to), address: to };
    });
    if (changed) this.commit(next);
  }

  async submit(): Promise<void> {
    const sending = this.items.filter((w) => (w.status === "pending" && !w.confirm) || w.status === "error").map((w) => this.replace(w, { status: "submitting", message: undefined }));
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

  /**
   * Sends writes of one cube in one WriteCells. Entries typed over two sheet cells that show the same
   * cube cell (identical formulas) are one write: the one typed last, whose value both cells show;
   * its result is each entry's.
   */
  private async send(writes: PendingWrite[]): Promise<void> {
    let results: WriteResult[] | null = null;
    let failure: unknown = null;
    let url = "";
    const lastOf = new Map<string, number>();
    for (const [i, w] of writes.entries()) lastOf.set(refKey(w), i);
    const unique = [...new Set(lastOf.values())].sort((a, b) => a - b);
    const slot = new Map(unique.map((i, k) => [i, k]));
    try {
      const api = await this.api();
      url = api.serverUrl;
      const cube = writes[0].cube;
      const res = await api.lattice.writeCells({
        cube,
        writes: unique.map((i) => writes[i]).map((w) => ({
          members: w.members,
          value: wireValue(w.value, w.spread),
          baseVersion: w.baseVersion,
          spread: w.spread ? toProtoSpread(w.spread, w.value) : undefined,
        })),
        holds: this.holds?.forCube(cube) ?? [],
        sandbox: this.sandboxOf(cube),
      });
      results = unique.map((_, k) => res.results[k]);
    } catch (err) {
      failure = err;
    }
    const resultFor = (w: PendingWrite) => results?.[slot.get(lastOf.get(refKey(w))!)!];
    writes.forEach((w) => {
      const r = resultFor(w);
      if (!r) {
        const message = failure ? toQatomError(failure, url).message : "the server sent no result for this write";
        this.settle(w, { status: "error", message });
      } else if (r.status === WriteStatus.APPLIED) {
        this.settle(w, {
          status: "applied",
          baseVersion: r.version,
          message: undefined,
          conflict: undefined,
          leavesChanged: Number(r.leavesChanged),
          currentValue: r.currentValue ?? null,
        });
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
      this.replace(newer, { baseVersion: patch.baseVersion, seenValue: patch.currentValue !== undefined ? patch.currentValue : sent.value });
    }
  }

  /** The fields every write of a cell starts from: its address, cell, and what the user saw. */
  private base(cell: FormulaCell): Pick<PendingWrite, "id" | "address" | "cube" | "members" | "seenValue" | "baseVersion"> {
    const snap = cell.snapshot;
    return { id: cellKey(cell.address), address: cell.address, cube: cell.cube, members: cell.members, seenValue: snap?.value ?? null, baseVersion: snap?.version ?? 0n };
  }

  /** Adds a write, or replaces the one of the same sheet cell (typing again over it). */
  private put(w: PendingWrite): PendingWrite {
    const i = this.items.findIndex((x) => x.id === w.id);
    this.commit(i >= 0 ? this.items.map((x, j) => (j === i ? w : x)) : [...this.items, w]);
    return w;
  }

  private replace(w: PendingWrite, patch: Partial<PendingWrite>): PendingWrite {
    const next: PendingWrite = { ...w, ...patch };
    for (const k of Object.keys(patch) as (keyof PendingWrite)[]) if (patch[k] === undefined) delete next[k];
    this.commit(this.items.map((x) => (x === w ? next : x)));
    return next;
  }

  /**
   * Runs `fn`, telling subscribers once at the end however many writes it records: a paste or a
   * fill over many cells becomes pending in one step.
   */
  batch<T>(fn: () => T): T {
    this.batching++;
    try {
      return fn();
    } finally {
      this.batching--;
      if (this.batching === 0 && this.dirty) this.commit(this.items);
    }
  }

  private batching = 0;
  private dirty = false;

  private commit(items: readonly PendingWrite[]): void {
    this.items = items;
    if (this.batching > 0) {
      this.dirty = true;
      return;
    }
    this.dirty = false;
    for (const fn of Array.from(this.listeners)) {
      try {
        fn();
      } catch (err) {
        console.error("quantatom: a pending-writes subscriber failed", err);
      }
    }
  }
}
