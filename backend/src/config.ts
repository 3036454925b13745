import type { GpuMode } from "./compute/gpu/executor";
import { PARALLEL_MIN_ROWS } from "./lattice";
import os from "node:os";
import path from "node:path";

/** Runtime settings, read from the environment once at start. */
export interface Config {
  /** TCP port of the HTTPS (or HTTP) server. `PORT`, default 3000. */
  port: number;
  /** Host to bind. `QATOM_HOST`, default `localhost`. */
  host: string;
  /** Serve plain HTTP instead of HTTPS. `QATOM_HTTP=1`. */
  http: boolean;
  /** Directory of the embedded PGlite database. `QATOM_DATA_DIR`, default `./.quantatom`. */
  dataDir: string;
  /**
   * Keep a snapshot of each cube's leaf cells beside the database when the server stops
   * (`<dataDir>/snapshots/`), and start from it when it still matches the store
   * (backend/src/store/snapshot.ts). `QATOM_SNAPSHOTS=off` turns it off; default on.
   */
  snapshots: boolean;
  /** PostgreSQL server to use instead of PGlite. `DATABASE_URL`, unset by default. */
  databaseUrl?: string;
  /** Redis for hot tiles (`redis://host:port`). `REDIS_URL`; unset: an in-process tile cache. */
  redisUrl?: string;
  /** Directory of the development certificates. `QATOM_CERTS_DIR`, default `./certs`. */
  certsDir: string;
  /** Model file loaded on first start when the store holds no cube. `QATOM_MODEL`. */
  model: string;
  /**
   * Folder of the built Excel add-in (`npm run build` writes it): served as static files, and its
   * `manifest.xml` at `/manifest.xml`. `QATOM_ADDIN_DIR`, default `./dist/addin`.
   */
  addinDir: string;
  /**
   * Kafka brokers (`host:port`, comma-separated) shared by the backend instances. `KAFKA_BROKERS`;
   * unset: an in-process bus serves a single instance.
   */
  kafkaBrokers?: string[];
  /**
   * This instance's id (outbox rows and the Kafka consumer group carry it). `QATOM_INSTANCE_ID`;
   * default: a new random id per start.
   */
  instanceId?: string;
  /**
   * How long the outbox relay's claim on rows lasts before another instance may relay them (an
   * instance that died while relaying). `QATOM_OUTBOX_LEASE_MS`, default 30000.
   */
  outboxLeaseMs: number;
  /**
   * Most leaf cells one spread may create (cells not stored yet, e.g. `LS*` or proportional into an
   * empty total); a spread needing more is rejected with the count. `QATOM_SPREAD_MAX_NEW_CELLS`,
   * default 25000.
   */
  spreadMaxNewCells: number;
  /**
   * User ids (access tokens' subjects, see services/requests.ts `userOf`) that administer every cube:
   * every right on every member, and the security RPCs. `QATOM_ADMINS`, comma-separated; default none.
   */
  admins: string[];
  /**
   * Largest request body of the Connect API, in bytes: a larger one is refused with
   * `resource_exhausted` while it streams in, before it is parsed (server/body-limit.ts).
   * `QATOM_MAX_BODY_BYTES`, default 33554432 (32 MiB).
   */
  maxBodyBytes: number;
  /**
   * Most WatchCells streams one user may hold open on this instance; one more is
   * `resource_exhausted`. `QATOM_MAX_STREAMS_PER_USER`, default 64 (one stream per cube per workbook).
   */
  maxStreamsPerUser: number;
  /**
   * Threads that sum a large scan of leaf rows together: the request's own thread and
   * `calcWorkers - 1` helper threads (compute/thread-pool.ts). `QATOM_CALC_WORKERS`, default the
   * machine's cores (`os.availableParallelism()`); 1 runs every scan in the request's thread.
   */
  calcWorkers: number;
  /**
   * Whether the calc worker uses a GPU (compute/gpu/executor.ts), `QATOM_GPU`: `auto` (default)
   * uses a hardware adapter when one is found and passes the start-up self-check against the CPU
   * kernel; `on` uses any adapter, a software one included, and fails the start without one;
   * `off` never loads Dawn.
   */
  gpu: GpuMode;
  /**
   * Leaf rows from which a cube's scans go to the GPU, `QATOM_GPU_MIN_ROWS`, default 524288
   * (smaller scans cost more in the trip to the device than on the CPU; Jedox's guidance for its
   * GPU accelerator is about 300k filled cells).
   */
  gpuMinRows: number;
  /**
   * How long a connection may take to send a request's headers, from when it opens or its
   * previous response ended; a connection that sends nothing is closed after it (HTTP 408 if it
   * sent part of a request). `QATOM_HEADERS_TIMEOUT_MS`, default 10000.
   */
  headersTimeoutMs: number;
  /**
   * How long a client may take to send a whole request (headers and body). Only receiving the
   * request counts: a WatchCells response streams on after it. At least `headersTimeoutMs`.
   * `QATOM_REQUEST_TIMEOUT_MS`, default 60000.
   */
  requestTimeoutMs: number;
  /**
   * How long an idle keep-alive connection stays open after a response before the server closes
   * it. `QATOM_KEEP_ALIVE_TIMEOUT_MS`, default 5000.
   */
  keepAliveTimeoutMs: number;
  /** How callers sign in (see auth/index.ts); development mode when no issuer is configured. */
  auth: AuthConfig;
}

