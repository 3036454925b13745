import { Redis } from "ioredis";
import type { CellState } from "../lattice";
import { decodeCells, encodeCells, type TileCache, type TileCacheStats } from "./types";

/** Where the Redis cache reports outages: once when it becomes unavailable, once when it returns. */
export interface CacheLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** Options of RedisTileCache. */
export interface RedisTileCacheOptions {
  /** Seconds a tile lives (SET ... EX). Default 300. */
  ttlSeconds?: number;
  /** Connect timeout in ms. Default 500. */
  connectTimeoutMs?: number;
  /** A command not answered in this many ms fails (served as a miss). Default 250. */
  commandTimeoutMs?: number;
  /** After a failure, how long the cache is skipped (breaker open) before one command tries again. Default 1,000. */
  cooldownMs?: number;
  /** Most ms between reconnect attempts (ioredis reconnects in the background). Default 1,000. */
  maxRetryDelayMs?: number;
  log?: CacheLog;
}

const silent: CacheLog = { warn() {}, info() {} };

/**
 * Tiles in Redis (ioredis), shared by every backend instance. A circuit breaker keeps Redis off the
 * read path while it is unavailable: commands are not queued while disconnected
 * (`enableOfflineQueue: false`), time out after `commandTimeoutMs`, and after a failure the cache
 * answers misses at once for `cooldownMs`; ioredis keeps reconnecting in the background and the
 * cache is used again as soon as it is ready. An outage is logged once (warn) and its end once (info).
 */
export class RedisTileCache implements TileCache {
  readonly kind = "redis" as const;
  readonly redis: Redis;
  private readonly ttl: number;
  private readonly cooldownMs: number;
  private readonly log: CacheLog;
  private readonly counters: TileCacheStats = { hits: 0, misses: 0, sets: 0, errors: 0 };
  /** True from the first failure of an outage until Redis answers again. */
  private down = false;
  private openUntil = 0;
  private closed = false;

  /** @param url a `redis://host:port[/db]` URL; the connection starts at once, in the background. */
  constructor(url: string, opts: RedisTileCacheOptions = {}) {
    this.ttl = opts.ttlSeconds ?? 300;
    this.cooldownMs = opts.cooldownMs ?? 1000;
    this.log = opts.log ?? silent;
    const maxDelay = opts.maxRetryDelayMs ?? 1000;
    this.redis = new Redis(url, {
      enableOfflineQueue: false,
      connectTimeout: opts.connectTimeoutMs ?? 500,
      commandTimeout: opts.commandTimeoutMs ?? 250,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(50 * times, maxDelay),
    });
    // ioredis emits an error per failed reconnect attempt: report only the first of an outage.
    this.redis.on("error", (err: Error) => this.fail(err));
    this.redis.on("ready", () => this.recovered());
  }

  /** True when Redis is connected, the breaker is closed and the cache is open. */
  get available(): boolean {
    return !this.closed && this.redis.status === "ready" && Date.now() >= this.openUntil;
  }

  async get(keys: readonly string[]): Promise<(CellState[] | undefined)[]> {
    const none = () => {
      this.counters.misses += keys.length;
      return keys.map(() => undefined);
    };
    if (keys.length === 0) return [];
    if (!this.available) {
      this.counters.errors++;
      return none();
    }
    let texts: (string | null)[];
    try {
      texts = await this.redis.mget(...keys);
    } catch (err) {
      this.fail(err);
      return none();
    }
    this.recovered();
    return texts.map((t) => {
      const cells = t === null ? undefined : decodeCells(t);
      if (cells === undefined) this.counters.misses++;
      else this.counters.hits++;
      return cells;
    });
  }

  async set(entries: readonly { key: string; cells: readonly CellState[] }[]): Promise<void> {
    if (entries.length === 0) return;
    if (!this.available) {
      this.counters.errors++;
      return;
    }
    try {
      // Pipelines of at most 10,000 commands (larger ones are slower).
      for (let s = 0; s < entries.length; s += 10_000) {
        const p = this.redis.pipeline();
        for (const e of entries.slice(s, s + 10_000)) p.set(e.key, encodeCells(e.cells), "EX", this.ttl);
        const results = (await p.exec()) ?? [];
        const failed = results.find(([err]) => err !== null);
        if (failed) throw failed[0];
        this.counters.sets += results.length;
      }
    } catch (err) {
      this.fail(err);
      return;
    }
    this.recovered();
  }

  stats(): TileCacheStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const ended = new Promise<void>((resolve) => {
      if (this.redis.status === "end") resolve();
      else this.redis.once("end", () => resolve());
      setTimeout(resolve, 1000).unref();
    });
    this.redis.disconnect();
    if (this.redis.status !== "end") await ended;
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    this.counters.errors++;
    this.openUntil = Date.now() + this.cooldownMs;
    if (this.down) return;
    this.down = true;
    this.log.warn(
      { err: err instanceof Error ? err.message : String(err) },
      "Redis tile cache unavailable: reads are computed until it returns",
    );
  }

  private recovered(): void {
    if (this.closed) return;
    this.openUntil = 0;
    if (!this.down) return;
    this.down = false;
    this.log.info({}, "Redis tile cache available again");
  }
}
