/**
 * The backend's domain facade, what the Connect services call: the cubes this instance serves, a
 * write queue per cube, the write pipeline (writes/), replication from other instances, reads
 * through the hot-tile cache, and every cube's security (who sees and may do what, domain/security.ts;
 * its administration, domain/security-admin.ts). Built by the composition root (server/main.ts)
 * from explicit parts.
 */
import { randomUUID } from "node:crypto";
import { DEFAULT_TENANT } from "../../../common/tenants";
import { readCells, type TileCache } from "../cache";
import { type CommittedTransaction, eventTenant, type SandboxEvent, type SecurityEvent } from "../events/contract";
import type { CellState } from "../lattice";
import type { VersionedSecurity } from "../security";
import type { Store, StoredTransaction } from "../store/types";
import { copyScenario, resolveScenarioCopy } from "../writes/copy-scenario";
import { DEFAULT_SPREAD_MAX_NEW_CELLS, type WriteContext } from "../writes/context";
import type { Publisher } from "../writes/publish";
import { resolveHolds } from "../writes/resolve";
import type { ScenarioCopyInput, ScenarioCopyOutcome, UndoOutcome, WriteInput, WriteOutcome } from "../writes/types";
import { undoTransaction } from "../writes/undo";
import { writeCells } from "../writes/write-cells";
import { type Access, type CellResult, cellResult, GuardedWatch, resolveReads } from "./access";
import { checkWrites, clampLimit } from "./checks";
import { CubeRegistry, cubeKey, type ServedCube, tenantOf } from "./cube-registry";
import { DomainError } from "./errors";
import { type Explanation, explainCell } from "./explain";
import { applyTransaction } from "./replication";
import { type KnownUser, knownUsers, SecurityAdmin } from "./security-admin";
import { SecurityRegistry } from "./security";
import { Sandboxes } from "./sandboxes";
import { StreamQuota } from "./stream-quota";
import { WriteQueue } from "./write-queue";

/** Most transactions one ListTransactions call returns, and how many when it does not say. */
export const MAX_LIST_TRANSACTIONS = 1000;
const DEFAULT_LIST_TRANSACTIONS = 50;

/** What a Backend is built from. */
export interface BackendOptions {
  /** This instance's id (outbox rows, Kafka consumer group); default a random UUID. */
  instanceId?: string;
  /** Most leaf cells one spread may create; default DEFAULT_SPREAD_MAX_NEW_CELLS. */
  spreadMaxNewCells?: number;
  /** Told after each commit that applied changes (the outbox relay); none: nothing is kicked. */
  publisher?: Publisher;
  /** Hot tiles for GetCells; none: the engine answers every read. */
  cache?: TileCache;
  /** User ids that administer every cube (QATOM_ADMINS); default none. */
  serverAdmins?: readonly string[];
  /** Most WatchCells streams one user may hold open; default DEFAULT_MAX_STREAMS_PER_USER (64). */
  maxStreamsPerUser?: number;
}

/** A served cube with the security it was stored with (null or absent: open to every user). */
export type ServedCubeWithSecurity = ServedCube & { security?: VersionedSecurity | null };

/**
 * The backend's state: the cubes it serves (lattices in memory) over a durable store, and the write
 * path that keeps the two in step (commit first, then apply to the lattice, then publish).
 */
export class Backend {
  private readonly cubes = new CubeRegistry();
  private readonly queue = new WriteQueue();
  private readonly ctx: WriteContext;
  private readonly rights: SecurityRegistry;
  /** The security administration (SecurityService), admins only. */
  readonly security: SecurityAdmin;
  /** This instance's id: its outbox rows carry it, and its consumer group is named after it. */
  readonly instanceId: string;
  /** Hot tiles for GetCells, if any. */
  readonly cache: TileCache | undefined;
  /** The open WatchCells streams per user, and their limit. */
  readonly streams: StreamQuota;
  /** The sandboxes of the cubes served (SandboxService; domain/sandboxes.ts). */
  readonly sandboxes: Sandboxes;

