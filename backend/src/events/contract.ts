/**
 * The event contract: the topics, the shapes of the messages one write transaction publishes, and
 * how they are cut into parts and put back together. Written once here; the write pipeline builds
 * outbox rows with `outboxRows`, the store writes them as given, the relay publishes them, and
 * other instances read them with `parseWriteEvent` and `TransactionAssembler`.
 *
 * Every message is keyed by the cube's tenant and name (Kafka partition key), so one cube's
 * transactions stay in order. A transaction comes in one of two forms:
 * - verbose (at most COMPACT_MIN_CHANGES changes, a typed cell or a small spread): one message per
 *   topic with one JSON object per leaf change, member unique names included;
 * - compact (more than COMPACT_MIN_CHANGES, a large spread or a scenario copy): the transaction's
 *   header and its changes as columns (`columns`: member ids flattened row-major, values,
 *   versions; no member names), cut into parts of COMPACT_CHUNK changes, each part one message per
 *   topic carrying `part` and `parts`.
 * A transaction never mixes the forms. `parseWriteEvent` reads both and expands columns into
 * `changes`, so the assembler and replication see one shape; a consumer applies a transaction only
 * once it holds every part, so no instance ever shows half of it.
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
  /** A sandbox changed (`SandboxEvent`): instances that hold it read it again from the store. */
  sandbox: "sandbox.changed",
} as const;

/**
 * A transaction of more than this many changes is published in the compact form (changes as
 * columns, no member names, in parts of COMPACT_CHUNK); one of at most this many in the verbose
 * form (one JSON object per change, member names included, one message per topic).
 */
export const COMPACT_MIN_CHANGES = 100;

/**
 * Most leaf changes per message in the compact form: a larger transaction is published as several
 * messages per topic. A change takes about 60 bytes of JSON there (80 on the audit topic), so each
 * message stays well under Kafka's default 1 MB message limit.
 */
export const COMPACT_CHUNK = 10_000;

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

/**
 * Changed leaves as columns (the compact form): `dims` member ids per change, flattened row-major
 * into `coords` (change i is `coords[i * dims]` … `coords[i * dims + dims - 1]`).
 */
export interface CoordColumns {
  /** Member ids per change: the cube's dimension count, at least 1. */
  dims: number;
  /** Member ids, `dims` per change, change after change; length `dims × changes`. */
  coords: number[];
}

/** The changes of a compact WriteEvent: coordinates, then per change its new value (null: cleared) and version. */
export interface WriteColumns extends CoordColumns {
  values: (number | null)[];
  versions: number[];
}

/** The records of a compact AuditEvent: coordinates, then per change its old and new value (null: empty) and version. */
export interface AuditColumns extends CoordColumns {
  oldValues: (number | null)[];
  newValues: (number | null)[];
  versions: number[];
}

/** What both forms of a WriteEvent carry: the transaction's header and its part number. */
export interface WriteEventBase extends TransactionHeader, PartOf {}

/** A verbose WriteEvent: `{ …header, part, parts, changes: [{ coords, members, value, version }, …] }`. */
export interface VerboseWriteEvent extends WriteEventBase {
  changes: WriteEventChange[];
  columns?: never;
}

/** A compact WriteEvent: `{ …header, part, parts, columns: { dims, coords, values, versions } }`. */
export interface CompactWriteEvent extends WriteEventBase {
  columns: WriteColumns;
  changes?: never;
}

/**
 * Payload of `atom.write.raw`, in either form (`"columns" in ev`: compact). Without `part`/`parts`
 * the message holds the whole transaction. Read it with parseWriteEvent.
 */
export type WriteEvent = VerboseWriteEvent | CompactWriteEvent;

/** A leaf change as parseWriteEvent returns it: `members` only when the verbose form carried them. */
export interface ReceivedChange {
  coords: number[];
  members?: string[];
  /** New value; null clears the cell. */
  value: number | null;
  version: number;
}

