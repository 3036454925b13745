import { randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Cube, LeafChange } from "../lattice";
import type { AddressError } from "../lattice/resolver";
import type { DataAction } from "../lattice/spread/methods";
import { planScenarioCopy } from "../lattice/scenario";
import { lastWrittenBelow, overlaps, planSpread, type SpreadMethodCode, type SpreadPlan } from "../lattice/spread/target";
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

/** Default most leaf cells one spread may create (QATOM_SPREAD_MAX_NEW_CELLS). */
export const DEFAULT_SPREAD_MAX_NEW_CELLS = 25_000;

/** How to spread a write to a consolidated cell (see Spread in lattice.proto). */
export interface SpreadInput {
  /** TM1 method code; null means proportional. */
  method: SpreadMethodCode | null;
  action: DataAction;
  includeEmpty: boolean;
  percent: number;
  /** Members of the reference cell (RP, R%) that replace the target's. */
  reference: readonly string[];
}

/** A scenario copy as the API receives it (see CopyScenarioRequest in lattice.proto). */
export interface ScenarioCopyInput {
  /** Dimension name; default `Scenario`. */
  dimension: string;
  from: string;
  to: string;
  factor: number;
  /** Members bounding the copy on other dimensions. */
  slice: readonly string[];
  /** The target slice's version the caller saw, or 0 for no check. */
  baseVersion: number;
}

/** The outcome of a scenario copy. */
export type ScenarioCopyOutcome =
  | { status: "APPLIED"; leavesChanged: number; leavesCleared: number; version: number; txId: string }
  | { status: "CONFLICT"; version: number; message: string };

/** One write as the API receives it. */
export interface WriteInput {
  members: readonly string[];
  value: number | null;
  baseVersion: number;
  /** For a consolidated cell: how to spread it (default proportional). */
  spread?: SpreadInput;
}

