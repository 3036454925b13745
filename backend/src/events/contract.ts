/**
 * The event contract: the topics, the shapes of the messages one write transaction publishes, and
 * how they are cut into parts and put back together. Written once here; the write pipeline builds
 * outbox rows with `outboxRows`, the store writes them as given, the relay publishes them, and
 * other instances read them with `parseWriteEvent` and `TransactionAssembler`.
 *
 * Every message is keyed by the cube's name (Kafka partition key), so one cube's transactions stay
 * in order. A transaction of more than OUTBOX_CHUNK changes (a spread, a scenario copy) becomes
 * several messages per topic, each carrying `part` and `parts`; a consumer applies the transaction
 * only once it holds every part, so no instance ever shows half of it.
 */
import { DEFAULT_TENANT, TENANT_ID } from "../../../common/tenants";
import type { CommittedChange, NewOutboxRow } from "../store/types";

/** Topics of the outbox rows of one write transaction. */
export const TOPICS = {
  /** Applied cell writes: the transaction's changes (`WriteEvent`). */
  write: "atom.write.raw",
  /** Recalculation requests for the calc worker: the changed coordinates (`CalcEvent`). */
  calc: "atom.calc.trigger",
  /** Audit records: one record per applied leaf change (`AuditEvent`). */
  audit: "audit.log",
  /** A cube's security changed (`SecurityEvent`): every instance reloads that cube's rights. */
  security: "security.changed",
} as const;

/**
 * Most leaf changes per message: a larger transaction is published as several messages per topic,
 * each well under Kafka's default 1 MB message limit.
 */
export const OUTBOX_CHUNK = 2_000;

/** What every message of one transaction carries. */
export interface TransactionHeader {
  cube: string;
  /** The tenant the cube belongs to (common/tenants.ts); absent: DEFAULT_TENANT. */
  tenant?: string;
  cubeId: number;
  /** When the cube was loaded (ms): with cubeId, the generation of the cube the write is for. */
  loadedAt: number;
  txId: string;
  /** The backend instance that committed it. */
  instanceId: string;
  user: string;
  /** Commit time, ms since the epoch. */
  at: number;
}

/** One leaf change in a WriteEvent: member ids per dimension, their unique names, the new state. */
export interface WriteEventChange {
  coords: number[];
  members: string[];
  /** New value; null clears the cell. */
  value: number | null;
  version: number;
}

/** Which part of its transaction's changes a message holds (0-based) and how many parts there are. */
export interface PartOf {
  part?: number;
  parts?: number;
}

/**
 * A whole committed transaction as another instance applies it: what replication needs of the
 * WriteEvents of one transaction put back together (see TransactionAssembler).
 */
export interface CommittedTransaction extends TransactionHeader {
  changes: readonly { coords: readonly number[]; value: number | null; version: number }[];
}

/** Payload of `atom.write.raw`. Without `part`/`parts` the message holds the whole transaction. */
export interface WriteEvent extends TransactionHeader, PartOf {
  changes: WriteEventChange[];
}

/** Payload of `audit.log`: the audit records of (a part of) a transaction. */
export interface AuditEvent extends Omit<TransactionHeader, "loadedAt">, PartOf {
  records: { members: string[]; oldValue: number | null; newValue: number | null; version: number }[];
}

/** Payload of `atom.calc.trigger`: the leaf coordinates (a part of) a transaction changed. */
export interface CalcEvent extends PartOf {
  cube: string;
  cubeId: number;
  txId: string;
  at: number;
  coords: number[][];
}

/**
 * The outbox rows of one committed transaction: per OUTBOX_CHUNK changes, one row on each topic of
 * TOPICS (write, calc, audit, in that order), keyed by the cube's name. JSON has no NaN or Infinity:
 * values are finite numbers or null.
 */
