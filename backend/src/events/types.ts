/**
 * Event types and the bus the outbox relay publishes to. The bus is Kafka when KAFKA_BROKERS is set
 * (several backend instances), else an in-process bus (one instance).
 */
export { OUTBOX_TOPICS as TOPICS } from "../store/types";

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

/** One leaf change in a WriteEvent. */
export interface WriteEventChange {
  coords: number[];
  members: string[];
  value: number | null;
  version: number;
}

/** Payload of `atom.write.raw`: the applied changes of one write transaction. */
export interface WriteEvent {
  cube: string;
  cubeId: number;
  /** When the cube was loaded (ms): with cubeId, the generation of the cube the write is for. */
  loadedAt: number;
  txId: string;
  /** The backend instance that committed it. */
  instanceId: string;
  user: string;
  /** Commit time, ms since the epoch. */
  at: number;
  /** Which part of the transaction's changes this is (0-based) and how many parts it has (see OUTBOX_CHUNK). */
  part?: number;
  parts?: number;
  changes: WriteEventChange[];
}

/** Parses and checks a WriteEvent. @throws Error when the JSON does not have its shape. */
export function parseWriteEvent(json: string): WriteEvent {
  const ev = JSON.parse(json) as WriteEvent;
  if (
    typeof ev !== "object" ||
    ev === null ||
    typeof ev.cube !== "string" ||
    typeof ev.cubeId !== "number" ||
    typeof ev.loadedAt !== "number" ||
    typeof ev.user !== "string" ||
    typeof ev.at !== "number" ||
    !Array.isArray(ev.changes)
  ) {
    throw new Error("not a write event: needs cube, cubeId, loadedAt, user, at, changes");
  }
  for (const c of ev.changes) {
    if (!Array.isArray(c.coords) || typeof c.version !== "number" || (c.value !== null && typeof c.value !== "number")) {
      throw new Error("not a write event: a change needs coords, value and version");
    }
  }
  return ev;
}
