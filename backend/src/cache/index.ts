/**
 * Hot tiles: the computed states of batches of cells (a grid open, a QATOM wave), cached under keys
 * that name the cube, the tile and the data version, so that a repeated batch is served without
 * recomputation. In Redis when `REDIS_URL` is set (shared by every instance), else in process.
 *
 * No stale read: the data version in the key is the cube's highest leaf version with a fingerprint
 * of every leaf's version (`dataVersionOf`). Versions come from one increasing sequence and each
 * carries one value, so every applied write changes the data version; older tiles become
 * unreachable at once (and expire by TTL), and every instance that applied the same writes, in
 * whatever order, reads the same keys, while one that has not applied them yet reads others. The engine (backend/src/lattice) knows nothing of
 * this: it stays pure.
 */
import { DEFAULT_TENANT } from "../../../common/tenants";
import { createHash } from "node:crypto";
import type { CellState, Cube } from "../lattice";
import { MemoryTileCache, type MemoryTileCacheOptions } from "./memory";
import { type CacheLog, RedisTileCache, type RedisTileCacheOptions } from "./redis";
import type { TileCache } from "./types";

export { MemoryTileCache, type MemoryTileCacheOptions } from "./memory";
export { type CacheLog, RedisTileCache, type RedisTileCacheOptions } from "./redis";
export { decodeCells, encodeCells, type TileCache, type TileCacheStats } from "./types";

/** Options of openTileCache. */
export interface TileCacheOptions {
  /** Redis to use; without it the in-process cache serves. */
  redisUrl?: string;
  log?: CacheLog;
  redis?: RedisTileCacheOptions;
  memory?: MemoryTileCacheOptions;
}

/** A Redis tile cache when `redisUrl` is set, else the in-process one. Never throws for an unreachable Redis. */
export function openTileCache(opts: TileCacheOptions = {}): TileCache {
  if (opts.redisUrl) return new RedisTileCache(opts.redisUrl, { log: opts.log, ...opts.redis });
  return new MemoryTileCache(opts.memory);
}

/** The data version of a cube: `<highest leaf version>.<fingerprint of all leaf versions>`. */
export function dataVersionOf(cube: Cube): string {
  return cube.versionStamp();
}

/** What names a stored cube across instances: its tenant, name, id in the store and load time (ids restart in a fresh database). */
export interface TileCube {
  id: number;
  loadedAt: number;
  cube: Cube;
  /** The cube's tenant; absent: DEFAULT_TENANT. */
  tenant?: string;
}

/**
 * The key of the tile holding the cells `coords` (in this order) of a stored cube at data version
 * `version`: `qatom:<tenant>:tile:<cube>:<id>.<loadedAt>:v<version>:<sha1 of the coordinates>`
 * (the tenant first, so that one tenant's keys can be listed, counted or dropped on their own).
 */
export function tileKey(served: TileCube, version: string, coords: readonly ArrayLike<number>[]): string {
  const h = createHash("sha1");
  for (const c of coords) {
    h.update(Array.prototype.join.call(c, ","));
    h.update(";");
  }
  const cube = encodeURIComponent(served.cube.name.toLowerCase());
  const tenant = encodeURIComponent(served.tenant ?? DEFAULT_TENANT);
  return `qatom:${tenant}:tile:${cube}:${served.id}.${served.loadedAt}:v${version}:${h.digest("base64url")}`;
}

/**
 * Reads `coords` of a served cube through `cache`: the tile of this batch at the cube's current data
 * version when cached, else computed by the engine and stored (in the background). A tile that
 * arrives after the cube moved on (a write applied while it was fetched) is not used. Without a
 * cache, or for an empty batch, the engine answers directly.
 */
export async function readCells(
  cache: TileCache | undefined,
  served: TileCube,
  coords: readonly Int32Array[],
): Promise<CellState[]> {
  const { cube } = served;
  if (cache === undefined || coords.length === 0) return cube.getCells(coords);
  const version = dataVersionOf(cube);
  const local = cube.dataVersion;
  const key = tileKey(served, version, coords);
  const [hit] = await cache.get([key]);
  if (hit !== undefined && hit.length === coords.length && cube.dataVersion === local && dataVersionOf(cube) === version) {
    return hit;
  }
  // Computed synchronously: the cube cannot change between the read and the version in the key.
  const states = cube.getCells(coords);
  const now = dataVersionOf(cube);
  void cache.set([{ key: now === version ? key : tileKey(served, now, coords), cells: states }]);
  return states;
}