/**
 * Sign-in settings. With `QATOM_OIDC_ISSUER` unset the backend runs its own development issuer
 * (localhost only); with it set, tokens of that issuer are the only way in.
 */
export interface AuthConfig {
  /** OpenID Connect issuer whose access tokens are accepted (`iss`), e.g. `https://login.microsoftonline.com/<tenant-id>/v2.0`. `QATOM_OIDC_ISSUER`. */
  issuer?: string;
  /** The audience the tokens must carry (`aud`): the backend's application id URI or client id. `QATOM_OIDC_AUDIENCE`, required with an issuer. */
  audience?: string;
  /** The add-in's application (client) id, for MSAL in the add-in. `QATOM_OIDC_CLIENT_ID`. */
  clientId?: string;
  /** Scopes the add-in asks for, e.g. `api://<backend-app-id>/access_as_user`. `QATOM_OIDC_SCOPES`, space- or comma-separated. */
  scopes: string[];
  /** MSAL authority for the add-in. `QATOM_OIDC_AUTHORITY`, default `https://login.microsoftonline.com/organizations`. */
  authority: string;
  /** Allowed clock skew for a token's `exp` and `nbf`, seconds. `QATOM_AUTH_CLOCK_SKEW_S`, default 30. */
  clockSkewSec: number;
}

/** The project root (the folder holding package.json). */
export const projectRoot = path.resolve(__dirname, "..", "..");

