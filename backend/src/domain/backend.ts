/**
 * The backend's domain facade, what the Connect services call: the cubes this instance serves, a
 * write queue per cube, the write pipeline (writes/), replication from other instances, and reads
 * through the hot-tile cache. Built by the composition root (server/main.ts) from explicit parts.
 */
import { randomUUID } from "node:crypto";
import { readCells, type TileCache } from "../cache";
import type { CommittedTransaction } from "../events/contract";
import type { CellState } from "../lattice";
import type { Store } from "../store/types";
import { copyScenario, resolveScenarioCopy } from "../writes/copy-scenario";
import { DEFAULT_SPREAD_MAX_NEW_CELLS, type WriteContext } from "../writes/context";
import type { Publisher } from "../writes/publish";
import { resolveHolds } from "../writes/resolve";
import type { ScenarioCopyInput, ScenarioCopyOutcome, WriteInput, WriteOutcome } from "../writes/types";
import { writeCells } from "../writes/write-cells";
import { checkWrites } from "./checks";
import { CubeRegistry, type ServedCube } from "./cube-registry";
import { applyTransaction } from "./replication";
import { StreamQuota } from "./stream-quota";
import { WriteQueue } from "./write-queue";

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
  /** Most WatchCells streams one user may hold open; default DEFAULT_MAX_STREAMS_PER_USER (8). */
  maxStreamsPerUser?: number;
}

/**
 * The backend's state: the cubes it serves (lattices in memory) over a durable store, and the write
 * path that keeps the two in step (commit first, then apply to the lattice, then publish).
 */
export class Backend {
  private readonly cubes = new CubeRegistry();
  private readonly queue = new WriteQueue();
  private readonly ctx: WriteContext;
  /** This instance's id: its outbox rows carry it, and its consumer group is named after it. */
  readonly instanceId: string;
  /** Hot tiles for GetCells, if any. */
  readonly cache: TileCache | undefined;
  /** The open WatchCells streams per user, and their limit. */
  readonly streams: StreamQuota;

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
  }

  /** Most leaf cells one spread may create. */
  get spreadMaxNewCells(): number {
    return this.ctx.spreadMaxNewCells;
  }

  /** Serves a cube (replacing one of the same name). */
  addCube(served: ServedCube): void {
    this.cubes.add(served);
  }

  /** Cubes served, in name order. */
  listCubes(): ServedCube[] {
    return this.cubes.list();
  }

  /**
   * The cube named `name` (case-insensitive).
   * @throws DomainError invalid_argument when the name is empty, not_found when no cube has it.
   */
  cube(name: string): ServedCube {
    return this.cubes.get(name);
  }

  /**
   * Reads cells of a served cube through the hot tiles (see cache/index.ts `readCells`), or from
   * the engine when there is no cache. States come back in the order of `coords`.
   */
  readCells(served: ServedCube, coords: readonly Int32Array[]): Promise<CellState[]> {
    return readCells(this.cache, served, coords);
  }

  /**
   * Writes cells through the write pipeline (writes/write-cells.ts), in the cube's write queue.
   * @param holds cells held during this request's spreads (member lists, as addresses).
   * @throws DomainError for API misuse (see checkWrites; an unresolvable hold is invalid_argument,
   *   an unknown cube not_found); per-write problems are outcomes.
   */
  async writeCells(
    cubeName: string,
    writes: readonly WriteInput[],
    user: string,
    holds: readonly (readonly string[])[] = [],
  ): Promise<{ outcomes: WriteOutcome[]; txId: string }> {
    const served = this.cube(cubeName);
    checkWrites(writes);
    const held = resolveHolds(served.cube, holds);
    return this.queue.run(served.cube.name.toLowerCase(), () => writeCells(this.ctx, served, writes, user, held));
  }

  /**
   * Copies one scenario onto another (writes/copy-scenario.ts), in the cube's write queue.
   * @throws DomainError for an unknown cube, dimension or member, or a bad request (see resolveScenarioCopy).
   */
  async copyScenario(cubeName: string, input: ScenarioCopyInput, user: string): Promise<ScenarioCopyOutcome> {
    const served = this.cube(cubeName);
    const spec = resolveScenarioCopy(served.cube, input);
    return this.queue.run(served.cube.name.toLowerCase(), () => copyScenario(this.ctx, served, spec, input.baseVersion, user));
  }

  /**
   * Applies another instance's whole committed transaction (domain/replication.ts).
   * @returns the number of leaf changes applied (0 for a cube or generation not served here).
   */
  applyTransaction(tx: CommittedTransaction): number {
    return applyTransaction(this.cubes, tx);
  }
}
