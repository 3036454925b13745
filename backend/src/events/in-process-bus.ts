import type { BusHandler, BusMessage, EventBus } from "./types";

/**
 * The bus of a single instance (no KAFKA_BROKERS): publishing hands each message to the
 * subscribers of its topic in this process, in order. Several Backends sharing one bus (tests)
 * behave like instances sharing Kafka.
 */
export class InProcessBus implements EventBus {
  readonly kind = "in-process" as const;
  readonly ready = Promise.resolve();
  private readonly subs: { topics: Set<string>; handler: BusHandler }[] = [];
  private closed = false;
  /** Messages published so far (tests read it). */
  published = 0;

  constructor(private readonly onError: (err: unknown, message: BusMessage) => void = () => {}) {}

  async publish(messages: BusMessage[]): Promise<void> {
    if (this.closed) throw new Error("the in-process bus is closed");
    for (const m of messages) {
      this.published++;
      for (const s of this.subs) {
        if (!s.topics.has(m.topic)) continue;
        try {
          await s.handler(m);
        } catch (err) {
          this.onError(err, m);
        }
      }
    }
  }

  async subscribe(topics: string[], handler: BusHandler): Promise<void> {
    this.subs.push({ topics: new Set(topics), handler });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subs.length = 0;
  }
}