  constructor(
    readonly store: Store,
    opts: BackendOptions = {},
  ) {
    this.instanceId = opts.instanceId ?? randomUUID();
    this.cache = opts.cache;
    this.streams = new StreamQuota(opts.maxStreamsPerUser);
    this.ctx = {
      store,
      instanceId: this.instanceId,
      spreadMaxNewCells: opts.spreadMaxNewCells ?? DEFAULT_SPREAD_MAX_NEW_CELLS,
      publisher: opts.publisher,
    };
    this.rights = new SecurityRegistry(opts.serverAdmins ?? []);
    this.security = new SecurityAdmin({
      store,
      instanceId: this.instanceId,
      registry: this.rights,
      publisher: opts.publisher,
      access: (cube, user, tenant) => this.access(cube, user, tenant),
      inQueue: (served, fn) => this.queue.run(cubeKey(served.cube.name, tenantOf(served)), fn),
    });
    this.sandboxes = new Sandboxes({
      store,
      ctx: this.ctx,
      instanceId: this.instanceId,
      inQueue: (served, fn) => this.queue.run(cubeKey(served.cube.name, tenantOf(served)), fn),
    });
  }

  /** Most leaf cells one spread may create. */
  get spreadMaxNewCells(): number {
    return this.ctx.spreadMaxNewCells;
  }

  /**
   * Serves a cube (replacing one of the same name) with its security as stored (StoredCube.security;
   * none: an open cube).
   */
  addCube(served: ServedCubeWithSecurity): void {
    const { security, ...cube } = served;
    this.cubes.add(cube);
    this.rights.set(cube, security ?? null);
  }

  /** Cubes served, in name order (all of them: see `visibleCubes` for what a user sees). */
  listCubes(): ServedCube[] {
    return this.cubes.list();
  }

  /**
   * A served cube as `user` may use it, with the user's rights on it now.
   * @throws DomainError invalid_argument when the name is empty; not_found when no cube has it or
   *   the user may not see it (the same message, listing only the cubes the user sees).
   */
  access(cubeName: string, user: string, tenant: string = DEFAULT_TENANT): Access {
    if (!cubeName || cubeName.trim() === "") throw new DomainError('cube is required (the cube\'s name, e.g. "Sales")', "invalid_argument");
    const served = this.cubes.find(cubeName, tenant);
    const security = served ? this.rights.of(served) : null;
    const rights = security?.forUser(user);
    if (!served || !security || !rights?.sees) {
      const names = this.visibleCubes(user, tenant).map((a) => a.served.cube.name);
      throw new DomainError(`cube "${cubeName}" not found; cubes: ${names.join(", ") || "(none)"}`, "not_found");
    }
    return { served, user, rights, security };
  }

  /** The cubes `user` sees (see security/rights.ts), in name order, with the user's rights on each. */
  visibleCubes(user: string, tenant: string = DEFAULT_TENANT): Access[] {
    const out: Access[] = [];
    for (const served of this.cubes.list(tenant)) {
      const security = this.rights.of(served);
      const rights = security.forUser(user);
      if (rights.sees) out.push({ served, user, rights, security });
    }
    return out;
  }

  /**
   * The users declared in the served cubes' security sections, and the server's admins, by id: each
   * with its display name, its groups (over all cubes), whether it administers a cube, and the cubes
   * it is declared in or administers. For the development sign-in.
   */
  knownUsers(): KnownUser[] {
    return knownUsers(
      this.cubes.list().map((served) => ({ name: served.cube.name, model: this.rights.of(served).model })),
      this.rights.serverAdmins,
    );
  }

  /**
   * Reads cells as `access.user` (GetCells): addresses resolved among the members the user sees,
   * readable cells through the hot tiles, the others with their per-cell problem (NO_ACCESS for a
   * cell the user may not read: never its value or version). Results in request order.
   * @param sandbox a sandbox id: read through that sandbox (domain/sandboxes.ts), not the hot tiles.
   * @throws DomainError resource_exhausted over the cell limit, invalid_argument for an address of
   *   too many members; for a sandbox, as Sandboxes.use (read).
   */
  async readCellsAs(access: Access, cells: readonly { members: readonly string[] }[], sandbox = ""): Promise<CellResult[]> {
    const { cube } = access.served;
    const layer = sandbox ? (await this.sandboxes.use(access, sandbox, "read")).overlay : null;
    const targets = resolveReads(access, cells);
    const good = targets.filter((t) => t.problem === null).map((t) => t.coords!);
    const states = layer ? layer.getCells(good) : await this.readCells(access.served, good);
    const changed = layer ? layer.changedBelow(good) : null;
    let k = 0;
    return targets.map((t) => {
      if (t.problem !== null) return { problem: t.problem };
      const j = k++;
      return cellResult(cube, t.coords!, states[j], changed ? changed[j] : undefined);
    });
  }