/** The outcome of one write (see WriteResult in lattice.proto). */
export type WriteOutcome =
  | { status: "APPLIED"; version: number; value: number | null; updatedBy: string; updatedAt: number; leavesChanged: number }
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

  /** Most leaf cells one spread may create; a spread needing more is REJECTED with the count. */
  readonly spreadMaxNewCells: number;

  constructor(
    readonly store: Store,
    opts: { instanceId?: string; spreadMaxNewCells?: number } = {},
  ) {
    this.instanceId = opts.instanceId ?? randomUUID();
    this.spreadMaxNewCells = opts.spreadMaxNewCells ?? DEFAULT_SPREAD_MAX_NEW_CELLS;
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
      if (!fits || served.cube.isConsolidated(c.coords) || served.cube.isCalculated(c.coords)) continue;
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
   * Writes cells: each write is checked on its own; a write to a consolidated cell is spread to the
   * leaf cells below it (TM1's data spreading, see lattice/spread/), all or nothing. The applied
   * writes' leaf changes are committed together in one transaction, with one audit record per
   * changed leaf, then applied to the lattice (which notifies watches).
   * @param holds cells held during this request's spreads (member lists, as addresses).
   * @throws ConnectError for API misuse (see checkWrites; an unresolvable hold is invalid_argument);
   *   per-write problems are outcomes.
   */
  async writeCells(
    cubeName: string,
    writes: readonly WriteInput[],
    user: string,
    holds: readonly (readonly string[])[] = [],
  ): Promise<{ outcomes: WriteOutcome[]; txId: string }> {
    const served = this.cube(cubeName);
    checkWrites(writes);
    if (holds.length > MAX_WRITES_PER_REQUEST) {
      throw new ConnectError(`${holds.length} holds in one request; the limit is ${MAX_WRITES_PER_REQUEST}`, Code.ResourceExhausted);
    }
    const heldCells = holds.map((members, i) => {
      checkMembers(members, `holds[${i}].members`);
      const coords = served.cube.resolve(members);
      if (!(coords instanceof Int32Array)) throw new ConnectError(`holds[${i}]: ${coords.message}`, Code.InvalidArgument);
      return coords;
    });
    return this.serialized(served, () => this.writeNow(served, writes, user, heldCells));
  }

  /** Runs `fn` after every earlier write to the cube finished, so that a commit and its application never interleave. */
  private async serialized<T>(served: ServedCube, fn: () => Promise<T>): Promise<T> {
    const key = served.cube.name.toLowerCase();
    const prev = this.writeQueues.get(key) ?? Promise.resolve();
    const run = prev.then(fn);
    const tail = run.catch(() => undefined);
    this.writeQueues.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.writeQueues.get(key) === tail) this.writeQueues.delete(key);
    }
  }

  /**
   * Copies one scenario onto another (see CopyScenario in lattice.proto): the target's leaf cells in
   * the slice become the source's times the factor, and target cells with no source are cleared,
   * in one transaction with an audit record per changed leaf; all or nothing.
   * @throws ConnectError not_found for an unknown cube, dimension or member; invalid_argument for a
   *   factor that is not finite, a member of another dimension, a consolidated or calculated
   *   member, the same member twice, or a slice on the scenario dimension.
   */
  async copyScenario(cubeName: string, input: ScenarioCopyInput, user: string): Promise<ScenarioCopyOutcome> {
    const served = this.cube(cubeName);
    const { cube } = served;
    const dimName = input.dimension.trim() || "Scenario";
    const sd = cube.resolver.dimensionIndex(dimName);
    if (sd < 0) {
      throw new ConnectError(`cube ${cube.name} has no dimension "${dimName}"; dimensions: ${cube.dims.map((d) => d.name).join(", ")}`, Code.NotFound);
    }
    if (!Number.isFinite(input.factor)) throw new ConnectError(`factor is ${input.factor}; it must be a finite number`, Code.InvalidArgument);
    const member = (text: string, field: string): number => {
      if (!text.trim()) throw new ConnectError(`${field} is required (a member of ${cube.dims[sd].name}, e.g. "Actual")`, Code.InvalidArgument);
      const m = cube.resolver.member(text.includes("[") ? text : `[${cube.dims[sd].name}].[${text}]`);
      if ("message" in m) throw new ConnectError(`${field}: ${m.message}`, Code.NotFound);
      const dim = cube.dims[sd];
      if (m.dim !== sd) throw new ConnectError(`${field} ${text} is not a member of ${dim.name}`, Code.InvalidArgument);
      if (!dim.isLeaf(m.id)) throw new ConnectError(`${field} ${dim.uniqueName(m.id)} is consolidated; copy between leaf members`, Code.InvalidArgument);
      if (cube.memberFormula(sd, m.id)) throw new ConnectError(`${field} ${dim.uniqueName(m.id)} is calculated by a formula; copy between stored members`, Code.InvalidArgument);
      return m.id;
    };
    const from = member(input.from, "from");
    const to = member(input.to, "to");
    if (from === to) throw new ConnectError(`from and to are both ${cube.dims[sd].uniqueName(from)}`, Code.InvalidArgument);
    checkMembers(input.slice, "slice");
    const slice = new Int32Array(cube.dims.length).fill(-1);
    input.slice.forEach((text, i) => {
      const m = cube.resolver.member(text);
      if ("message" in m) throw new ConnectError(`slice[${i}]: ${m.message}`, Code.NotFound);
      if (m.dim === sd) throw new ConnectError(`slice[${i}] ${text} is on the scenario dimension ${cube.dims[sd].name}`, Code.InvalidArgument);
      if (slice[m.dim] >= 0) throw new ConnectError(`slice names two members of ${cube.dims[m.dim].name}`, Code.InvalidArgument);
      if (cube.memberFormula(m.dim, m.id)) throw new ConnectError(`slice[${i}] ${text} is a calculated member`, Code.InvalidArgument);
      slice[m.dim] = m.id;
    });
    return this.serialized(served, () => this.copyNow(served, { dim: sd, from, to, factor: input.factor, slice }, input.baseVersion, user));
  }

  private async copyNow(
    served: ServedCube,
    spec: { dim: number; from: number; to: number; factor: number; slice: Int32Array },
    baseVersion: number,
    user: string,
  ): Promise<ScenarioCopyOutcome> {
    const { cube } = served;
    const plan = planScenarioCopy(cube, spec);
    if (baseVersion > 0 && baseVersion < plan.targetVersion) {
      const w = plan.targetWriter;
      return {
        status: "CONFLICT",
        version: plan.targetVersion,
        message: `the target changed since version ${baseVersion}: a leaf was written${w ? ` by ${w.user} at ${new Date(w.at).toISOString()}` : ""} (version ${plan.targetVersion}); nothing was copied`,
      };
    }
    if (plan.count === 0) return { status: "APPLIED", leavesChanged: 0, leavesCleared: 0, version: plan.targetVersion, txId: "" };
    const pending = leafWrites(cube, plan, 0);
    const txId = randomUUID();
    const { results, at } = await this.store.commitWrites(served.id, txId, user, pending, {
      outbox: { cube: cube.name, instanceId: this.instanceId },
    });
    const bad = results.findIndex((r) => !r.ok && !r.groupFailed);
    if (bad >= 0) {
      const r = results[bad];
      if (!r.ok) {
        await this.catchUp(served, [Int32Array.from(pending[bad].coords)]).catch(() => undefined);
        return {
          status: "CONFLICT",
          version: r.currentVersion,
          message: `a target leaf changed while copying (${pending[bad].members.join(", ")}: ${r.updatedBy ?? "another writer"} wrote ${fmt(r.currentValue)}, version ${r.currentVersion}); nothing was copied`,
        };
      }
    }
    const writer = { user, at };
    const changes: LeafChange[] = new Array(results.length);
    let version = 0;
    results.forEach((r, k) => {
      const v = r.ok ? r.version : 0;
      if (v > version) version = v;
      changes[k] = { coords: pending[k].coords, value: pending[k].newValue, version: v, writer };
    });
    this.applyNewer(served, changes);
    this.onCommitted?.();
    return { status: "APPLIED", leavesChanged: plan.count, leavesCleared: plan.cleared, version, txId };
  }

  private async writeNow(
    served: ServedCube,
    writes: readonly WriteInput[],
    user: string,
    holds: readonly Int32Array[],
  ): Promise<{ outcomes: WriteOutcome[]; txId: string }> {
    const { cube } = served;
    const outcomes: WriteOutcome[] = new Array(writes.length);
    const pending: PendingWrite[] = [];
    /** Per pending write, the request index it belongs to. */
    const pendingIndex: number[] = [];
    /** Per spread (by request index): its plan and the range of its pending writes. */
    const spreads = new Map<number, { plan: SpreadPlan; from: number; to: number }>();
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

    // Resolve every write, and refuse writes that overlap an earlier one of the request (a leaf
    // written twice, or a leaf below a consolidated cell written in the same request).
    const targets: (Int32Array | null)[] = writes.map((w, i) => {
      const coords = cube.resolve(w.members);
      if (!(coords instanceof Int32Array)) {
        outcomes[i] = { status: "REJECTED", message: coords.message, error: coords };
        return null;
      }
      const formula = cube.formulaOf(coords);
      if (formula) {
        outcomes[i] = {
          status: "REJECTED",
          message: `the cell is calculated by a formula (${formula.member} = ${formula.expression}): it is read-only; write to the cells it reads`,
        };
        return null;
      }
      return coords;
    });
    targets.forEach((coords, i) => {
      if (!coords) return;
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

    targets.forEach((coords, i) => {
      if (!coords || outcomes[i]) return;
      const w = writes[i];
      if (cube.isConsolidated(coords)) {
        this.planConsolidated(served, coords, w, holds, i, outcomes, pending, pendingIndex, spreads);
        return;
      }
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
        outcomes[i] = aheadOfCell(w.baseVersion, state);
        return;
      }
      pending.push({ coords: Array.from(coords), members: cube.uniqueNames(coords), oldValue: state.value, newValue: w.value, baseVersion: w.baseVersion });
      pendingIndex.push(i);
    });
    if (pending.length === 0) return { outcomes, txId: "" };
    const txId = randomUUID();
    const { results, at } = await this.store.commitWrites(served.id, txId, user, pending, {
      outbox: { cube: cube.name, instanceId: this.instanceId },
    });
    const changes: LeafChange[] = [];
    const writer = { user, at };
    results.forEach((r, k) => {
      const i = pendingIndex[k];
      if (spreads.has(i)) {
        if (r.ok) changes.push({ coords: pending[k].coords, value: pending[k].newValue, version: r.version, writer });
        return;
      }
      if (r.ok) {
        outcomes[i] = { status: "APPLIED", version: r.version, value: pending[k].newValue, updatedBy: user, updatedAt: at, leavesChanged: 1 };
        changes.push({ coords: pending[k].coords, value: pending[k].newValue, version: r.version, writer });
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
    const stale = results.flatMap((r, k) => (r.ok || r.groupFailed ? [] : [Int32Array.from(pending[k].coords)]));
    this.applyNewer(served, changes);
    // Spread outcomes, read back from the lattice now that their leaves are applied.
    for (const [i, sp] of spreads) {
      if (sp.to === sp.from) continue;
      const slice = results.slice(sp.from, sp.to);
      const bad = slice.findIndex((r) => !r.ok && !r.groupFailed);
      if (bad >= 0) {
        const r = slice[bad];
        if (r.ok) continue;
        const p = pending[sp.from + bad];
        outcomes[i] = {
          status: "CONFLICT",
          version: r.currentVersion,
          value: cube.getCells([targets[i]!])[0].value,
          updatedBy: r.updatedBy ?? "",
          updatedAt: r.updatedAt ?? served.loadedAt,
          message: `a leaf cell below changed while spreading (${p.members.join(", ")}: ${r.updatedBy ?? "another writer"} wrote ${fmt(r.currentValue)}, version ${r.currentVersion}); nothing was changed: read the cell again`,
        };
        continue;
      }
      let version = 0;
      for (const r of slice) if (r.ok && r.version > version) version = r.version;
      outcomes[i] = { status: "APPLIED", version, value: cube.getCells([targets[i]!])[0].value, updatedBy: user, updatedAt: at, leavesChanged: sp.plan.count };
    }
    if (changes.length > 0) this.onCommitted?.();
    if (stale.length > 0) await this.catchUp(served, stale).catch(() => undefined);
    return { outcomes, txId: changes.length > 0 ? txId : "" };
  }

  /**
   * Checks a write to a consolidated cell and plans its spread: the version check against the
   * cell's version (the highest below it), then the leaf changes, queued as one all-or-nothing
   * group of pending writes. Sets the outcome when the write cannot go ahead.
   */
  private planConsolidated(
    served: ServedCube,
    coords: Int32Array,
    w: WriteInput,
    holds: readonly Int32Array[],
    i: number,
    outcomes: WriteOutcome[],
    pending: PendingWrite[],
    pendingIndex: number[],
    spreads: Map<number, { plan: SpreadPlan; from: number; to: number }>,
  ): void {
    const { cube } = served;
    const state = cube.getCells([coords])[0];
    if (w.baseVersion < state.version) {
      const row = lastWrittenBelow(cube, coords);
      const last = row >= 0 ? cube.writers.get(row) : undefined;
      outcomes[i] = {
        status: "CONFLICT",
        version: state.version,
        value: state.value,
        updatedBy: last?.user ?? "",
        updatedAt: last?.at ?? served.loadedAt,
        message: `the cell changed since version ${w.baseVersion}: a leaf below it was written${last ? ` by ${last.user} at ${new Date(last.at).toISOString()}` : ""} (version ${state.version}); its value is now ${fmt(state.value)}`,
      };
      return;
    }
    if (w.baseVersion > state.version) {
      outcomes[i] = aheadOfCell(w.baseVersion, state);
      return;
    }
    const sp = w.spread;
    const method = sp?.method ?? (w.value === null ? "C" : "P");
    if (w.value === null && method !== "C" && method !== "P%" && method !== "R%") {
      outcomes[i] = { status: "REJECTED", message: `spreading ${method} needs a value (an empty value clears the cell: method C)` };
      return;
    }
    let reference: Int32Array | null = null;
    if (method === "RP" || method === "R%") {
      const names = sp?.reference ?? [];
      if (names.length === 0) {
        outcomes[i] = { status: "REJECTED", message: `spreading ${method} needs a reference cell (Spread.reference, e.g. ["[Scenario].[Actual]"])` };
        return;
      }
      reference = Int32Array.from(coords);
      for (const name of names) {
        const m = cube.resolver.member(name);
        if ("message" in m) {
          outcomes[i] = { status: "REJECTED", message: `reference: ${m.message}`, error: m };
          return;
        }
        reference[m.dim] = m.id;
      }
      if (cube.formulaOf(reference)) {
        outcomes[i] = { status: "REJECTED", message: "the reference cell is calculated by a formula; spread relative to stored cells" };
        return;
      }
    }
    const plan = planSpread(
      cube,
      coords,
      { method, action: sp?.action ?? "replace", includeEmpty: sp?.includeEmpty ?? false, value: w.value ?? 0, percent: sp?.percent ?? 0, reference },
      holds,
      { maxNewCells: this.spreadMaxNewCells },
    );
    if (!plan.ok) {
      outcomes[i] = { status: "REJECTED", message: `could not spread ${describe(method, sp)} into ${cube.uniqueNames(coords).join(", ")}: ${plan.message}` };
      return;
    }
    const from = pending.length;
    for (const w of leafWrites(cube, plan, i)) {
      pending.push(w);
      pendingIndex.push(i);
    }
    spreads.set(i, { plan, from, to: pending.length });
    if (plan.count === 0) {
      outcomes[i] = { status: "APPLIED", version: state.version, value: state.value, updatedBy: "", updatedAt: served.loadedAt, leavesChanged: 0 };
    }
  }
}

/** A spread as a person reads it: its TM1 code, e.g. `P+`, `LS*`, `P%~`. */
function describe(method: SpreadMethodCode, sp: SpreadInput | undefined): string {
  const action = sp?.action === "add" ? "+" : sp?.action === "subtract" ? "~" : "";
  return `${method}${action}${sp?.includeEmpty ? "*" : ""}`;
}

/**
 * The pending writes of planned leaf changes (a spread's or a scenario copy's columns), all in
 * `group`, each based on its leaf's current version in the lattice (0 for a cell not stored yet).
 */
function leafWrites(
  cube: Cube,
  plan: { count: number; dims: number; coords: Int32Array; oldValues: Float64Array; newValues: Float64Array; baseVersions: Float64Array },
  group: number,
): PendingWrite[] {
  const nd = plan.dims;
  const out: PendingWrite[] = new Array(plan.count);
  for (let k = 0; k < plan.count; k++) {
    const coords = Array.from(plan.coords.subarray(k * nd, (k + 1) * nd));
    const old = plan.oldValues[k];
    const next = plan.newValues[k];
    out[k] = {
      coords,
      members: cube.uniqueNames(coords),
      oldValue: old === old ? old : null,
      newValue: next === next ? next : null,
      baseVersion: plan.baseVersions[k],
      group,
    };
  }
  return out;
}

/** The outcome of a write whose base version is newer than the cell's (it read state this instance has not seen). */
function aheadOfCell(baseVersion: number, state: { value: number | null; version: number }): WriteOutcome {
  return {
    status: "REJECTED",
    version: state.version,
    value: state.value,
    message: `base version ${baseVersion} is newer than the cell's version ${state.version}; read the cell again`,
  };
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
