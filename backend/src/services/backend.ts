import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Cube, LeafChange } from "../lattice";
import type { AddressError } from "../lattice/resolver";
import type { PendingWrite, Store } from "../store/types";

/** The applied changes of one write transaction as another instance reports them (see events/). */
export interface RemoteWrite {
  cube: string;
  cubeId: number;
  /** The cube's load time (ms): with cubeId, which generation of the cube (and which database). */
  loadedAt: number;
  user: string;
  at: number;
  changes: readonly { coords: readonly number[]; value: number | null; version: number }[];
}

/** Most cells in one GetCells or WatchCells request. */
export const MAX_CELLS_PER_REQUEST = 20_000;
/** Most writes in one WriteCells request. */
export const MAX_WRITES_PER_REQUEST = 10_000;
/** Most members in one address. */
export const MAX_MEMBERS_PER_ADDRESS = 64;
/** The request header that names the user until sign-in exists. */
export const USER_HEADER = "x-quantatom-user";

/** A cube served by this backend, with its id in the store. */
export interface ServedCube {
  id: number;
  cube: Cube;
  loadedAt: number;
}

/** One write as the API receives it. */
export interface WriteInput {
  members: readonly string[];
  value: number | null;
  baseVersion: number;
}

/** The outcome of one write (see WriteResult in lattice.proto). */
export type WriteOutcome =
  | { status: "APPLIED"; version: number; value: number | null; updatedBy: string; updatedAt: number }
  | {
      status: "CONFLICT";
      version: number;
      value: number | null;
      updatedBy: string;
      updatedAt: number;
      message: string;
    }
  | { status: "REJECTED"; message: string; error?: AddressError; version?: number; value?: number | null };

/**
 * The backend's state: the cubes it serves (lattices in memory) over a durable store, and the write
 * path that keeps the two in step (commit first, then apply to the lattice, then notify watches).
 */
export class Backend {
  private readonly cubes = new Map<string, ServedCube>();
  /** Serializes writes per cube, so that a commit and its application are never interleaved. */
  private readonly writeQueues = new Map<string, Promise<unknown>>();

  /** This instance's id: its outbox rows carry it, and its consumer group is named after it. */
  readonly instanceId: string;
  /** Called after every commit that applied writes (the outbox relay's kick). */
  onCommitted?: () => void;

  constructor(
    readonly store: Store,
    opts: { instanceId?: string } = {},
  ) {
    this.instanceId = opts.instanceId ?? randomUUID();
  }

  /**
   * Applies leaf changes to a served cube's lattice, each only when its version is newer than the
   * cell's version there (so that a change is never applied twice, and an older one arriving late
   * never overwrites a newer one). Returns the number applied.
   */
  private applyNewer(served: ServedCube, changes: readonly LeafChange[]): number {
    const newer = changes.filter((ch) => ch.version > served.cube.leafState(ch.coords).version);
    if (newer.length > 0) served.cube.applyChanges(newer);
    return newer.length;
  }

  /**
   * Applies another instance's committed write to the lattice (which notifies watches): only the
   * changes newer than the lattice's, and nothing when this instance does not serve the cube or
   * serves another generation of it (a different store id or load time). Returns the number of changes applied.
   */
  applyWriteEvent(ev: RemoteWrite): number {
    const served = this.cubes.get(ev.cube.toLowerCase());
    if (!served || served.id !== ev.cubeId || served.loadedAt !== ev.loadedAt) return 0;
    const writer = { user: ev.user, at: ev.at };
    const changes: LeafChange[] = [];
    for (const c of ev.changes) {
      const dims = served.cube.dims;
      const fits = c.coords.length === dims.length && c.coords.every((x, d) => Number.isInteger(x) && x >= 0 && x < dims[d].size);
      if (!fits || served.cube.isConsolidated(c.coords)) continue;
      changes.push({ coords: c.coords, value: c.value, version: c.version, writer });
    }
    return this.applyNewer(served, changes);
  }

  /**
   * Brings leaf cells of the lattice up to their stored state (for writes whose base version is
   * newer than the lattice's: another instance wrote them and its event has not arrived yet).
   */
  private async catchUp(served: ServedCube, coords: Int32Array[]): Promise<void> {
    if (coords.length === 0) return;
    const states = await this.store.readCells(served.id, coords.map((c) => Array.from(c)));
    const changes: LeafChange[] = [];
    states.forEach((st, i) => {
      if (st.version === 0) return;
      changes.push({
        coords: coords[i],
        value: st.value,
        version: st.version,
        writer: { user: st.updatedBy ?? "", at: st.updatedAt ?? served.loadedAt },
      });
    });
    this.applyNewer(served, changes);
  }