/**
 * A WriteEvent as parseWriteEvent returns it, whichever form it came in: `{ …header, part, parts,
 * changes: [{ coords, members?, value, version }, …] }` (compact columns expanded into `changes`).
 * What TransactionAssembler takes and returns.
 */
export interface ReceivedWriteEvent extends WriteEventBase {
  changes: ReceivedChange[];
}

/** What both forms of an AuditEvent carry: the transaction's header (no loadedAt) and its part number. */
export interface AuditEventBase extends Omit<TransactionHeader, "loadedAt">, PartOf {}

/** A verbose AuditEvent: `{ …header, records: [{ members, oldValue, newValue, version }, …] }`. */
export interface VerboseAuditEvent extends AuditEventBase {
  records: { members: string[]; oldValue: number | null; newValue: number | null; version: number }[];
  columns?: never;
}

/** A compact AuditEvent: `{ …header, columns: { dims, coords, oldValues, newValues, versions } }`. */
export interface CompactAuditEvent extends AuditEventBase {
  columns: AuditColumns;
  records?: never;
}

/** Payload of `audit.log`: the audit records of (a part of) a transaction, in either form (`"columns" in ev`: compact). */
export type AuditEvent = VerboseAuditEvent | CompactAuditEvent;

/** What both forms of a CalcEvent carry. */
export interface CalcEventBase extends PartOf {
  cube: string;
  /** The tenant the cube belongs to; absent: DEFAULT_TENANT. */
  tenant?: string;
  cubeId: number;
  txId: string;
  at: number;
}

/** A verbose CalcEvent: `{ …, coords: [[id, id, …], …] }`, one array of member ids per change. */
export interface VerboseCalcEvent extends CalcEventBase {
  coords: number[][];
  columns?: never;
}

/** A compact CalcEvent: `{ …, columns: { dims, coords } }`, the member ids flattened row-major (CoordColumns). */
export interface CompactCalcEvent extends CalcEventBase {
  columns: CoordColumns;
  coords?: never;
}

/** Payload of `atom.calc.trigger`: the leaf coordinates (a part of) a transaction changed, in either form (`"columns" in ev`: compact). */
export type CalcEvent = VerboseCalcEvent | CompactCalcEvent;

/**
 * The outbox rows of one committed transaction, keyed by the cube's tenant and name: per part, one
 * row on each topic of TOPICS (write, calc, audit, in that order). At most COMPACT_MIN_CHANGES
 * changes: one part in the verbose form (VerboseWriteEvent, VerboseCalcEvent, VerboseAuditEvent);
 * more: the compact form (CompactWriteEvent, …) in parts of COMPACT_CHUNK changes. JSON has no NaN
 * or Infinity: values are finite numbers or null.
 * @throws Error when a change of a verbose transaction has no `members`.
 */
export function outboxRows(header: TransactionHeader, changes: readonly CommittedChange[]): NewOutboxRow[] {
  return [...outboxRowsLazily(header, changes)];
}

/**
 * The rows of {@link outboxRows}, made one message at a time as the caller takes them, so that a
 * large transaction's events are written part by part between database statements instead of
 * holding the event loop while all of them are made first.
 * @throws as outboxRows, when the first row is taken.
 */