  /**
   * Watches cells as `access.user` (WatchCells): see GuardedWatch. Close it when the stream ends.
   * @param onChange told the request indexes to push again.
   * @param sandbox a sandbox id: watch through that sandbox (its writes, and the base's on the
   *   leaves it has not changed).
   * @throws DomainError as readCellsAs.
   */
  async watchCellsAs(access: Access, cells: readonly { members: readonly string[] }[], onChange: (indexes: number[]) => void, sandbox = ""): Promise<GuardedWatch> {
    const layer = sandbox ? (await this.sandboxes.use(access, sandbox, "read")).overlay : undefined;
    return new GuardedWatch(access, resolveReads(access, cells), onChange, layer);
  }

  /**
   * The cube named `name` (case-insensitive).
   * @throws DomainError invalid_argument when the name is empty, not_found when no cube has it.
   */
  cube(name: string, tenant: string = DEFAULT_TENANT): ServedCube {
    return this.cubes.get(name, tenant);
  }

  /**
   * Reads cells of a served cube through the hot tiles (see cache/index.ts `readCells`), or from
   * the engine when there is no cache. States come back in the order of `coords`.
   */
  readCells(served: ServedCube, coords: readonly Int32Array[]): Promise<CellState[]> {
    return readCells(this.cache, served, coords);
  }

  /**
   * Writes cells as `user` through the write pipeline (writes/write-cells.ts), in the cube's write
   * queue, with the user's rights as they are when the write's turn comes (writes/rights.ts).
   * @param holds cells held during this request's spreads (member lists, as addresses).
   * @param sandbox a sandbox id: write in that sandbox (domain/sandboxes.ts), not the base.
   * @throws DomainError for API misuse (see checkWrites; an unresolvable hold is invalid_argument,
   *   an unknown or hidden cube not_found; for a sandbox, as Sandboxes.use with write); per-write
   *   problems, rights included, are outcomes.
   */
  async writeCells(
    cubeName: string,
    writes: readonly WriteInput[],
    user: string,
    holds: readonly (readonly string[])[] = [],
    tenant: string = DEFAULT_TENANT,
    sandbox = "",
  ): Promise<{ outcomes: WriteOutcome[]; txId: string }> {
    const access = this.access(cubeName, user, tenant);
    const { served, security, rights } = access;
    checkWrites(writes);
    const held = resolveHolds(served.cube, holds, rights.visible);
    if (sandbox) return this.sandboxes.write(access, sandbox, writes, held, () => security.forUser(user));
    return this.queue.run(cubeKey(served.cube.name, tenantOf(served)), () => writeCells(this.ctx, served, writes, user, held, security.forUser(user)));
  }

  /**
   * Copies one scenario onto another as `user` (writes/copy-scenario.ts), in the cube's write queue,
   * in the base or in `sandbox`.
   * @throws DomainError for an unknown (or hidden) cube, dimension or member, or a bad request (see
   *   resolveScenarioCopy); permission_denied without Write on the whole target slice.
   */
  async copyScenario(cubeName: string, input: ScenarioCopyInput, user: string, tenant: string = DEFAULT_TENANT, sandbox = ""): Promise<ScenarioCopyOutcome> {
    const access = this.access(cubeName, user, tenant);
    const { served, security, rights } = access;
    const spec = resolveScenarioCopy(served.cube, input, rights.visible);
    if (sandbox) return this.sandboxes.copy(access, sandbox, spec, input.baseVersion, () => security.forUser(user));
    return this.queue.run(cubeKey(served.cube.name, tenantOf(served)), () => copyScenario(this.ctx, served, spec, input.baseVersion, user, security.forUser(user)));
  }

