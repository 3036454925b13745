/**
 * Eventing (layer 3): the outbox relay, and the consumer that keeps this instance's lattices
 * current with the writes of other instances. The event shapes and topics: contract.ts.
 */
import type { Logger } from "pino";
import type { Store } from "../store/types";
import { type CommittedTransaction, parseSandboxEvent, parseSecurityEvent, type SandboxEvent, parseWriteEvent, type ReceivedWriteEvent, type SecurityEvent, TOPICS, TransactionAssembler } from "./contract";
import { InProcessBus } from "./in-process-bus";
import { KafkaBus } from "./kafka-bus";
import { OutboxRelay, type RelayOptions } from "./relay";
import type { BusMessage, EventBus } from "./types";

export * from "./contract";
export { InProcessBus } from "./in-process-bus";
export { KafkaBus } from "./kafka-bus";
export { OutboxRelay } from "./relay";
export * from "./types";

/** What applies other instances' transactions and security changes: the Backend (domain/backend.ts). */
export interface TransactionSink {
  /** Applies a whole committed transaction; returns the number of leaf changes applied. */
  applyTransaction(tx: CommittedTransaction): number;
  /**
   * Reloads a cube's security after another instance changed it (none: security events are
   * ignored). A rejection is logged; the next change, or a restart, loads it again.
   */
  applySecurityChange?(ev: SecurityEvent): Promise<void>;
  /**
   * Reads a sandbox again after another instance changed it (none: sandbox events are ignored). A
   * rejection is logged; the sandbox is read again on its next change.
   */
  applySandboxChange?(ev: SandboxEvent): Promise<void>;
}

/** Eventing of one instance: made first (its relay is the backend's publisher), started once the lattices are built. */
export interface Events {
  bus: EventBus;
  /** The outbox relay; give it to the Backend as its `publisher`. */
  relay: OutboxRelay;
  /** Resolves once this instance receives other instances' writes. */
  ready: Promise<void>;
  /**
   * Transactions applied to the lattices so far, their leaf changes applied and skipped (already
   * there, or not served), and transactions whose parts have not all arrived yet.
   */
  stats: { events: number; changesApplied: number; changesSkipped: number; waitingForParts: () => number };
  /**
   * Starts relaying and, on Kafka or a shared bus, consuming `atom.write.raw` into `sink`: each
   * transaction, once all its parts arrived, is applied at once, each change only when newer than
   * the cell's version there (so a change is never applied twice, and order does not matter); and
   * `security.changed`: the cube's security is reloaded from the store.
   */
  start(sink: TransactionSink): Promise<void>;
  close(): Promise<void>;
}

/** Options of createEvents. */
export interface EventsOptions {
  store: Store;
  log: Logger;
  /** This instance's id: the relay's claim id and the Kafka consumer group; its own events are skipped. */
  instanceId: string;
  /** Kafka brokers; none: an in-process bus (or `bus`). */
  kafkaBrokers?: string[];
  /** A bus to use instead (tests: several backends on one InProcessBus); not closed by close(). */
  bus?: EventBus;
  relay?: Partial<RelayOptions>;
}

/** Makes the eventing of one instance: the bus (Kafka with brokers, else in process) and the outbox relay. */
export function createEvents(opts: EventsOptions): Events {
  const { store, log, instanceId } = opts;
  const ownBus = !opts.bus;
  const bus: EventBus =
    opts.bus ??
    (opts.kafkaBrokers && opts.kafkaBrokers.length > 0
      ? new KafkaBus({ brokers: opts.kafkaBrokers, instanceId, log })
      : new InProcessBus((err) => log.error({ err }, "in-process bus: a handler failed")));
  const relay = new OutboxRelay(store, bus, { relayId: instanceId, log, ...opts.relay });
  const assembler = new TransactionAssembler({
    onDrop: (txId, received, parts) => log.warn({ txId, received, parts }, "dropping a transaction whose parts did not all arrive"),
  });
  const stats = { events: 0, changesApplied: 0, changesSkipped: 0, waitingForParts: () => assembler.waiting };
  return {
    bus,
    relay,
    ready: bus.ready,
    stats,
    async start(sink) {
      const onWrite = (m: BusMessage) => {
        let ev: ReceivedWriteEvent;
        try {
          ev = parseWriteEvent(m.value);
        } catch (err) {
          log.warn({ err: (err as Error).message, topic: m.topic }, "ignoring a malformed write event");
          return;
        }
        if (ev.instanceId === instanceId) return; // applied locally at commit
        const tx = assembler.add(ev);
        if (tx === null) return;
        const n = sink.applyTransaction(tx);
        stats.events++;
        stats.changesApplied += n;
        stats.changesSkipped += tx.changes.length - n;
      };
      /**
       * A handler of a topic whose events name a change the store holds (security, sandboxes): a
       * malformed message is logged and skipped, this instance's own is skipped (applied at commit),
       * a failure of `apply` is logged (`what` says what could not be done, with the event's `fields`).
       */
      const onChange =
        <E extends { instanceId: string; cube: string }>(
          kind: string,
          parse: (json: string) => E,
          apply: ((ev: E) => Promise<void>) | undefined,
          what: string,
          fields: (ev: E) => Record<string, string> = (ev) => ({ cube: ev.cube }),
        ) =>
        async (m: BusMessage) => {
          let ev: E;
          try {
            ev = parse(m.value);
          } catch (err) {
            log.warn({ err: (err as Error).message, topic: m.topic }, `ignoring a malformed ${kind} event`);
            return;
          }
          if (ev.instanceId === instanceId || !apply) return; // applied locally at commit
          await apply(ev).catch((err: unknown) => log.error({ err, ...fields(ev) }, what));
        };
      const onSecurity = onChange("security", parseSecurityEvent, sink.applySecurityChange?.bind(sink), "could not reload a cube's security");
      const onSandbox = onChange("sandbox", parseSandboxEvent, sink.applySandboxChange?.bind(sink), "could not read a sandbox again", (ev) => ({ cube: ev.cube, sandbox: ev.sandboxId }));
      const onMessage = (m: BusMessage) => (m.topic === TOPICS.security ? onSecurity(m) : m.topic === TOPICS.sandbox ? onSandbox(m) : onWrite(m));
      // A single instance on its own in-process bus sees only its own writes: no consumer needed.
      if (bus.kind === "kafka" || !ownBus) await bus.subscribe([TOPICS.write, TOPICS.security, TOPICS.sandbox], onMessage);
      relay.start();
    },
    async close() {
      await relay.stop();
      if (ownBus) await bus.close();
    },
  };
}
