import type { CellState } from "../lattice";

/** Counters of a tile cache, for the bench and diagnostics. */
export interface TileCacheStats {
  hits: number;
  misses: number;
  /** Tiles stored. */
  sets: number;
  /** Operations that failed or were skipped because the cache was unavailable (served as misses). */
  errors: number;
}

/**
 * A cache of tiles: the computed states of a batch of cells, under a key that names the cube, the
 * tile and the data version (see tileKey). Neither method ever rejects: an unavailable cache answers
 * misses and drops writes, so reads stay correct (computed) without it.
 */
export interface TileCache {
  /** "memory" (in-process LRU) or "redis". */
  readonly kind: "memory" | "redis";
  /** The tiles under `keys`, in order; undefined where missing. */
  get(keys: readonly string[]): Promise<(CellState[] | undefined)[]>;
  /** Stores tiles (each expires after the cache's TTL). */
  set(entries: readonly { key: string; cells: readonly CellState[] }[]): Promise<void>;
  stats(): TileCacheStats;
  /** Releases connections; the cache answers misses afterwards. */
  close(): Promise<void>;
}

/** Encodes cell states for a shared cache: `[value0, version0, value1, version1, ...]` (null = empty). */
export function encodeCells(cells: readonly CellState[]): string {
  const flat: (number | null)[] = new Array(cells.length * 2);
  cells.forEach((c, i) => {
    flat[2 * i] = c.value;
    flat[2 * i + 1] = c.version;
  });
  return JSON.stringify(flat);
}

/** Decodes `encodeCells`; undefined when the text is not such an encoding. */
export function decodeCells(text: string): CellState[] | undefined {
  let flat: unknown;
  try {
    flat = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(flat) || flat.length % 2 !== 0) return undefined;
  const out: CellState[] = new Array(flat.length / 2);
  for (let i = 0; i < out.length; i++) {
    const value = flat[2 * i];
    const version = flat[2 * i + 1];
    if ((value !== null && typeof value !== "number") || typeof version !== "number") return undefined;
    out[i] = { value, version };
  }
  return out;
}
