import type { CellState } from "../lattice";
import type { TileCache, TileCacheStats } from "./types";

/** Options of MemoryTileCache. */
export interface MemoryTileCacheOptions {
  /** Most cells kept over all tiles (least recently used tiles dropped first). Default 2,000,000. */
  maxCells?: number;
  /** Seconds a tile lives. Default 300. */
  ttlSeconds?: number;
  /** Clock in ms, for tests. */
  now?: () => number;
}

/** The in-process tile cache: an LRU bounded by cells, with a TTL. Serves when no Redis is configured. */
export class MemoryTileCache implements TileCache {
  readonly kind = "memory" as const;
  private readonly tiles = new Map<string, { cells: readonly CellState[]; expires: number }>();
  private cells = 0;
  private readonly maxCells: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly counters: TileCacheStats = { hits: 0, misses: 0, sets: 0, errors: 0 };

  constructor(opts: MemoryTileCacheOptions = {}) {
    this.maxCells = opts.maxCells ?? 2_000_000;
    this.ttlMs = (opts.ttlSeconds ?? 300) * 1000;
    this.now = opts.now ?? Date.now;
  }

  async get(keys: readonly string[]): Promise<(CellState[] | undefined)[]> {
    const t = this.now();
    return keys.map((key) => {
      const tile = this.tiles.get(key);
      if (tile === undefined || tile.expires <= t) {
        if (tile !== undefined) this.drop(key);
        this.counters.misses++;
        return undefined;
      }
      // Most recently used goes last.
      this.tiles.delete(key);
      this.tiles.set(key, tile);
      this.counters.hits++;
      return tile.cells.slice();
    });
  }

  async set(entries: readonly { key: string; cells: readonly CellState[] }[]): Promise<void> {
    const expires = this.now() + this.ttlMs;
    for (const { key, cells } of entries) {
      if (cells.length > this.maxCells) continue;
      this.drop(key);
      this.tiles.set(key, { cells: cells.slice(), expires });
      this.cells += cells.length;
      this.counters.sets++;
    }
    for (const key of this.tiles.keys()) {
      if (this.cells <= this.maxCells) break;
      this.drop(key);
    }
  }

  stats(): TileCacheStats {
    return { ...this.counters };
  }

  /** Tiles held (for tests). */
  get size(): number {
    return this.tiles.size;
  }

  async close(): Promise<void> {
    this.tiles.clear();
    this.cells = 0;
  }

  private drop(key: string): void {
    const tile = this.tiles.get(key);
    if (tile === undefined) return;
    this.tiles.delete(key);
    this.cells -= tile.cells.length;
  }
}
