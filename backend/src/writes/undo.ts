/**
 * UndoTransaction through the write pipeline: find the transaction and its leaf changes (its audit
 * records) → check who may undo it (its author or a cube admin) → compare each leaf with the
 * lattice: a leaf whose version is no longer the one the transaction gave it was changed by a later
 * transaction, a conflict → check Write on the leaves to restore → commit the old values as a new
 * transaction (kind `undo`, naming the undone one; one audit record per leaf), all or nothing, or
 * only the unconflicted leaves when asked → apply → publish. Runs in the cube's write queue.
 *
 * An undo is itself a transaction, so it can be undone. Neither TM1 nor Essbase can take back a
 * committed spread; the per-leaf audit records and versions make it exact here.
 */
import type { Cube } from "../lattice";
import { RIGHT, type UserRights } from "../security";
import { lackingRight, shownName } from "../domain/access";
import type { ServedCube } from "../domain/cube-registry";
import { DomainError } from "../domain/errors";
import type { PendingWrite, TransactionChanges } from "../store/types";
import { Turns } from "../compute/turns";
import { applyCommitted, catchUp } from "./apply";
import { commitPending } from "./commit";
import { fmt } from "./conflicts";
import type { WriteContext } from "./context";
import { MAX_UNDO_CONFLICTS, type UndoConflict, type UndoOutcome } from "./types";

/** Tries of the commit when the store finds leaves this instance had not caught up on. */
const UNDO_TRIES = 3;

/**
 * One leaf of the transaction: its row in the lattice's leaf store, its first old value (what to
 * restore) and the last version the transaction gave it.
 */
interface UndoLeaf {
  coords: Int32Array;
  row: number;
  restore: number | null;
  version: number;
}

/**
 * The distinct leaves of a transaction's changes, in commit order: a leaf changed twice in one
 * transaction (several writes to one cell in a batch) is restored to its value before the first
 * change and checked against the version of the last. Leaves are told apart by their row in the
 * lattice's leaf store (found by sorting the rows: no map of a million keys).
 * @param rowOf the leaf's row in the lattice's leaf store (every committed leaf has one), or -1.
 * @throws Error when a leaf has no row (the lattice was not caught up on the transaction).
 */
export function undoLeaves(changes: TransactionChanges, rowOf: (coords: Int32Array) => number): UndoLeaf[] {
  const nd = changes.dims;
  const n = changes.count;
  const rows = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    rows[k] = rowOf(changes.coords.subarray(k * nd, (k + 1) * nd));
    if (rows[k] < 0) throw new Error(`leaf ${k} of the transaction is not in the lattice`);
  }
  // Changes ordered by row (stable: by commit order within a row); the first of each row keeps
  // its old value and takes the last one's version.
  const order = Uint32Array.from({ length: n }, (_, k) => k).sort((a, b) => rows[a] - rows[b] || a - b);
  const last = new Int32Array(n).fill(-1);
  for (let j = 0; j < n; ) {
    let e = j + 1;
    while (e < n && rows[order[e]] === rows[order[j]]) e++;
    last[order[j]] = order[e - 1];
    j = e;
  }
  const out: UndoLeaf[] = [];
  for (let k = 0; k < n; k++) {
    if (last[k] < 0) continue;
    const old = changes.oldValues[k];
    out.push({ coords: changes.coords.slice(k * nd, (k + 1) * nd), row: rows[k], restore: old === old ? old : null, version: changes.versions[last[k]] });
  }
  return out;
}

/** A leaf's members for a message: those the caller may not see are described, not named. */
function shownNames(cube: Cube, rights: UserRights, coords: Int32Array): string[] {
  return Array.from(coords, (m, d) => shownName(cube, rights, d, m));
}

/**
 * Undoes transaction `txId` of a served cube as `user` (see UndoTransaction in lattice.proto).
 * @param onlyUnconflicted restore the leaves no later transaction changed and skip (list) the
 *   others; otherwise any conflict makes the undo change nothing.
 * @throws DomainError not_found for a transaction the cube does not have; permission_denied when
 *   `user` is neither its author nor a cube admin, or lacks Write on a leaf to restore; the store's
 *   error (nothing committed).
 */
