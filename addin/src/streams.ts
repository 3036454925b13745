/**
 * The stream registry: all streaming cells of a cube share one WatchCells stream. When the set of
 * watched cells changes, the stream is restarted with the new union after a short debounce (so a
 * recalculation wave of thousands of formulas restarts it once); after a failure it is
 * re-established with exponential backoff and jitter, and its first message re-sends every value.
 * Above the server's limit of 20,000 cells per stream, the cells are split over several streams.
 *
 * Sign-in: every (re)connect asks for a token (addin/src/transport.ts). A stream the server ends
 * with `unauthenticated` (its token expired, or was refused) reconnects at once, with a fresh token,
 * without showing an error; refused again before it is live, it fails as any stream does. While
 * nobody is signed in a stream does not retry: it waits until the runtime restarts it after
 * sign-in (`restartAll`).
 *
 * @see https://aws.amazon.com/builders-library/timeouts-retries-and-backoff-with-jitter/
 */
import type { Cell } from "../../proto/gen/quantatom/v1/lattice_pb";
import { MAX_CELLS_PER_REQUEST } from "./batcher";
import type { QatomApi } from "./contracts";
import { isSignInRequired, isUnauthenticated } from "./errors";

/** Where stream messages go. */
export interface StreamSink {
  /** A cell's current state (first message: every cell; later: changed cells). */
  onCell(key: string, cell: Cell): void;
  /** The stream over these cells failed (it will be retried). */
  onFailure(keys: readonly string[], err: unknown, serverUrl: string): void;
  /** A stream's first message arrived: the server is reachable. */
  onConnected(): void;
}

/** Timing of the stream registry. */
export interface StreamOptions {
  /** Wait after the last change of the watched set before restarting the stream. */
  debounceMs: number;
  /** First retry delay; doubles per failed attempt up to `backoffMaxMs`, times a jitter factor in [0.5, 1). */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Most cells per stream (the server's limit). */
  maxCells: number;
  random: () => number;
}

/** Defaults: restart 50 ms after the last change; retry after 0.5-1 s, doubling to 15-30 s. */
export const DEFAULT_STREAM_OPTIONS: StreamOptions = {
  debounceMs: 50,
  backoffBaseMs: 1000,
  backoffMaxMs: 30_000,
  maxCells: MAX_CELLS_PER_REQUEST,
  random: Math.random,
};

/** The delay before retry number `attempt` (0-based): exponential, capped, with "equal jitter". */
export function backoffDelay(attempt: number, o: Pick<StreamOptions, "backoffBaseMs" | "backoffMaxMs" | "random">): number {
  const cap = Math.min(o.backoffMaxMs, o.backoffBaseMs * 2 ** Math.min(attempt, 30));
  return cap * (0.5 + o.random() / 2);
}

/** One WatchCells stream (or a few, above the limit) over the watched cells of one cube. */
class CubeStream {
  /** Cells wanted now: key -> members. */
  readonly wanted = new Map<string, string[]>();
  /** Keys of the running stream, in request order. */
  private active: string[] | null = null;
  private abort: AbortController | null = null;
  private debounce: ReturnType<typeof setTimeout> | null = null;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private attempt = 0;
  private disposed = false;
  /** Cells of the running stream(s) whose first message has arrived. */
  private live = 0;
  /** Streams (chunks) running whose first message has arrived. */
  private liveStreams = 0;
  /** When the pending retry runs (ms since the epoch), or null. */
  private retryAt: number | null = null;
  /** A token was refused since the stream was last live (one immediate retry with a fresh token). */
  private refusedSinceLive = false;

  constructor(
    private readonly cube: string,
    private readonly api: () => Promise<QatomApi>,
    private readonly sink: StreamSink,
    private readonly opts: StreamOptions,
    /** Called when the number of live streams or the time of the next retry changes. */
    private readonly report: () => void,
    /** The sandbox the cube's cells are read through ("" for the base), asked at each (re)start. */
    private readonly sandboxOf: (cube: string) => string = () => "",
  ) {}

