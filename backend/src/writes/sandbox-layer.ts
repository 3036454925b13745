/**
 * Writes into a sandbox go through the same pipeline as writes to the base (write-cells.ts,
 * copy-scenario.ts: resolve, rights, versions, holds, spreading, outcomes), over a working copy of
 * the cube with the sandbox's leaves in place, and with a `SandboxLayer` as the pipeline's store:
 * it commits to the sandbox's cells (sql/sandboxes.ts) instead of the base's and keeps what it
 * committed for the sandbox's overlay, and it reads the sandbox's transactions back for an undo in
 * the sandbox (undo.ts). The base is never written.
 */
import type { ServedCube } from "../domain/cube-registry";
import { Cube, type LeafCells, type LeafOverlay, type OverlayChange } from "../lattice";
import type { CommitOptions, CommitResult, NewOutboxRow, PendingWrite, SandboxWrite, Store, StoredCellState, StoredTransaction, TransactionChanges } from "../store/types";
import type { WriteStore } from "./context";

/**
 * A working copy of `base`'s cube with the overlay's leaves in place (values and versions), served
 * under the base's id and load time: what the write pipeline reads and plans over for a sandbox
 * write. Versions are those read through the sandbox (lattice/overlay.ts). It costs one copy of the leaf columns (about 20 ms per 100,000 leaves) and is dropped
 * after the write.
 */
export function workingCopy(base: ServedCube, overlay: LeafOverlay): ServedCube {
  const { cube } = base;
  const { store } = cube;
  const nd = cube.dims.length;
  const n = store.count;
  const cap = n + overlay.size;
  const cells: LeafCells = {
    count: n,
    coords: cube.dims.map((_, d) => {
      const col = new Int32Array(cap);
      col.set(store.cols[d].subarray(0, n));
      return col;
    }),
    values: new Float64Array(cap),
    versions: new Float64Array(cap),
  };
  cells.values.set(store.values.subarray(0, n));
  cells.versions!.set(store.versions.subarray(0, n));
  for (const leaf of overlay.leaves()) {
    let r = store.find(leaf.coords);
    let version = leaf.version;
    if (r < 0) {
      r = cells.count++;
      for (let d = 0; d < nd; d++) cells.coords[d][r] = leaf.coords[d];
    } else version = Math.max(version, store.versions[r]);
    cells.values[r] = leaf.value ?? Number.NaN;
    // As through the overlay: the higher of the sandbox's and the base's (a base write to a leaf the
    // sandbox changed moves its version there, not its value).
    cells.versions![r] = version;
  }
  return { ...base, cube: new Cube(cube.def, cells) };
}

/**
 * The write pipeline's store for one sandbox write (see the module comment): `commitWrites` checks
 * each leaf's version through the sandbox (the sandbox's version where it changed the leaf, the
 * base's elsewhere), commits the applied ones to the sandbox with their audit records and the
 * sandbox's outbox row, and keeps them in `committed`.
 */
export class SandboxLayer implements WriteStore {
  /** The leaf changes committed, in order, for the overlay (`LeafOverlay.set`). */
  readonly committed: OverlayChange[] = [];

  /**
   * @param store the durable store.
   * @param sandboxId the sandbox written.
   * @param base the base cube as served (its leaves' versions now).
   * @param overlay the sandbox's leaves as this instance holds them.
   * @param event the sandbox's outbox row for a commit.
   */
  constructor(
    private readonly store: Store,
    private readonly sandboxId: string,
    private readonly base: ServedCube,
    private readonly overlay: LeafOverlay,
    private readonly event: NewOutboxRow,
  ) {}

  async commitWrites(_cubeId: number, txId: string, user: string, writes: PendingWrite[], options: CommitOptions = {}): Promise<{ results: CommitResult[]; at: number }> {
    const { cube } = this.base;
    // Versions through the sandbox now (a leaf it changed: the higher of its and the base's, as
    // the overlay reads it); a leaf whose version moved since it was read (the base's,
    // through another instance's write) fails like a stale base write: expected version -1 never matches.
    const stale: (StoredCellState | null)[] = [];
    const layered: SandboxWrite[] = writes.map((w, i) => {
      const mine = this.overlay.leaf(w.coords);
      const base = cube.leafState(w.coords);
      const now = mine ? Math.max(mine.version, base.version) : base.version;
      stale[i] = now === w.baseVersion ? null : { value: mine ? mine.value : base.value, version: now, updatedBy: mine ? null : (base.writer?.user ?? null), updatedAt: mine ? null : (base.writer?.at ?? null) };
      return { coords: w.coords, oldValue: w.oldValue, newValue: w.newValue, expectedVersion: stale[i] ? -1 : (mine?.version ?? 0), baseVersion: base.version, group: w.group };
    });
    const info = options.transaction ?? { kind: "write", detail: "" };
    const { results, at } = await this.store.commitSandboxWrites(this.sandboxId, txId, user, layered, info, () => [this.event]);
    results.forEach((r, i) => {
      const s = stale[i];
      if (!r.ok && s && !r.groupFailed) results[i] = { ok: false, currentValue: s.value, currentVersion: s.version, updatedBy: s.updatedBy, updatedAt: s.updatedAt };
      if (r.ok) this.committed.push({ coords: Int32Array.from(writes[i].coords), value: writes[i].newValue, version: r.version });
    });
    return { results, at };
  }

  /** Stored states for catching up: the base's, except on leaves the sandbox changed (version 0 there: nothing to catch up). */
  async readCells(cubeId: number, coords: number[][]): Promise<StoredCellState[]> {
    const states = await this.store.readCells(cubeId, coords);
    return states.map((s, i) => (this.overlay.leaf(coords[i]) ? { value: null, version: 0, updatedBy: null, updatedAt: null } : s));
  }

  /** A transaction of the sandbox (for an undo in it). */
  getTransaction(_cubeId: number, txId: string): Promise<StoredTransaction | null> {
    return this.store.getSandboxTransaction(this.sandboxId, txId);
  }

  /** The leaf changes of a transaction of the sandbox. */
  transactionChanges(_cubeId: number, txId: string): Promise<TransactionChanges> {
    return this.store.sandboxTransactionChanges(this.sandboxId, txId);
  }
}