export async function undoTransaction(
  ctx: WriteContext,
  served: ServedCube,
  txId: string,
  onlyUnconflicted: boolean,
  user: string,
  rights: UserRights,
): Promise<UndoOutcome> {
  const { cube } = served;
  const tx = await ctx.store.getTransaction(served.id, txId);
  if (!tx) throw new DomainError(`transaction "${txId}" not found in cube ${cube.name} (ListTransactions lists them)`, "not_found");
  if (tx.user !== user && !rights.admin) {
    throw new DomainError(`only its author (${tx.user}) or an admin of cube ${cube.name} may undo transaction ${txId}`, "permission_denied");
  }
  const changes = await ctx.store.transactionChanges(served.id, txId);
  // Leaves this instance has not caught up on (the transaction, or a later one, came through another instance).
  const nd = cube.dims.length;
  const behind: Int32Array[] = [];
  for (let k = 0; k < changes.count; k++) {
    const coords = changes.coords.subarray(k * nd, (k + 1) * nd);
    if (cube.leafState(coords).version < changes.versions[k]) behind.push(coords.slice());
  }
  await catchUp(ctx.store, served, behind);
  const leaves = undoLeaves(changes, (c) => cube.store.find(c));
  const info = { kind: "undo" as const, detail: `undo of ${tx.kind}${tx.detail ? `: ${tx.detail}` : ""}`, undoes: txId };
  for (let attempt = 1; ; attempt++) {
    const turns = new Turns();
    const conflicts: UndoConflict[] = [];
    let conflictCount = 0;
    const restore: { leaf: UndoLeaf; base: number; current: number | null }[] = [];
    const { values, versions } = cube.store;
    for (let k = 0; k < leaves.length; k++) {
      const leaf = leaves[k];
      // Rows are never removed or moved: the leaf's state is read at its row, with no lookup.
      if (versions[leaf.row] === leaf.version) {
        const v = values[leaf.row];
        restore.push({ leaf, base: leaf.version, current: v === v ? v : null });
      } else if (conflictCount++ < MAX_UNDO_CONFLICTS) {
        const state = cube.leafState(leaf.coords);
        const readable = rights.cell(leaf.coords) >= RIGHT.read;
        conflicts.push({
          members: shownNames(cube, rights, leaf.coords),
          value: readable ? state.value : null,
          version: state.version,
          updatedBy: state.writer?.user ?? "",
          updatedAt: state.writer?.at ?? served.loadedAt,
          undoValue: leaf.restore,
        });
      }
      if ((k & 0xffff) === 0xffff) await turns.turn();
    }
    if (conflictCount > 0 && !onlyUnconflicted) {
      const first = conflicts[0];
      return {
        status: "CONFLICT",
        conflicts,
        conflictCount,
        message: `${conflictCount} of the ${leaves.length} leaves transaction ${txId} changed were changed again since (e.g. ${first.members.join(", ")}: ${first.updatedBy || "someone"} wrote ${fmt(first.value)}, version ${first.version}); nothing was undone`,
      };
    }
    for (const r of restore) {
      if (rights.cell(r.leaf.coords) < RIGHT.write) {
        const why = lackingRight(cube, rights, r.leaf.coords, RIGHT.write);
        throw new DomainError(`you may not write ${shownNames(cube, rights, r.leaf.coords).join(", ")}, which the undo would restore: ${why}; nothing was undone`, "permission_denied");
      }
    }
    if (restore.length === 0) return { status: "APPLIED", txId: "", leavesRestored: 0, version: 0, conflicts, conflictCount };
    const pending: PendingWrite[] = restore.map((r) => ({ coords: Array.from(r.leaf.coords), oldValue: r.current, newValue: r.leaf.restore, baseVersion: r.base, group: 0 }));
    const committed = await commitPending(ctx, served, user, pending, info);
    const stale = committed.results.flatMap((r, k) => (r.ok || r.groupFailed ? [] : [restore[k].leaf.coords]));
    if (stale.length > 0) {
      // Another instance changed these leaves after this one last heard: catch up, then check again.
      await catchUp(ctx.store, served, stale);
      if (attempt < UNDO_TRIES) continue;
      throw new DomainError(`transaction ${txId}'s leaves keep changing through other instances; try the undo again`, "aborted");
    }
    const version = applyCommitted(served, pending, committed.results, { user, at: committed.at });
    ctx.publisher?.kick();
    return { status: "APPLIED", txId: committed.txId, leavesRestored: restore.length, version, conflicts, conflictCount };
  }
}
