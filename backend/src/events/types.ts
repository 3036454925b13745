/**
 * The bus the outbox relay publishes to. The bus is Kafka when KAFKA_BROKERS is set (several
 * backend instances), else an in-process bus (one instance). The messages' shapes and topics are
 * in `contract.ts`.
 */

/** One message on the bus: `value` is the outbox row's JSON payload. */
export interface BusMessage {
  topic: string;
  /** Partition key: the cube's name, so that one cube's writes stay in order. */
  key: string;
  value: string;
}

/** A message handler; a rejection is logged by the bus and the message is not retried. */
export type BusHandler = (message: BusMessage) => void | Promise<void>;

/** Where the outbox relay publishes and instances subscribe. */
export interface EventBus {
  readonly kind: "in-process" | "kafka";
  /**
   * Publishes messages, in order per key; resolves once the bus acknowledged every one of them
   * (for Kafka: written to all in-sync replicas). Rejects when any may not have been taken; the
   * relay then retries them (a message may be delivered twice, never lost).
   */
  publish(messages: BusMessage[]): Promise<void>;
  /**
   * Calls `handler` for every message on `topics`, from every instance (this one included).
   * Resolves once subscribed; `ready` resolves once messages flow (Kafka: the consumer joined).
   */
  subscribe(topics: string[], handler: BusHandler): Promise<void>;
  /** Resolves once the subscription receives messages. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}
