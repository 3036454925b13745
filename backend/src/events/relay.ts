import type { Logger } from "pino";
import type { Store } from "../store/types";
import type { EventBus } from "./types";

/** Options of OutboxRelay. */
export interface RelayOptions {
  /** Who claims rows (the instance id). */
  relayId: string;
  log: Logger;
  /** Rows per claim. Default 500. */
  batch?: number;
  /** How long a claim holds rows before another relay may take them. Default 30 s. */
  leaseMs?: number;
  /** Poll interval when idle (rows from other instances, rows left by a failure). Default 250 ms. */
  idleMs?: number;
  /** Longest back-off after bus or database errors. Default 2 s. */
  maxBackoffMs?: number;
  /** Relayed rows are deleted once this old (checked about once a minute). Default 1 hour. */
  keepRelayedMs?: number;
}

/**
 * Relays the shared outbox to the bus: claims pending rows (SKIP LOCKED, so concurrent relays of
 * several instances each take different rows), publishes them, then marks them relayed. On an
 * error it gives the rows back and backs off, retrying until the bus takes them: writes never wait
 * for it. A crash between publish and mark re-publishes the rows later (at least once); consumers
 * ignore what they already applied.
 */
export class OutboxRelay {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private kicked = false;
  private readonly batch: number;
  private readonly leaseMs: number;
  private readonly idleMs: number;
  private readonly maxBackoffMs: number;
  private lastPrune = 0;
  /** Rows relayed by this relay so far. */
  relayed = 0;
  /** The last error, or null after a successful round. */
  lastError: unknown = null;

  constructor(
    private readonly store: Store,
    private readonly bus: EventBus,
    private readonly opts: RelayOptions,
  ) {
    this.batch = opts.batch ?? 500;
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.idleMs = opts.idleMs ?? 250;
    this.maxBackoffMs = opts.maxBackoffMs ?? 2000;
  }

  /**
   * Claims, publishes and marks one batch. Resolves to the number of rows relayed.
   * @throws the bus's or database's error (the rows are given back first, when possible).
   */
  async relayOnce(): Promise<number> {
    const rows = await this.store.claimOutbox(this.opts.relayId, this.batch, this.leaseMs);
    if (rows.length === 0) return 0;
    const ids = rows.map((r) => r.id);
    try {
      await this.bus.publish(rows.map((r) => ({ topic: r.topic, key: r.key, value: r.payload })));
    } catch (err) {
      await this.store.releaseOutbox(ids).catch(() => {});
      throw err;
    }
    await this.store.markOutboxRelayed(ids);
    this.relayed += rows.length;
    return rows.length;
  }

  /** Starts the background loop. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Wakes the loop now (after a local commit). */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake = done;
    });
  }

  private async run(): Promise<void> {
    let backoff = 0;
    while (this.running) {
      this.kicked = false;
      try {
        const n = await this.relayOnce();
        if (this.lastError) this.opts.log.info("outbox relay: the bus takes messages again");
        this.lastError = null;
        backoff = 0;
        if (n === this.batch) continue;
      } catch (err) {
        if (!this.running) break;
        if (!this.lastError) this.opts.log.warn({ err: (err as Error)?.message ?? String(err) }, "outbox relay: publish failed; retrying");
        this.lastError = err;
        backoff = Math.min(this.maxBackoffMs, backoff === 0 ? 100 : backoff * 2);
        await this.sleep(backoff);
        continue;
      }
      if (!this.running) break;
      if (Date.now() - this.lastPrune > 60_000) {
        this.lastPrune = Date.now();
        await this.store.pruneOutbox(this.opts.keepRelayedMs ?? 3_600_000).catch(() => 0);
      }
      if (!this.kicked) await this.sleep(this.idleMs);
    }
  }

  /** Stops the loop after the round in progress. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }
}