export function outboxRows(header: TransactionHeader, changes: readonly CommittedChange[]): NewOutboxRow[] {
  const { cube, cubeId, loadedAt, txId, instanceId, user, at } = header;
  const tenant = eventTenant(header);
  const key = messageKey(tenant, cube);
  const parts = Math.max(1, Math.ceil(changes.length / OUTBOX_CHUNK));
  const rows: NewOutboxRow[] = [];
  for (let p = 0; p < parts; p++) {
    const part = changes.slice(p * OUTBOX_CHUNK, (p + 1) * OUTBOX_CHUNK);
    const ofPart = { cube, tenant, cubeId, txId, at, part: p, parts };
    const write: WriteEvent = {
      ...ofPart,
      loadedAt,
      instanceId,
      user,
      changes: part.map((c) => ({ coords: c.coords, members: c.members, value: c.value, version: c.version })),
    };
    const calc: CalcEvent = { ...ofPart, coords: part.map((c) => c.coords) };
    const audit: AuditEvent = {
      ...ofPart,
      instanceId,
      user,
      records: part.map((c) => ({ members: c.members, oldValue: c.oldValue, newValue: c.value, version: c.version })),
    };
    rows.push(
      { topic: TOPICS.write, key, payload: JSON.stringify(write) },
      { topic: TOPICS.calc, key, payload: JSON.stringify(calc) },
      { topic: TOPICS.audit, key, payload: JSON.stringify(audit) },
    );
  }
  return rows;
}

/**
 * Payload of `security.changed`, keyed by the cube's name: an admin changed a cube's security (a
 * right, a group, a membership, an admin role; see security/operations.ts). The message names the
 * new version only: other instances read the security from the store (which holds it since the same
 * transaction), so a lost or repeated message never leaves them with a wrong model.
 */
export interface SecurityEvent {
  cube: string;
  /** The tenant the cube belongs to; absent: DEFAULT_TENANT. */
  tenant?: string;
  cubeId: number;
  /** When the cube was loaded (ms): with cubeId, the generation of the cube. */
  loadedAt: number;
  /** The security version the change made. */
  version: number;
  /** The backend instance that committed it. */
  instanceId: string;
  /** Who made the change, when (ms), and what (the audit record's action and sentence). */
  actor: string;
  at: number;
  action: string;
  summary: string;
}

/** The outbox row of a security change: one message on TOPICS.security keyed by the cube's tenant and name. */
export function securityOutboxRow(ev: SecurityEvent): NewOutboxRow {
  return { topic: TOPICS.security, key: messageKey(eventTenant(ev), ev.cube), payload: JSON.stringify(ev) };
}

/**
 * The Kafka message key of a cube's events: `<tenant>/<cube>`, so that one cube's messages stay in
 * order on one partition and two tenants' cubes of the same name never share a key.
 */
export function messageKey(tenant: string, cube: string): string {
  return `${tenant}/${cube}`;
}

/** The tenant an event or transaction names: DEFAULT_TENANT when it names none (older messages). */
export function eventTenant(ev: { tenant?: string }): string {
  return ev.tenant ?? DEFAULT_TENANT;
}

const isString = (v: unknown) => typeof v === "string";
const isNumber = (v: unknown) => typeof v === "number";

/**
 * Parses an event of `kind` and checks the fields every event about a cube carries (cube, cubeId,
 * loadedAt; tenant, when present, a tenant id) and `more`.
 * @throws Error `not a <kind>: needs <fields>` naming them all when one is missing or wrong.
 */
function parseCubeEvent<T>(json: string, kind: string, more: Record<string, (v: unknown) => boolean>): T {
  const ev = JSON.parse(json) as Record<string, unknown> | null;
  const checks: Record<string, (v: unknown) => boolean> = { cube: isString, cubeId: isNumber, loadedAt: isNumber, ...more };
  if (typeof ev !== "object" || ev === null || Object.entries(checks).some(([field, ok]) => !ok(ev[field]))) {
    throw new Error(`not a ${kind}: needs ${Object.keys(checks).join(", ")}`);
  }
  if (ev.tenant !== undefined && (typeof ev.tenant !== "string" || !TENANT_ID.test(ev.tenant))) {
    throw new Error(`not a ${kind}: tenant ${JSON.stringify(ev.tenant)} is not a tenant id`);
  }
  return ev as T;
}