  /** The watched set changed: restart after the debounce (or at the pending retry). */
  changed(): void {
    if (this.disposed) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = null;
      if (this.retry) return; // the pending retry picks up the new set
      this.restart(false);
    }, this.opts.debounceMs);
  }

  /** Restarts now with the wanted set (`force`: even when it equals the running one). */
  restart(force: boolean): void {
    if (this.disposed) return;
    const keys = Array.from(this.wanted.keys());
    if (!force && this.active && sameSet(keys, this.active)) return;
    this.stop();
    if (keys.length > 0) void this.run(keys);
  }

  /** Number of cells of the running stream(s) that the server is watching (first message received). */
  get liveCount(): number {
    return this.live;
  }

  /** Number of running streams whose first message has arrived (more than one above `maxCells`). */
  get streamCount(): number {
    return this.liveStreams;
  }

  /** When this cube's streams are retried (ms since the epoch), or null when no retry is pending. */
  get nextRetryAt(): number | null {
    return this.retryAt;
  }

  dispose(): void {
    this.disposed = true;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = null;
    this.stop();
  }

  private stop(): void {
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.abort?.abort();
    this.abort = null;
    this.active = null;
    this.live = 0;
    this.setState(0, null);
  }

  /** Records the live streams and the pending retry, reporting a change. */
  private setState(liveStreams: number, retryAt: number | null): void {
    if (liveStreams === this.liveStreams && retryAt === this.retryAt) return;
    this.liveStreams = liveStreams;
    this.retryAt = retryAt;
    this.report();
  }

  /** Retries after `delay` ms with the wanted set. */
  private scheduleRetry(delay: number): void {
    this.retry = setTimeout(() => {
      this.retry = null;
      this.restart(true); // stop() reports that the retry is no longer pending
    }, delay);
    this.setState(0, Date.now() + delay);
  }

  private async run(keys: string[]): Promise<void> {
    const ac = new AbortController();
    this.abort = ac;
    this.active = keys;
    const members = keys.map((k) => this.wanted.get(k)!);
    let serverUrl = "";
    try {
      const api = await this.api();
      serverUrl = api.serverUrl;
      if (ac.signal.aborted) return;
      const chunks: Promise<void>[] = [];
      for (let lo = 0; lo < keys.length; lo += this.opts.maxCells) {
        chunks.push(this.consume(api, keys.slice(lo, lo + this.opts.maxCells), members.slice(lo, lo + this.opts.maxCells), ac.signal));
      }
      await Promise.all(chunks);
    } catch (err) {
      if (ac.signal.aborted) return;
      ac.abort(); // the other chunks of this set
      const wasLive = this.live > 0;
      this.active = null;
      this.live = 0;
      if (isUnauthenticated(err) && (wasLive || !this.refusedSinceLive)) {
        // The token expired under a live stream, or was refused (the interceptor dropped it):
        // reconnect now with a fresh one. Refused again before the stream is live: a failure.
        this.refusedSinceLive = true;
        this.scheduleRetry(0);
        return;
      }
      this.setState(0, null);
      this.sink.onFailure(keys, err, serverUrl);
      if (isSignInRequired(err)) return; // restarted after sign-in (restartAll)
      this.scheduleRetry(backoffDelay(this.attempt++, this.opts));
    }
  }

  /** Reads one stream to its end; an end we did not ask for is a failure (so it is retried). */
  private async consume(api: QatomApi, keys: string[], members: string[][], signal: AbortSignal): Promise<void> {
    const stream = api.lattice.watchCells({ cube: this.cube, cells: members.map((m) => ({ members: m })), sandbox: this.sandboxOf(this.cube) }, { signal });
    for await (const msg of stream) {
      if (signal.aborted) break;
      if (msg.initial) {
        this.live += keys.length;
        this.setState(this.liveStreams + 1, null);
        this.attempt = 0;
        this.refusedSinceLive = false;
        this.sink.onConnected();
      }
      for (const u of msg.updates) {
        const key = keys[u.index];
        if (key !== undefined && u.cell) this.sink.onCell(key, u.cell);
      }
    }
    if (!signal.aborted) throw new Error("the server ended the stream");
  }
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(b);
  return a.every((k) => s.has(k));
}

/** One CubeStream per cube, keyed by the cube's key. */
export class StreamRegistry {
  private readonly cubes = new Map<string, CubeStream>();

  /**
   * @param onStateChanged called when the number of live streams or the time of the next retry
   *   changes (the runtime's connection state: `liveStreams`, `nextRetryAt`).
   * @param sandboxOf the sandbox a cube's cells are read through ("" for the base; ./sandboxes.ts).
   */
  constructor(
    private readonly api: () => Promise<QatomApi>,
    private readonly sink: StreamSink,
    private readonly opts: StreamOptions = DEFAULT_STREAM_OPTIONS,
    private readonly onStateChanged: () => void = () => undefined,
    private readonly sandboxOf: (cube: string) => string = () => "",
  ) {}

  /** Adds a cell to its cube's stream. */
  watch(cubeKey: string, cube: string, key: string, members: string[]): void {
    let s = this.cubes.get(cubeKey);
    if (!s) {
      s = new CubeStream(cube, this.api, this.sink, this.opts, this.onStateChanged, this.sandboxOf);
      this.cubes.set(cubeKey, s);
    }
    if (!s.wanted.has(key)) {
      s.wanted.set(key, members);
      s.changed();
    }
  }

  /** Removes a cell from its cube's stream (the stream restarts without it, or stops when empty). */
  unwatch(cubeKey: string, key: string): void {
    const s = this.cubes.get(cubeKey);
    if (s?.wanted.delete(key)) s.changed();
  }

  /** Reconnects every stream now (the server URL or the signed-in user changed). */
  restartAll(): void {
    for (const s of this.cubes.values()) s.restart(true);
  }

  /** Cells of a cube that a running stream watches (first message received; diagnostics and tests). */
  liveCount(cubeKey: string): number {
    return this.cubes.get(cubeKey)?.liveCount ?? 0;
  }

  /** WatchCells streams running now, all cubes together (first message received). */
  liveStreams(): number {
    let n = 0;
    for (const s of this.cubes.values()) n += s.streamCount;
    return n;
  }

  /** The earliest pending retry of any cube's stream (ms since the epoch), or null. */
  nextRetryAt(): number | null {
    let at: number | null = null;
    for (const s of this.cubes.values()) {
      const r = s.nextRetryAt;
      if (r !== null && (at === null || r < at)) at = r;
    }
    return at;
  }

  dispose(): void {
    for (const s of this.cubes.values()) s.dispose();
    this.cubes.clear();
  }
}
