/**
 * Helpers for integration tests that need the servers of `scripts/services.sh` (PostgreSQL, Redis,
 * Kafka). See docs/services.md.
 *
 *   const describeServices = requireServices(["postgres", "redis", "kafka"]);
 *   describeServices("the outbox", () => { const { kafkaBrokers } = serviceUrls(); ... });
 *
 * Outside CI (`CI` is not "true") a suite whose environment variables are unset is skipped, with the
 * reason printed. In CI a missing variable or an unreachable server fails the suite. Variables:
 * TEST_DATABASE_URL or DATABASE_URL, TEST_REDIS_URL or REDIS_URL, TEST_KAFKA_BROKERS or KAFKA_BROKERS.
 */
import { execFile } from "node:child_process";
import net from "node:net";
import path from "node:path";

export type ServiceName = "postgres" | "redis" | "kafka";

/**
 * The servers' addresses from the environment (`undefined` where the variable is unset). The
 * `TEST_` names win: with them a CI run points the tests at the servers without also switching the
 * backend started by other tests (which reads DATABASE_URL, REDIS_URL, KAFKA_BROKERS) off its defaults.
 */
export interface ServiceUrls {
  /** `TEST_DATABASE_URL`, else `DATABASE_URL`. */
  databaseUrl: string | undefined;
  /** `TEST_REDIS_URL`, else `REDIS_URL`. */
  redisUrl: string | undefined;
  /** `TEST_KAFKA_BROKERS`, else `KAFKA_BROKERS`, split on commas (empty when unset). */
  kafkaBrokers: string[];
}

/** What `scripts/services.sh up` prints; the lines `.ci/run` exports. */
export const SERVICES_ENV = {
  DATABASE_URL: "postgres://postgres@127.0.0.1:5432/test",
  REDIS_URL: "redis://127.0.0.1:6379",
  KAFKA_BROKERS: "127.0.0.1:9092",
} as const;

export const SERVICES_SCRIPT = path.resolve(__dirname, "../../scripts/services.sh");

const VARIABLE: Record<ServiceName, string> = {
  postgres: "TEST_DATABASE_URL or DATABASE_URL",
  redis: "TEST_REDIS_URL or REDIS_URL",
  kafka: "TEST_KAFKA_BROKERS or KAFKA_BROKERS",
};

export function isCI(): boolean {
  return process.env.CI === "true";
}

export function serviceUrls(env: NodeJS.ProcessEnv = process.env): ServiceUrls {
  return {
    databaseUrl: env.TEST_DATABASE_URL || env.DATABASE_URL || undefined,
    redisUrl: env.TEST_REDIS_URL || env.REDIS_URL || undefined,
    kafkaBrokers: (env.TEST_KAFKA_BROKERS || env.KAFKA_BROKERS || "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  };
}

/** The host:port pairs a service's variable names, or undefined when it is unset. */
export function serviceAddresses(name: ServiceName, urls: ServiceUrls = serviceUrls()): { host: string; port: number }[] | undefined {
  const fromUrl = (u: string, defaultPort: number) => {
    const url = new URL(u);
    return { host: url.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1", port: Number(url.port || defaultPort) };
  };
  switch (name) {
    case "postgres":
      return urls.databaseUrl ? [fromUrl(urls.databaseUrl, 5432)] : undefined;
    case "redis":
      return urls.redisUrl ? [fromUrl(urls.redisUrl, 6379)] : undefined;
    case "kafka":
      return urls.kafkaBrokers.length ? urls.kafkaBrokers.map((b) => fromUrl(`kafka://${b}`, 9092)) : undefined;
  }
}

/** Resolves when a TCP connection to host:port opens; rejects after `timeoutMs`. */
export function tcpCheck(host: string, port: number, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const fail = (why: string) => {
      socket.destroy();
      reject(new Error(`${host}:${port} ${why}`));
    };
    socket.setTimeout(timeoutMs, () => fail(`did not answer in ${timeoutMs} ms`));
    socket.once("error", (e) => fail(`is unreachable (${(e as NodeJS.ErrnoException).code ?? e.message})`));
    socket.once("connect", () => {
      socket.end();
      resolve();
    });
  });
}

/** Throws, naming every problem, when a service's variable is unset or its server does not accept connections. */
export async function checkServices(names: ServiceName[], urls: ServiceUrls = serviceUrls()): Promise<void> {
  const problems: string[] = [];
  await Promise.all(
    names.map(async (name) => {
      const addresses = serviceAddresses(name, urls);
      if (!addresses) {
        problems.push(`${name}: ${VARIABLE[name]} is not set`);
        return;
      }
      for (const a of addresses) {
        try {
          await tcpCheck(a.host, a.port);
        } catch (e) {
          problems.push(`${name}: ${(e as Error).message}`);
        }
      }
    }),
  );
  if (problems.length) {
    throw new Error(
      `services missing: ${problems.join("; ")}. Start them with \`bash scripts/services.sh up\` and export ` +
        `\`bash scripts/services.sh env test\` (${Object.entries(SERVICES_ENV)
          .map(([k, v]) => `TEST_${k}=${v}`)
          .join(" ")}).`,
    );
  }
}

type SuiteFn = (name: string, fn: () => void) => void;

/**
 * A `describe` for suites that need the given servers.
 * - Outside CI, when a needed variable is unset: `describe.skip`, and the reason is printed once.
 * - Otherwise: `describe` with a first `beforeAll` that checks every server accepts connections
 *   (and, in CI, that every variable is set), so a missing server fails the suite instead of
 *   timing out inside a client's retries.
 */
export function requireServices(names: ServiceName[]): SuiteFn {
  const urls = serviceUrls();
  const unset = names.filter((n) => !serviceAddresses(n, urls));
  if (unset.length && !isCI()) {
    return (name, fn) => {
      console.log(
        `[services] skipping "${name}": ${unset.map((n) => VARIABLE[n]).join(", ")} not set ` +
          "(run `bash scripts/services.sh up`, then `export $(bash scripts/services.sh env test)`; with CI=true this fails instead)",
      );
      describe.skip(name, fn);
    };
  }
  return (name, fn) => {
    describe(name, () => {
      beforeAll(() => checkServices(names, urls), 20_000);
      fn();
    });
  };
}

function runScript(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("bash", [SERVICES_SCRIPT, ...args], { timeout: 120_000, maxBuffer: 10 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`scripts/services.sh ${args.join(" ")} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * Stops the Kafka broker that `scripts/services.sh` started (SIGTERM, then SIGKILL after 20 s) and
 * resolves when it has exited. Uses the same QATOM_SERVICES_DIR as the environment.
 */
export function kafkaStop(): Promise<string> {
  return runScript("kafka-stop");
}

/** Starts the Kafka broker again (same data directory) and resolves when it answers metadata requests. */
export function kafkaStart(): Promise<string> {
  return runScript("kafka-start");
}

/** `scripts/services.sh status` output. */
export function servicesStatus(): Promise<string> {
  return runScript("status");
}
