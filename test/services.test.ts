/**
 * The servers of `scripts/services.sh` answer: PostgreSQL (select 1), Redis (ping/set/get) and Kafka
 * (a produce/consume round trip with kafkajs on a fresh topic). Skipped outside CI when
 * DATABASE_URL/TEST_DATABASE_URL, REDIS_URL and KAFKA_BROKERS are unset; in CI a missing server fails.
 */
import Redis from "ioredis";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { requireServices, serviceUrls } from "./helpers/services";

const describeServices = requireServices(["postgres", "redis", "kafka"]);

describeServices("the integration-test servers", () => {
  const urls = serviceUrls();
  const suffix = `${process.pid}-${Date.now().toString(36)}`;

  test("PostgreSQL answers select 1", async () => {
    const client = new pg.Client({ connectionString: urls.databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query("select 1 as one");
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await client.end();
    }
  });

  test("Redis answers ping, set and get", async () => {
    const redis = new Redis(urls.redisUrl!, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      expect(await redis.ping()).toBe("PONG");
      const key = `qatom:services-test:${suffix}`;
      expect(await redis.set(key, "hello", "EX", 60)).toBe("OK");
      expect(await redis.get(key)).toBe("hello");
      await redis.del(key);
    } finally {
      redis.disconnect();
    }
  });

  test("Kafka round-trips a message on a fresh topic", async () => {
    const kafka = new Kafka({ clientId: "services-test", brokers: urls.kafkaBrokers, logLevel: logLevel.NOTHING });
    const topic = `qatom-services-test-${suffix}`;
    const admin = kafka.admin();
    const producer = kafka.producer();
    const consumer = kafka.consumer({ groupId: `qatom-services-test-${suffix}` });
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true })).toBe(true);
      await producer.connect();
      await producer.send({ topic, messages: [{ key: "k1", value: "v1" }, { key: "k2", value: "v2" }] });

      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received: { key: string; value: string; offset: string }[] = [];
      const done = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`received only ${JSON.stringify(received)} in 30 s`)), 30_000);
        consumer
          .run({
            eachMessage: async ({ message }) => {
              received.push({ key: String(message.key), value: String(message.value), offset: message.offset });
              if (received.length === 2) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
      await done;
      expect(received).toEqual([
        { key: "k1", value: "v1", offset: "0" },
        { key: "k2", value: "v2", offset: "1" },
      ]);
    } finally {
      await consumer.disconnect().catch(() => {});
      await producer.disconnect().catch(() => {});
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
      await admin.disconnect().catch(() => {});
    }
  }, 60_000);
});
