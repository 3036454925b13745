import { type Consumer, Kafka, logLevel, type Producer } from "kafkajs";
import type { Logger } from "pino";
import { TOPICS } from "./contract";
import type { BusHandler, BusMessage, EventBus } from "./types";

/** Options of KafkaBus. */
export interface KafkaBusOptions {
  brokers: string[];
  /** This backend instance: the consumer group is `quantatom-<instanceId>`, so every instance gets every message. */
  instanceId: string;
  log: Logger;
  /** Partitions of topics this bus creates when missing. Default 3. */
  partitions?: number;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The bus over Kafka (kafkajs). The producer is idempotent and waits for all in-sync replicas;
 * its errors reject `publish` (the relay backs off and retries; writes never wait for it). The
 * consumer reads from the beginning of the topic under a group of its own (a new instance
 * replays the topic; the consumer ignores changes the lattice already has), and reconnects by
 * itself when Kafka goes away and comes back.
 */
export class KafkaBus implements EventBus {
  readonly kind = "kafka" as const;
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private readonly kafka: Kafka;
  private producer: Producer | null = null;
  private producerConnecting: Promise<Producer> | null = null;
  private consumer: Consumer | null = null;
  private topicsChecked = false;
  private closed = false;
  private restartTimer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: KafkaBusOptions) {
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
    const log = opts.log;
    this.kafka = new Kafka({
      clientId: `quantatom-${opts.instanceId}`,
      brokers: opts.brokers,
      connectionTimeout: 3000,
      requestTimeout: 10_000,
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ log: entry }) => {
          // kafkajs is loud while Kafka is away; the relay and the consumer log the outcome once.
          const { message, ...rest } = entry;
          log.debug({ kafka: rest }, `kafka: ${message}`);
        },
    });
  }

  private async ensureTopics(): Promise<void> {
    if (this.topicsChecked) return;
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: Object.values(TOPICS).map((topic) => ({
          topic,
          numPartitions: this.opts.partitions ?? 3,
          replicationFactor: 1,
        })),
      });
      this.topicsChecked = true;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }

  private async getProducer(): Promise<Producer> {
    if (this.producer) return this.producer;
    if (!this.producerConnecting) {
      this.producerConnecting = (async () => {
        await this.ensureTopics();
        const p = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
        await p.connect();
        this.producer = p;
        return p;
      })().finally(() => {
        this.producerConnecting = null;
      });
    }
    return this.producerConnecting;
  }

  async publish(messages: BusMessage[]): Promise<void> {
    if (this.closed) throw new Error("the Kafka bus is closed");
    if (messages.length === 0) return;
    let producer: Producer;
    try {
      producer = await this.getProducer();
    } catch (err) {
      throw new Error(`Kafka unreachable (${this.opts.brokers.join(",")}): ${errText(err)}`, { cause: err });
    }
    const byTopic = new Map<string, { key: string; value: string }[]>();
    for (const m of messages) {
      let list = byTopic.get(m.topic);
      if (!list) {
        list = [];
        byTopic.set(m.topic, list);
      }
      list.push({ key: m.key, value: m.value });
    }
    try {
      await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, msgs]) => ({ topic, messages: msgs })) });
    } catch (err) {
      // Start over with a fresh producer next time (a broken connection may stay broken).
      this.producer = null;
      await producer.disconnect().catch(() => {});
      throw err;
    }
  }

  async subscribe(topics: string[], handler: BusHandler): Promise<void> {
    const start = async (): Promise<void> => {
      if (this.closed) return;
      try {
        await this.ensureTopics();
        const consumer = this.kafka.consumer({
          groupId: `quantatom-${this.opts.instanceId}`,
          // The broker's minimum (group.min.session.timeout.ms): after a broker restart the group
          // waits out the old member's session before it rebalances, so this bounds catch-up.
          sessionTimeout: 6000,
          heartbeatInterval: 500,
          maxWaitTimeInMs: 100,
          retry: { retries: 1_000_000, initialRetryTime: 200, maxRetryTime: 2000 },
        });
        this.consumer = consumer;
        let crashed = false;
        consumer.on(consumer.events.GROUP_JOIN, () => {
          if (crashed) this.opts.log.info("kafka consumer joined its group again");
          crashed = false;
          this.markReady();
        });
        consumer.on(consumer.events.CRASH, (e) => {
          // Logged once per outage; kafkajs retries by itself while `restart` is true.
          if (!crashed) this.opts.log.warn({ err: e.payload.error?.message, restart: e.payload.restart }, "kafka consumer crashed; retrying");
          crashed = true;
          if (!e.payload.restart) scheduleRestart();
        });
        await consumer.connect();
        for (const topic of topics) await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          eachMessage: async ({ topic, message }) => {
            if (!message.value) return;
            await handler({ topic, key: message.key?.toString() ?? "", value: message.value.toString() });
          },
        });
      } catch (err) {
        this.opts.log.warn({ err: errText(err) }, "kafka consumer could not start; retrying");
        scheduleRestart();
      }
    };
    const scheduleRestart = () => {
      if (this.closed || this.restartTimer) return;
      const old = this.consumer;
      this.consumer = null;
      this.restartTimer = setTimeout(async () => {
        this.restartTimer = null;
        await old?.disconnect().catch(() => {});
        await start();
      }, 1000);
    };
    void start();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await Promise.all([
      this.consumer?.disconnect().catch(() => {}),
      (this.producerConnecting ?? Promise.resolve(this.producer))
        .then((p) => p?.disconnect())
        .catch(() => {}),
    ]);
  }
}