/** Parses and checks a SecurityEvent. @throws Error naming what is missing. */
export function parseSecurityEvent(json: string): SecurityEvent {
  return parseCubeEvent<SecurityEvent>(json, "security event", { version: isNumber, instanceId: isString });
}

/** Parses and checks a WriteEvent. @throws Error naming the missing or wrong field. */
export function parseWriteEvent(json: string): WriteEvent {
  const ev = parseCubeEvent<WriteEvent>(json, "write event", { user: isString, at: isNumber, changes: Array.isArray });
  if (ev.parts !== undefined || ev.part !== undefined) {
    const { part, parts } = ev;
    if (!Number.isInteger(parts) || !Number.isInteger(part) || parts! < 1 || part! < 0 || part! >= parts!) {
      throw new Error(`not a write event: part ${part} of ${parts} is not a part number from 0 below a count of at least 1`);
    }
    if (parts! > 1 && typeof ev.txId !== "string") throw new Error("not a write event: a transaction in parts needs its txId");
  }
  for (const c of ev.changes) {
    if (!Array.isArray(c.coords) || typeof c.version !== "number" || (c.value !== null && typeof c.value !== "number")) {
      throw new Error("not a write event: a change needs coords, value and version");
    }
  }
  return ev;
}

/** Options of TransactionAssembler. */
export interface AssemblerOptions {
  /** A transaction whose parts have not all come within this time is dropped. Default 10 minutes. */
  maxAgeMs?: number;
  /** Most transactions kept waiting for parts; the oldest is dropped beyond. Default 1,000. */
  maxPending?: number;
  /** Told about each dropped incomplete transaction. */
  onDrop?: (txId: string, received: number, parts: number) => void;
  /** The clock, ms (tests). */
  now?: () => number;
}

/**
 * Puts the parts of write transactions back together: `add` returns the whole transaction (every
 * part's changes, in part order) once its last part arrives, and null before. Parts may arrive in
 * any order and twice (the relay delivers at least once): a repeated part is ignored. A transaction
 * that never completes (its other parts were pruned, or are for a cube generation no one serves) is
 * dropped after `maxAgeMs`; the lattice's version check makes a later redelivery harmless.
 */
export class TransactionAssembler {
  private readonly pending = new Map<string, { first: number; parts: (WriteEvent | undefined)[]; received: number }>();
  private readonly maxAgeMs: number;
  private readonly maxPending: number;
  private readonly now: () => number;

  constructor(private readonly opts: AssemblerOptions = {}) {
    this.maxAgeMs = opts.maxAgeMs ?? 600_000;
    this.maxPending = opts.maxPending ?? 1_000;
    this.now = opts.now ?? Date.now;
  }

  /** Transactions waiting for parts. */
  get waiting(): number {
    return this.pending.size;
  }

  /** Adds one message; returns its whole transaction when complete, else null. */
  add(ev: WriteEvent): WriteEvent | null {
    const parts = ev.parts ?? 1;
    if (parts <= 1) return ev;
    this.expire();
    const key = `${eventTenant(ev)}|${ev.cube.toLowerCase()}|${ev.cubeId}|${ev.txId}`;
    let entry = this.pending.get(key);
    if (!entry) {
      entry = { first: this.now(), parts: new Array(parts), received: 0 };
      this.pending.set(key, entry);
      if (this.pending.size > this.maxPending) this.drop(this.pending.keys().next().value as string);
    }
    const p = ev.part ?? 0;
    if (entry.parts.length !== parts || entry.parts[p] !== undefined) return null;
    entry.parts[p] = ev;
    entry.received++;
    if (entry.received < parts) return null;
    this.pending.delete(key);
    const all = entry.parts as WriteEvent[];
    const { part: _p, parts: _n, ...header } = all[0];
    return { ...header, changes: all.flatMap((x) => x.changes) };
  }

  private expire(): void {
    const limit = this.now() - this.maxAgeMs;
    for (const [key, e] of this.pending) {
      if (e.first >= limit) break;
      this.drop(key);
    }
  }

  private drop(key: string): void {
    const e = this.pending.get(key);
    if (!e) return;
    this.pending.delete(key);
    this.opts.onDrop?.(key.split("|")[3], e.received, e.parts.length);
  }
}
