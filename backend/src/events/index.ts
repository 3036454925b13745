/**
 * Eventing (layer 3): the outbox relay and the consumer that keeps this instance's lattices current
 * with the writes of other instances. See OutboxRelay, KafkaBus, InProcessBus.
 */
import type { Logger } from "pino";
import type { Backend } from "../services/backend";
import type { Store } from "../store/types";
import { InProcessBus } from "./in-process-bus";
import { KafkaBus } from "./kafka-bus";
import { OutboxRelay, type RelayOptions } from "./relay";
import { type BusMessage, type EventBus, parseWriteEvent, TOPICS } from "./types";

export { InProcessBus } from "./in-process-bus";
export { KafkaBus } from "./kafka-bus";
export { OutboxRelay } from "./relay";
export * from "./types";

/** Running eventing of one instance. */
export interface Events {
  bus: EventBus;
  relay: OutboxRelay;
  /** Resolves once this instance receives other instances' writes. */
  ready: Promise<void>;
  /** Write events applied to the lattice so far, and leaf changes among them. */
  stats: { events: number; changesApplied: number; changesSkipped: number };
  close(): Promise<void>;
}

/** Options of startEvents. */
export interface EventsOptions {
  backend: Backend;
  store: Store;
  log: Logger;
  /** Kafka brokers; none: an in-process bus (or `bus`). */
  kafkaBrokers?: string[];
  /** A bus to use instead (tests: several backends on one InProcessBus); not closed by close(). */
  bus?: EventBus;
  relay?: Partial<RelayOptions>;
}

/**
 * Starts eventing for `backend`: the outbox relay (kicked after each local commit) and a consumer
 * of `atom.write.raw` that applies other instances' changes to the lattice, each only when newer
 * than the cell's version there (so a change is never applied twice, and order does not matter).
 */
export async function startEvents(opts: EventsOptions): Promise<Events> {
  const { backend, store, log } = opts;
  const ownBus = !opts.bus;
  const bus: EventBus =
    opts.bus ??
    (opts.kafkaBrokers && opts.kafkaBrokers.length > 0
      ? new KafkaBus({ brokers: opts.kafkaBrokers, instanceId: backend.instanceId, log })
      : new InProcessBus((err) => log.error({ err }, "in-process bus: a handler failed")));
  const stats = { events: 0, changesApplied: 0, changesSkipped: 0 };
  const relay = new OutboxRelay(store, bus, { relayId: backend.instanceId, log, ...opts.relay });
  const onWrite = (m: BusMessage) => {
    let ev: ReturnType<typeof parseWriteEvent>;
    try {
      ev = parseWriteEvent(m.value);
    } catch (err) {
      log.warn({ err: (err as Error).message, topic: m.topic }, "ignoring a malformed write event");
      return;
    }
    if (ev.instanceId === backend.instanceId) return; // applied locally at commit
    const n = backend.applyWriteEvent(ev);
    stats.events++;
    stats.changesApplied += n;
    stats.changesSkipped += ev.changes.length - n;
  };
  // A single instance on the in-process bus sees only its own writes: no consumer needed.
  if (bus.kind === "kafka" || !ownBus) await bus.subscribe([TOPICS.write], onWrite);
  backend.onCommitted = () => relay.kick();
  relay.start();
  return {
    bus,
    relay,
    ready: bus.ready,
    stats,
    close: async () => {
      backend.onCommitted = undefined;
      await relay.stop();
      if (ownBus) await bus.close();
    },
  };
}