  /** Serves a cube (replacing one of the same name). */
  addCube(served: ServedCube): void {
    this.cubes.set(served.cube.name.toLowerCase(), served);
  }

  /** Cubes served, in name order. */
  listCubes(): ServedCube[] {
    return Array.from(this.cubes.values()).sort((a, b) => a.cube.name.localeCompare(b.cube.name));
  }

  /**
   * The cube named `name` (case-insensitive).
   * @throws ConnectError invalid_argument when the name is empty, not_found when no cube has it.
   */
  cube(name: string): ServedCube {
    if (!name || name.trim() === "") throw new ConnectError("cube is required (the cube's name, e.g. \"Sales\")", Code.InvalidArgument);
    const c = this.cubes.get(name.trim().toLowerCase());
    if (!c) {
      const names = this.listCubes().map((x) => x.cube.name);
      throw new ConnectError(`cube "${name}" not found; cubes: ${names.join(", ") || "(none)"}`, Code.NotFound);
    }
    return c;
  }

  /**
   * Writes leaf cells: each write is checked on its own, the applied ones are committed together
   * with their audit records, then applied to the lattice (which notifies watches).
   * @throws ConnectError for API misuse (see checkWrites); per-write problems are outcomes.
   */
  async writeCells(cubeName: string, writes: readonly WriteInput[], user: string): Promise<{ outcomes: WriteOutcome[]; txId: string }> {
    const served = this.cube(cubeName);
    checkWrites(writes);
    const key = served.cube.name.toLowerCase();
    const prev = this.writeQueues.get(key) ?? Promise.resolve();
    const run = prev.then(() => this.writeNow(served, writes, user));
    const tail = run.catch(() => undefined);
    this.writeQueues.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.writeQueues.get(key) === tail) this.writeQueues.delete(key);
    }
  }

  private async writeNow(served: ServedCube, writes: readonly WriteInput[], user: string): Promise<{ outcomes: WriteOutcome[]; txId: string }> {
    const { cube } = served;
    const outcomes: WriteOutcome[] = new Array(writes.length);
    const pending: PendingWrite[] = [];
    const pendingIndex: number[] = [];
    const seen = new Map<string, number>();
    // Cells this instance has not caught up on yet (written through another instance): read them
    // from the store first, so that the version check below sees what the writer saw.
    const behind: Int32Array[] = [];
    for (const w of writes) {
      const coords = cube.resolve(w.members);
      if (coords instanceof Int32Array && !cube.isConsolidated(coords) && w.baseVersion > cube.leafState(coords).version) {
        behind.push(coords);
      }
    }
    await this.catchUp(served, behind);
    writes.forEach((w, i) => {
      const coords = cube.resolve(w.members);
      if (!(coords instanceof Int32Array)) {
        outcomes[i] = { status: "REJECTED", message: coords.message, error: coords };
        return;
      }
      const names = cube.uniqueNames(coords);
      if (cube.isConsolidated(coords)) {
        const where = cube.dims
          .map((dim, d) => (dim.isLeaf(coords[d]) ? null : dim.uniqueName(coords[d])))
          .filter((name) => name !== null)
          .join(", ");
        outcomes[i] = {
          status: "REJECTED",
          message: `the cell is consolidated (${where} has members below it); writing to a consolidated cell (spreading) is not supported yet: write to leaf cells`,
        };
        return;
      }
      const key = names.join("|");
      const first = seen.get(key);
      if (first !== undefined) {
        outcomes[i] = { status: "REJECTED", message: `the same cell is written twice in this request (writes ${first} and ${i})` };
        return;
      }
      seen.set(key, i);
      const state = cube.leafState(coords);
      if (w.baseVersion < state.version) {
        outcomes[i] = {
          status: "CONFLICT",
          version: state.version,
          value: state.value,
          updatedBy: state.writer?.user ?? "",
          updatedAt: state.writer?.at ?? served.loadedAt,
          message: `the cell changed since version ${w.baseVersion}: ${state.writer ? `${state.writer.user} wrote ${fmt(state.value)} at ${new Date(state.writer.at).toISOString()}` : "it was reloaded"} (version ${state.version})`,
        };
        return;
      }
      if (w.baseVersion > state.version) {
        outcomes[i] = {
          status: "REJECTED",
          version: state.version,
          value: state.value,
          message: `base version ${w.baseVersion} is newer than the cell's version ${state.version}; read the cell again`,
        };
        return;
      }
      pending.push({ coords: Array.from(coords), members: names, oldValue: state.value, newValue: w.value, baseVersion: w.baseVersion });
      pendingIndex.push(i);
    });
    if (pending.length === 0) return { outcomes, txId: "" };
    const txId = randomUUID();
    const { results, at } = await this.store.commitWrites(served.id, txId, user, pending, {
      outbox: { cube: cube.name, instanceId: this.instanceId },
    });
    const changes: LeafChange[] = [];
    results.forEach((r, k) => {
      const i = pendingIndex[k];
      if (r.ok) {
        outcomes[i] = { status: "APPLIED", version: r.version, value: pending[k].newValue, updatedBy: user, updatedAt: at };
        changes.push({ coords: pending[k].coords, value: pending[k].newValue, version: r.version, writer: { user, at } });
      } else {
        outcomes[i] = {
          status: "CONFLICT",
          version: r.currentVersion,
          value: r.currentValue,
          updatedBy: r.updatedBy ?? "",
          updatedAt: r.updatedAt ?? served.loadedAt,
          message: `the cell changed since version ${pending[k].baseVersion}: ${r.updatedBy ?? "another writer"} wrote ${fmt(r.currentValue)} (version ${r.currentVersion})`,
        };
      }
    });
    // Conflicts found by the store mean this lattice is behind on those cells: catch up.
    const stale = results.flatMap((r, k) => (r.ok ? [] : [Int32Array.from(pending[k].coords)]));
    this.applyNewer(served, changes);
    if (changes.length > 0) this.onCommitted?.();
    if (stale.length > 0) await this.catchUp(served, stale).catch(() => undefined);
    return { outcomes, txId: changes.length > 0 ? txId : "" };
  }
}