export function* outboxRowsLazily(header: TransactionHeader, changes: readonly CommittedChange[]): Generator<NewOutboxRow> {
  const { cube, cubeId, loadedAt, txId, instanceId, user, at } = header;
  const tenant = eventTenant(header);
  const key = messageKey(tenant, cube);
  const rows = (write: WriteEvent, calc: CalcEvent, audit: AuditEvent): NewOutboxRow[] => [
    { topic: TOPICS.write, key, payload: JSON.stringify(write) },
    { topic: TOPICS.calc, key, payload: JSON.stringify(calc) },
    { topic: TOPICS.audit, key, payload: JSON.stringify(audit) },
  ];
  if (changes.length <= COMPACT_MIN_CHANGES) {
    const ofTx = { cube, tenant, cubeId, txId, at, part: 0, parts: 1 };
    const names = changes.map((c, i) => {
      if (!c.members) throw new Error(`outboxRows: changes[${i}] has no member names (a transaction of at most ${COMPACT_MIN_CHANGES} changes names them)`);
      return c.members;
    });
    yield* rows(
      { ...ofTx, loadedAt, instanceId, user, changes: changes.map((c, i) => ({ coords: c.coords, members: names[i], value: c.value, version: c.version })) },
      { ...ofTx, coords: changes.map((c) => c.coords) },
      { ...ofTx, instanceId, user, records: changes.map((c, i) => ({ members: names[i], oldValue: c.oldValue, newValue: c.value, version: c.version })) },
    );
    return;
  }
  const dims = changes[0].coords.length; // every change of one cube has its dimension count
  const parts = Math.ceil(changes.length / COMPACT_CHUNK);
  for (let p = 0; p < parts; p++) {
    const part = changes.slice(p * COMPACT_CHUNK, (p + 1) * COMPACT_CHUNK);
    const ofPart = { cube, tenant, cubeId, txId, at, part: p, parts };
    // Each column is written as JSON once and shared by the messages that carry it.
    const coords = JSON.stringify(part.flatMap((c) => c.coords));
    const values = JSON.stringify(part.map((c) => c.value));
    const versions = JSON.stringify(part.map((c) => c.version));
    const oldValues = JSON.stringify(part.map((c) => c.oldValue));
    const write: Omit<CompactWriteEvent, "columns"> = { ...ofPart, loadedAt, instanceId, user };
    const calc: Omit<CompactCalcEvent, "columns"> = { ...ofPart };
    const audit: Omit<CompactAuditEvent, "columns"> = { ...ofPart, instanceId, user };
    yield { topic: TOPICS.write, key, payload: withColumns(write, { dims: String(dims), coords, values, versions }) };
    yield { topic: TOPICS.calc, key, payload: withColumns(calc, { dims: String(dims), coords }) };
    yield { topic: TOPICS.audit, key, payload: withColumns(audit, { dims: String(dims), coords, oldValues, newValues: values, versions }) };
  }
}

