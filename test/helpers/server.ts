import pino from "pino";
import { type Config, readConfig } from "../../backend/src/config";
import type { StartOptions } from "../../backend/src/server/main";

/**
 * The configuration of a test server: plain HTTP on 127.0.0.1, an ephemeral port, and no model to
 * load on first start (tests save their cube into the store first), and no GPU (test/gpu-server.test.ts
 * runs one with it). `env` adds or overrides variables, e.g. `{ QATOM_DATA_DIR: dir, DATABASE_URL: url }`.
 */
export function testConfig(env: Record<string, string | undefined>): Config {
  return readConfig({ PORT: "0", QATOM_HTTP: "1", QATOM_HOST: "127.0.0.1", QATOM_MODEL: "/nonexistent", QATOM_GPU: "off", ...env });
}

/** Start options of a quiet test server: no banner, no progress bars, no log. */
export function quietStart(): StartOptions {
  return { banner: false, progress: false, log: pino({ level: "silent" }) };
}
