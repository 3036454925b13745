/**
 * CommitSandbox: a sandbox's leaf changes applied to the base as one transaction (kind `sandbox`),
 * each checked against the base version the leaf had when the sandbox first changed it. A leaf the
 * base changed since is a conflict; the commit is all or nothing unless the caller commits only the
 * leaves without conflict, and a leaf the caller chose to keep ("Keep mine") is committed over the
 * base's current value. Unlike TM1's sandbox commit, which overwrites what others changed
 * meanwhile, nothing of the base is overwritten unasked.
 */
import { RIGHT, type UserRights } from "../security";
import { DomainError } from "../domain/errors";
import { lackingRight, shownName } from "../domain/access";
import type { ServedCube } from "../domain/cube-registry";
import type { NewOutboxRow, PendingWrite, Store, StoredSandboxCell } from "../store/types";
import { applyCommitted, catchUp } from "./apply";
import { commitPending } from "./commit";
import type { WriteContext } from "./context";
import { MAX_UNDO_CONFLICTS } from "./types";

/** A leaf the base changed after the sandbox changed it (see SandboxConflict in sandbox.proto). */
export interface SandboxConflict {
  /** The leaf's unique names (a member the caller may not see is described, not named). */
  members: string[];
  /** The leaf's value in the sandbox (null: emptied there). */
  sandboxValue: number | null;
  /** The base's value now (null: empty, or the caller may not read it), its version, who wrote it and when (ms). */
  baseValue: number | null;
  baseVersion: number;
  updatedBy: string;
  updatedAt: number;
}

/** The outcome of a sandbox commit. */
export type SandboxCommitOutcome =
  | {
      status: "APPLIED";
      /** The base transaction ("" when nothing was applied: every leaf conflicted, or none changed). */
      txId: string;
      leavesCommitted: number;
      /** The highest version written. */
      version: number;
      /** Leaves left as the base has them (committing only the others): the first MAX_UNDO_CONFLICTS. */
      conflicts: SandboxConflict[];
      conflictCount: number;
    }
  | { status: "CONFLICT"; conflicts: SandboxConflict[]; conflictCount: number; message: string };

/** Attempts when other instances keep changing the base's leaves between the check and the commit. */
const COMMIT_TRIES = 3;

/**
 * Commits a sandbox's leaves (`cells`, as stored) to the base (see the module comment), in the
 * cube's write queue. The sandbox is marked committed in the same database transaction.
 * @param keepMine keys (coordinates joined by ",") of conflicting leaves to commit anyway.
 * @param event the sandbox's outbox row (action commit).
 * @throws DomainError permission_denied when the caller may not write a leaf it would commit;
 *   aborted when the base keeps changing through other instances.
 */
export async function commitSandbox(
  ctx: WriteContext & { store: Store },
  served: ServedCube,
  sandbox: { id: string; name: string },
  cells: readonly StoredSandboxCell[],
  opts: { onlyUnconflicted: boolean; keepMine: ReadonlySet<string> },
  user: string,
  rights: UserRights,
  event: NewOutboxRow,
): Promise<SandboxCommitOutcome> {
  const { cube } = served;
  const coords = cells.map((c) => Int32Array.from(c.coords));
  // Leaves this instance has not caught up on: a newer base version than the sandbox saw.
  await catchUp(ctx.store, served, coords.filter((c, i) => cube.leafState(c).version < cells[i].baseVersion));
  for (let attempt = 1; ; attempt++) {
    const conflicts: SandboxConflict[] = [];
    let conflictCount = 0;
    const commit: number[] = [];
    const pending: PendingWrite[] = [];
    cells.forEach((cell, i) => {
      const state = cube.leafState(coords[i]);
      if (state.version !== cell.baseVersion && !opts.keepMine.has(cell.coords.join(","))) {
        if (conflictCount++ < MAX_UNDO_CONFLICTS) {
          conflicts.push({
            members: cube.dims.map((_, d) => shownName(cube, rights, d, coords[i][d])),
            sandboxValue: cell.value,
            baseValue: rights.cell(coords[i]) >= RIGHT.read ? state.value : null,
            baseVersion: state.version,
            updatedBy: state.writer?.user ?? "",
            updatedAt: state.writer?.at ?? served.loadedAt,
          });
        }
        return;
      }
      if (rights.cell(coords[i]) < RIGHT.write) {
        const names = cube.dims.map((_, d) => shownName(cube, rights, d, coords[i][d]));
        throw new DomainError(`you may not write ${names.join(", ")}, which the sandbox changed: ${lackingRight(cube, rights, coords[i], RIGHT.write)}; nothing was committed`, "permission_denied");
      }
      commit.push(i);
      pending.push({ coords: cell.coords, oldValue: state.value, newValue: cell.value, baseVersion: state.version, group: 0 });
    });
    if (conflictCount > 0 && !opts.onlyUnconflicted) {
      const c = conflicts[0];
      return {
        status: "CONFLICT",
        conflicts,
        conflictCount,
        message: `${conflictCount} of the ${cells.length} leaves sandbox "${sandbox.name}" changed were changed in the base since (e.g. ${c.members.join(", ")}: ${c.updatedBy || "someone"} wrote ${c.baseValue ?? "(empty)"}); nothing was committed`,
      };
    }
    if (pending.length === 0) {
      await ctx.store.closeSandbox(sandbox.id, event);
      return { status: "APPLIED", txId: "", leavesCommitted: 0, version: 0, conflicts, conflictCount };
    }
    const committed = await commitPending(ctx, served, user, pending, { kind: "sandbox", detail: `commit of sandbox "${sandbox.name}"` }, { sandboxCommitted: sandbox.id, outbox: [event] });
    const stale = committed.results.flatMap((r, k) => (r.ok || r.groupFailed ? [] : [coords[commit[k]]]));
    if (stale.length > 0) {
      await catchUp(ctx.store, served, stale);
      if (attempt < COMMIT_TRIES) continue;
      throw new DomainError(`the base keeps changing under sandbox "${sandbox.name}" through other instances; try the commit again`, "aborted");
    }
    const version = applyCommitted(served, pending, committed.results, { user, at: committed.at });
    ctx.publisher?.kick();
    return { status: "APPLIED", txId: committed.txId, leavesCommitted: pending.length, version, conflicts, conflictCount };
  }
}
