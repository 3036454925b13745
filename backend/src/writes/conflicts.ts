/**
 * Conflict detection, in one place: "no lost update" (ARCHITECTURE.md). A write names the version
 * it was based on; a leaf cell's version is its last write's, a consolidated cell's the highest of
 * the leaves below it. Checked twice: against the lattice before planning (so a stale write costs
 * no commit), and under row locks inside the commit (`commitDecisions`, called by the store), which
 * is what makes the check hold between instances. Also: writes of one request that overlap.
 */
import type { CellWriter, Cube, LeafState } from "../lattice";
import { overlaps } from "../lattice";
import type { CommitResult, PendingWrite } from "../store/types";

/** A write the commit refused, with the stored state that made it stale. */
export type CommitConflict = Extract<CommitResult, { ok: false }>;
import type { WriteOutcome } from "./types";

/** A value as a message shows it. */
export function fmt(v: number | null): string {
  return v === null ? "(empty)" : String(v);
}

function by(writer: CellWriter | null): string {
  return writer ? ` by ${writer.user} at ${new Date(writer.at).toISOString()}` : "";
}

/**
 * The outcome of a write whose base version is newer than the cell's: it read state this instance
 * has not seen (and the store did not have either): REJECTED, read again.
 */
export function aheadOfCell(baseVersion: number, state: { value: number | null; version: number }): WriteOutcome {
  return {
    status: "REJECTED",
    version: state.version,
    value: state.value,
    message: `base version ${baseVersion} is newer than the cell's version ${state.version}; read the cell again`,
  };
}

/**
 * Checks a leaf write against the lattice's state of the cell: null when `baseVersion` is current,
 * else a CONFLICT carrying the other writer's value (stale) or a REJECTED (ahead).
 * @param loadedAt the cube's load time, reported as the time of a cell never written since.
 */
export function checkLeaf(state: LeafState, baseVersion: number, loadedAt: number): WriteOutcome | null {
  if (baseVersion < state.version) {
    return {
      status: "CONFLICT",
      version: state.version,
      value: state.value,
      updatedBy: state.writer?.user ?? "",
      updatedAt: state.writer?.at ?? loadedAt,
      message: `the cell changed since version ${baseVersion}: ${state.writer ? `${state.writer.user} wrote ${fmt(state.value)} at ${new Date(state.writer.at).toISOString()}` : "it was reloaded"} (version ${state.version})`,
    };
  }
  if (baseVersion > state.version) return aheadOfCell(baseVersion, state);
  return null;
}

/**
 * Checks a write to a consolidated cell against its version (the highest of the leaves below):
 * null when current, else a CONFLICT naming the last writer below (stale) or a REJECTED (ahead).
 */
export function checkConsolidated(
  cube: Cube,
  coords: Int32Array,
  state: { value: number | null; version: number },
  baseVersion: number,
  loadedAt: number,
): WriteOutcome | null {
  if (baseVersion < state.version) {
    const last = cube.lastWriteBelow(coords).writer;
    return {
      status: "CONFLICT",
      version: state.version,
      value: state.value,
      updatedBy: last?.user ?? "",
      updatedAt: last?.at ?? loadedAt,
      message: `the cell changed since version ${baseVersion}: a leaf below it was written${by(last)} (version ${state.version}); its value is now ${fmt(state.value)}`,
    };
  }
  if (baseVersion > state.version) return aheadOfCell(baseVersion, state);
  return null;
}

/**
 * Checks a scenario copy's target against the version the caller saw (0: no check): null when
 * current, else the CONFLICT message naming the last writer.
 */
export function checkCopyTarget(
  target: { version: number; writer: CellWriter | null },
  baseVersion: number,
): { status: "CONFLICT"; version: number; message: string } | null {
  if (baseVersion <= 0 || baseVersion >= target.version) return null;
  return {
    status: "CONFLICT",
    version: target.version,
    message: `the target changed since version ${baseVersion}: a leaf was written${by(target.writer)} (version ${target.version}); nothing was copied`,
  };
}

/**
 * Refuses writes that overlap an earlier write of the same request: a leaf written twice, or a
 * leaf below a consolidated cell written in the same request (the spread would fight the other
 * write). Sets a REJECTED outcome on the later write of each pair; skips writes that have an outcome.
 */
export function rejectOverlaps(cube: Cube, targets: readonly (Int32Array | null)[], outcomes: WriteOutcome[]): void {
  targets.forEach((coords, i) => {
    if (!coords || outcomes[i]) return;
    for (let j = 0; j < i; j++) {
      const other = targets[j];
      if (!other || outcomes[j]) continue;
      if (!cube.dims.every((dim, d) => overlaps(dim, coords[d], other[d]))) continue;
      outcomes[i] = {
        status: "REJECTED",
        message:
          cube.isConsolidated(coords) || cube.isConsolidated(other)
            ? `write ${i} overlaps write ${j} of this request (one of them is a consolidated cell over the other's leaves): send them in separate requests`
            : `the same cell is written twice in this request (writes ${j} and ${i})`,
      };
      return;
    }
  });
}

/** Per write in a commit: applied, or refused as stale (or because another write of its group was). */
export type CommitDecision = { ok: true } | { ok: false; groupFailed: boolean };

/**
 * The commit's own check, made by the store under row locks: a write applies when its base version
 * equals the cell's stored version at the start of the commit, and writes sharing a `group` (one
 * spread, one scenario copy) apply all or none.
 * @param storedVersion the stored version of write `i`'s cell (0 when absent).
 */
export function commitDecisions(writes: readonly Pick<PendingWrite, "baseVersion" | "group">[], storedVersion: (i: number) => number): CommitDecision[] {
  const failedGroups = new Set<number>();
  writes.forEach((w, i) => {
    if (w.group !== undefined && w.baseVersion !== storedVersion(i)) failedGroups.add(w.group);
  });
  return writes.map((w, i) => {
    const current = w.baseVersion === storedVersion(i);
    const groupFailed = w.group !== undefined && failedGroups.has(w.group);
    return current && !groupFailed ? { ok: true } : { ok: false, groupFailed: current };
  });
}

/** The CONFLICT of a leaf write the commit refused: the stored state that made it one. */
export function staleLeaf(pending: PendingWrite, stored: CommitConflict, loadedAt: number): WriteOutcome {
  return {
    status: "CONFLICT",
    version: stored.currentVersion,
    value: stored.currentValue,
    updatedBy: stored.updatedBy ?? "",
    updatedAt: stored.updatedAt ?? loadedAt,
    message: `the cell changed since version ${pending.baseVersion}: ${stored.updatedBy ?? "another writer"} wrote ${fmt(stored.currentValue)} (version ${stored.currentVersion})`,
  };
}

/** The message of a spread or copy the commit refused because one of its leaves (`names`: its members' unique names) changed meanwhile. */
export function staleLeafBelow(what: "spreading" | "copying", names: readonly string[], stored: CommitConflict): string {
  const change = `${names.join(", ")}: ${stored.updatedBy ?? "another writer"} wrote ${fmt(stored.currentValue)}, version ${stored.currentVersion}`;
  return what === "spreading"
    ? `a leaf cell below changed while spreading (${change}); nothing was changed: read the cell again`
    : `a target leaf changed while copying (${change}); nothing was copied`;
}