/**
 * Reads the configuration from `env`.
 * @throws Error naming the variable when a value is malformed (e.g. `PORT=abc`).
 */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = env.PORT === undefined || env.PORT === "" ? 3000 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(env.PORT)}`);
  }
  return {
    port,
    host: env.QATOM_HOST || "localhost",
    http: env.QATOM_HTTP === "1" || env.QATOM_HTTP === "true",
    dataDir: path.resolve(env.QATOM_DATA_DIR || path.join(process.cwd(), ".quantatom")),
    snapshots: onOff(env.QATOM_SNAPSHOTS, true, "QATOM_SNAPSHOTS"),
    databaseUrl: env.DATABASE_URL || undefined,
    redisUrl: env.REDIS_URL || undefined,
    certsDir: path.resolve(env.QATOM_CERTS_DIR || path.join(projectRoot, "certs")),
    model: path.resolve(env.QATOM_MODEL || path.join(projectRoot, "data", "foodmart", "model.yaml")),
    addinDir: path.resolve(env.QATOM_ADDIN_DIR || path.join(projectRoot, "dist", "addin")),
    kafkaBrokers: parseBrokers(env.KAFKA_BROKERS),
    instanceId: env.QATOM_INSTANCE_ID || undefined,
    outboxLeaseMs: positiveInt(env.QATOM_OUTBOX_LEASE_MS, 30_000, "QATOM_OUTBOX_LEASE_MS"),
    spreadMaxNewCells: positiveInt(env.QATOM_SPREAD_MAX_NEW_CELLS, 25_000, "QATOM_SPREAD_MAX_NEW_CELLS"),
    admins: parseList(env.QATOM_ADMINS),
    maxBodyBytes: positiveInt(env.QATOM_MAX_BODY_BYTES, 32 * 1024 * 1024, "QATOM_MAX_BODY_BYTES"),
    maxStreamsPerUser: positiveInt(env.QATOM_MAX_STREAMS_PER_USER, 64, "QATOM_MAX_STREAMS_PER_USER"),
    calcWorkers: positiveInt(env.QATOM_CALC_WORKERS, os.availableParallelism(), "QATOM_CALC_WORKERS"),
    gpu: gpuMode(env.QATOM_GPU),
    gpuMinRows: positiveInt(env.QATOM_GPU_MIN_ROWS, PARALLEL_MIN_ROWS, "QATOM_GPU_MIN_ROWS"),
    ...timeouts(env),
    auth: readAuthConfig(env),
  };
}

/** The sign-in settings. @throws Error naming the variable when one is malformed or missing. */
function readAuthConfig(env: NodeJS.ProcessEnv): AuthConfig {
  const issuer = env.QATOM_OIDC_ISSUER?.trim() || undefined;
  const audience = env.QATOM_OIDC_AUDIENCE?.trim() || undefined;
  if (issuer) {
    let url: URL;
    try {
      url = new URL(issuer);
    } catch {
      throw new Error(`QATOM_OIDC_ISSUER must be a URL, got ${JSON.stringify(issuer)}`);
    }
    if (url.protocol !== "https:" && !["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)) {
      throw new Error(`QATOM_OIDC_ISSUER must be an https URL (http only on localhost), got ${JSON.stringify(issuer)}`);
    }
    if (!audience) throw new Error("QATOM_OIDC_AUDIENCE is required with QATOM_OIDC_ISSUER: the audience (aud) the backend's tokens carry");
  }
  const skew = env.QATOM_AUTH_CLOCK_SKEW_S === undefined || env.QATOM_AUTH_CLOCK_SKEW_S === "" ? 30 : Number(env.QATOM_AUTH_CLOCK_SKEW_S);
  if (!Number.isInteger(skew) || skew < 0 || skew > 300) {
    throw new Error(`QATOM_AUTH_CLOCK_SKEW_S must be an integer from 0 to 300 (seconds), got ${JSON.stringify(env.QATOM_AUTH_CLOCK_SKEW_S)}`);
  }
  return {
    issuer,
    audience,
    clientId: env.QATOM_OIDC_CLIENT_ID?.trim() || undefined,
    scopes: (env.QATOM_OIDC_SCOPES ?? "").split(/[\s,]+/).filter(Boolean),
    authority: env.QATOM_OIDC_AUTHORITY?.trim() || "https://login.microsoftonline.com/organizations",
    clockSkewSec: skew,
  };
}

/** A comma-separated list, each entry trimmed, empty entries dropped; [] when unset. */
function parseList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter((x) => x !== "");
}

/** The HTTP server's timeouts. @throws Error when one is malformed or the request timeout is below the headers timeout. */
function timeouts(env: NodeJS.ProcessEnv): Pick<Config, "headersTimeoutMs" | "requestTimeoutMs" | "keepAliveTimeoutMs"> {
  const headersTimeoutMs = positiveInt(env.QATOM_HEADERS_TIMEOUT_MS, 10_000, "QATOM_HEADERS_TIMEOUT_MS");
  const requestTimeoutMs = positiveInt(env.QATOM_REQUEST_TIMEOUT_MS, Math.max(60_000, headersTimeoutMs), "QATOM_REQUEST_TIMEOUT_MS");
  if (requestTimeoutMs < headersTimeoutMs) {
    throw new Error(`QATOM_REQUEST_TIMEOUT_MS (${requestTimeoutMs}) must be at least QATOM_HEADERS_TIMEOUT_MS (${headersTimeoutMs})`);
  }
  return { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs: positiveInt(env.QATOM_KEEP_ALIVE_TIMEOUT_MS, 5_000, "QATOM_KEEP_ALIVE_TIMEOUT_MS") };
}

/** `host:port[,host:port...]` as a list; undefined when unset or empty. @throws Error on a malformed entry. */
function parseBrokers(value: string | undefined): string[] | undefined {
  if (!value || value.trim() === "") return undefined;
  const brokers = value.split(",").map((b) => b.trim()).filter((b) => b !== "");
  for (const b of brokers) {
    if (!/^[^\s:]+:\d{1,5}$/.test(b)) throw new Error(`KAFKA_BROKERS must list host:port entries separated by commas, got ${JSON.stringify(value)}`);
  }
  return brokers.length > 0 ? brokers : undefined;
}

/** `QATOM_GPU`: auto (when unset), on or off. @throws Error naming the variable when it is something else. */
function gpuMode(value: string | undefined): GpuMode {
  const v = (value ?? "").trim().toLowerCase();
  if (v === "") return "auto";
  if (v === "auto" || v === "on" || v === "off") return v;
  throw new Error(`QATOM_GPU must be auto, on or off, got ${JSON.stringify(value)}`);
}

/** A positive integer variable, `fallback` when unset. @throws Error naming it when malformed. */
function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** `on`/`off` (also `1`/`0`, `true`/`false`); `fallback` when unset. @throws Error naming the variable and the value otherwise. */
function onOff(raw: string | undefined, fallback: boolean, name: string): boolean {
  if (raw === undefined || raw === "") return fallback;
  const v = raw.trim().toLowerCase();
  if (v === "on" || v === "1" || v === "true") return true;
  if (v === "off" || v === "0" || v === "false") return false;
  throw new Error(`${name} must be on or off, got "${raw}"`);
}