function fmt(v: number | null): string {
  return v === null ? "(empty)" : String(v);
}

/**
 * Checks a write request for API misuse.
 * @throws ConnectError resource_exhausted over MAX_WRITES_PER_REQUEST; invalid_argument for a
 *   value that is NaN or infinite, or a negative or fractional base version.
 */
export function checkWrites(writes: readonly WriteInput[]): void {
  if (writes.length > MAX_WRITES_PER_REQUEST) {
    throw new ConnectError(`${writes.length} writes in one request; the limit is ${MAX_WRITES_PER_REQUEST}`, Code.ResourceExhausted);
  }
  writes.forEach((w, i) => {
    if (w.value !== null && !Number.isFinite(w.value)) {
      throw new ConnectError(`writes[${i}].value is ${w.value}; a value must be a finite number (or unset to clear the cell)`, Code.InvalidArgument);
    }
    if (!Number.isSafeInteger(w.baseVersion) || w.baseVersion < 0) {
      throw new ConnectError(`writes[${i}].baseVersion is ${w.baseVersion}; it must be a whole number of at least 0`, Code.InvalidArgument);
    }
    checkMembers(w.members, `writes[${i}].members`);
  });
}

/**
 * Checks one address's member list for API misuse.
 * @throws ConnectError invalid_argument when it is empty or too long.
 */
export function checkMembers(members: readonly string[], where: string): void {
  if (members.length > MAX_MEMBERS_PER_ADDRESS) {
    throw new ConnectError(`${where} has ${members.length} members; the limit is ${MAX_MEMBERS_PER_ADDRESS}`, Code.InvalidArgument);
  }
}

/**
 * Checks the size of a cell batch.
 * @throws ConnectError resource_exhausted over MAX_CELLS_PER_REQUEST.
 */
export function checkCellBatch(count: number): void {
  if (count > MAX_CELLS_PER_REQUEST) {
    throw new ConnectError(`${count} cells in one request; the limit is ${MAX_CELLS_PER_REQUEST}`, Code.ResourceExhausted);
  }
}

/**
 * A request's limit: `fallback` when 0 (unset).
 * @throws ConnectError invalid_argument when negative or over `max`.
 */
export function clampLimit(limit: number, fallback: number, max: number, field: string): number {
  if (limit === 0) return fallback;
  if (limit < 0 || limit > max) throw new ConnectError(`${field} must be from 1 to ${max}, got ${limit}`, Code.InvalidArgument);
  return limit;
}

/**
 * Converts a protobuf int64 (bigint) that must fit a JavaScript number exactly.
 * @throws ConnectError invalid_argument when it is beyond 2^53 - 1 or negative.
 */
export function toSafeNumber(v: bigint, field: string): number {
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ConnectError(`${field} is ${v}; it must be from 0 to ${Number.MAX_SAFE_INTEGER}`, Code.InvalidArgument);
  }
  return Number(v);
}