  /**
   * The recent transactions of a cube, newest first: `user`'s own, or every user's when `allUsers`
   * (a cube admin only), at most `limit` (1 to MAX_LIST_TRANSACTIONS; 0: DEFAULT_LIST_TRANSACTIONS);
   * with `sandbox`, that sandbox's (every user's: its owner only; see Sandboxes.transactions).
   * @throws DomainError for an unknown (or hidden) cube; invalid_argument for a limit out of range;
   *   permission_denied for allUsers without the admin role.
   */
  async listTransactions(
    cubeName: string,
    user: string,
    opts: { limit: number; allUsers: boolean; sandbox?: string },
    tenant: string = DEFAULT_TENANT,
  ): Promise<StoredTransaction[]> {
    const access = this.access(cubeName, user, tenant);
    const { served, rights } = access;
    const limit = clampLimit(opts.limit, DEFAULT_LIST_TRANSACTIONS, MAX_LIST_TRANSACTIONS, "limit");
    if (opts.sandbox) return this.sandboxes.transactions(access, opts.sandbox, opts.allUsers, limit);
    if (opts.allUsers && !rights.admin) throw new DomainError(`only an admin of cube ${served.cube.name} may list every user's transactions`, "permission_denied");
    return this.store.listTransactions(served.id, opts.allUsers ? null : user, limit);
  }

  /**
   * Undoes a transaction as `user` (writes/undo.ts), in the cube's write queue, with the user's
   * rights as they are when its turn comes; with `sandbox`, a transaction of that sandbox, in it.
   * @throws DomainError for an unknown (or hidden) cube, an empty or unknown transaction id, or a
   *   caller who may not undo it (see undoTransaction).
   */
  async undoTransaction(cubeName: string, txId: string, onlyUnconflicted: boolean, user: string, tenant: string = DEFAULT_TENANT, sandbox = ""): Promise<UndoOutcome> {
    const access = this.access(cubeName, user, tenant);
    const { served, security } = access;
    if (!txId.trim()) throw new DomainError("transaction_id is required (an id from ListTransactions or WriteCellsResponse.transaction_id)", "invalid_argument");
    if (sandbox) return this.sandboxes.undo(access, sandbox, txId.trim(), onlyUnconflicted, () => security.forUser(user));
    return this.queue.run(cubeKey(served.cube.name, tenantOf(served)), () => undoTransaction(this.ctx, served, txId.trim(), onlyUnconflicted, user, security.forUser(user)));
  }

  /**
   * Explains a cell as `user` (ExplainCell; domain/explain.ts): its contributors per dimension and,
   * for a calculated cell, its formula's operands; through `sandbox` when given.
   * @throws DomainError as explainCell, and as Sandboxes.use (read) for a sandbox.
   */
  async explainCell(cubeName: string, members: readonly string[], topN: number, user: string, tenant: string = DEFAULT_TENANT, sandbox = ""): Promise<Explanation> {
    const access = this.access(cubeName, user, tenant);
    const layer = sandbox ? (await this.sandboxes.use(access, sandbox, "read")).overlay : null;
    return explainCell(access, members, topN, (coords) => (layer ?? access.served.cube).getCells(coords));
  }

  /**
   * Applies another instance's whole committed transaction (domain/replication.ts).
   * @returns the number of leaf changes applied (0 for a cube or generation not served here).
   */
  applyTransaction(tx: CommittedTransaction): number {
    return applyTransaction(this.cubes, tx);
  }

  /** Reads a sandbox again after another instance changed it (a `sandbox.changed` event; domain/sandboxes.ts). */
  applySandboxChange(ev: SandboxEvent): Promise<void> {
    return this.sandboxes.applyChange(ev);
  }

  /**
   * Reloads a cube's security after another instance changed it (a `security.changed` event): from
   * the store, when this instance serves that generation of the cube and holds an older version.
   * Open streams hear of it at once.
   */
  async applySecurityChange(ev: SecurityEvent): Promise<void> {
    const tenant = eventTenant(ev);
    const served = this.cubes.find(ev.cube, tenant);
    if (!served || served.id !== ev.cubeId || served.loadedAt !== ev.loadedAt) return;
    if (ev.version <= this.rights.of(served).version) return;
    const stored = await this.store.loadSecurity(served.id);
    if (this.cubes.find(ev.cube, tenant) === served) this.rights.update(served, stored);
  }
}