/** The JSON of `header` with a `columns` object of the given fields, each already JSON text. */
function withColumns(header: object, columns: Record<string, string>): string {
  const fields = Object.entries(columns).map(([name, json]) => `${JSON.stringify(name)}:${json}`);
  return `${JSON.stringify(header).slice(0, -1)},"columns":{${fields.join(",")}}}`;
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
 * Payload of `sandbox.changed`, keyed by the cube's tenant and name: a sandbox of the cube took
 * writes, was shared, committed or discarded. Like SecurityEvent it names the change only: other
 * instances that hold the sandbox read it from the store (which holds it since the same
 * transaction), so a lost or repeated message never leaves them with wrong values.
 */
export interface SandboxEvent {
  cube: string;
  /** The tenant the cube belongs to; absent: DEFAULT_TENANT. */
  tenant?: string;
  cubeId: number;
  /** When the cube was loaded (ms): with cubeId, the generation of the cube. */
  loadedAt: number;
  sandboxId: string;
  /** write, share, commit or discard. */
  action: string;
  /** The backend instance that made the change. */
  instanceId: string;
}

/** The outbox row of a sandbox change: one message on TOPICS.sandbox keyed by the cube's tenant and name. */
export function sandboxOutboxRow(ev: SandboxEvent): NewOutboxRow {
  return { topic: TOPICS.sandbox, key: messageKey(eventTenant(ev), ev.cube), payload: JSON.stringify(ev) };
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

/** Parses and checks a SandboxEvent. @throws Error naming what is missing. */
export function parseSandboxEvent(json: string): SandboxEvent {
  return parseCubeEvent<SandboxEvent>(json, "sandbox event", { sandboxId: isString, action: isString, instanceId: isString });
}

/**
 * Parses and checks a WriteEvent of either form and returns it with its changes as an array
 * (ReceivedWriteEvent): compact columns are expanded into `changes` (without member names), so
 * consumers see one shape. The columns are checked strictly: `dims` a positive integer, `coords`
 * `dims` non-negative integers per value, `versions` one number per value, every value a finite
 * number or null.
 * @throws Error naming the missing or wrong field.
 */
export function parseWriteEvent(json: string): ReceivedWriteEvent {
  const ev = parseCubeEvent<Record<string, unknown> & WriteEventBase>(json, "write event", { user: isString, at: isNumber });
  if (ev.parts !== undefined || ev.part !== undefined) {
    const { part, parts } = ev;
    if (!Number.isInteger(parts) || !Number.isInteger(part) || parts! < 1 || part! < 0 || part! >= parts!) {
      throw new Error(`not a write event: part ${part} of ${parts} is not a part number from 0 below a count of at least 1`);
    }
    if (parts! > 1 && typeof ev.txId !== "string") throw new Error("not a write event: a transaction in parts needs its txId");
  }
  const { changes, columns, ...header } = ev;
  if (columns !== undefined) {
    if (changes !== undefined) throw new Error("not a write event: has both changes and columns");
    return { ...header, changes: expandColumns(columns) };
  }
  if (!Array.isArray(changes)) throw new Error("not a write event: needs changes or columns");
  for (const c of changes as ReceivedChange[]) {
    if (!Array.isArray(c.coords) || typeof c.version !== "number" || (c.value !== null && typeof c.value !== "number")) {
      throw new Error("not a write event: a change needs coords, value and version");
    }
  }
  return { ...header, changes: changes as ReceivedChange[] };
}

/** Checks a compact WriteEvent's `columns` (WriteColumns) and expands them into one change per value. @throws Error naming the bad field. */
function expandColumns(columns: unknown): ReceivedChange[] {
  const bad = (what: string) => new Error(`not a write event: columns.${what}`);
  if (typeof columns !== "object" || columns === null || Array.isArray(columns)) throw new Error("not a write event: columns is not an object");
  const { dims, coords, values, versions } = columns as Record<string, unknown>;
  if (!Number.isInteger(dims) || (dims as number) < 1) throw bad(`dims ${JSON.stringify(dims)} is not a positive integer`);
  if (!Array.isArray(values)) throw bad("values is not an array");
  if (!Array.isArray(coords) || coords.length !== (dims as number) * values.length) {
    throw bad(`coords needs dims × values (${(dims as number) * values.length}) member ids`);
  }
  if (!Array.isArray(versions) || versions.length !== values.length) throw bad(`versions needs one version per value (${values.length})`);
  const c = coords.findIndex((x) => !Number.isInteger(x) || (x as number) < 0);
  if (c >= 0) throw bad(`coords[${c}] ${JSON.stringify(coords[c])} is not a non-negative integer`);
  const v = values.findIndex((x) => x !== null && !(typeof x === "number" && Number.isFinite(x)));
  if (v >= 0) throw bad(`values[${v}] ${JSON.stringify(values[v])} is not a finite number or null`);
  const n = versions.findIndex((x) => typeof x !== "number");
  if (n >= 0) throw bad(`versions[${n}] ${JSON.stringify(versions[n])} is not a number`);
  const d = dims as number;
  return values.map((value, i) => ({ coords: (coords as number[]).slice(i * d, (i + 1) * d), value: value as number | null, version: versions[i] as number }));
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
  private readonly pending = new Map<string, { first: number; parts: (ReceivedWriteEvent | undefined)[]; received: number }>();
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
  add(ev: ReceivedWriteEvent): ReceivedWriteEvent | null {
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
    const all = entry.parts as ReceivedWriteEvent[];
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
