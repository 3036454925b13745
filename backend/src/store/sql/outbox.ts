/**
 * The transactional outbox: rows written in a write's transaction (`insertOutboxRows`), claimed
 * under a lease by a relay, marked relayed once the bus took them, and pruned later.
 */
import type { SqlRunner } from "../driver";
import type { NewOutboxRow, OutboxRow } from "../types";

/** Most rows, and payload characters, per INSERT of outbox rows (a statement stays short on PGlite). */
const INSERT_BATCH = 500;
const INSERT_BATCH_CHARS = 2_000_000;

/**
 * Writes outbox rows as given (topic, key, JSON payload text, stored as text: migration 006), in
 * order, inside the caller's transaction, at most INSERT_BATCH rows or INSERT_BATCH_CHARS payload
 * characters (or one row) per statement. `rows` may be made lazily (events/contract.ts
 * `outboxRowsLazily`): it is read one statement's rows at a time.
 * @throws the database error, or what taking a row threw; the caller's transaction then rolls back.
 */
export async function insertOutboxRows(db: SqlRunner, rows: Iterable<NewOutboxRow>): Promise<void> {
  const it = rows[Symbol.iterator]();
  let next = it.next();
  while (!next.done) {
    const batch: NewOutboxRow[] = [next.value];
    let chars = next.value.payload.length;
    next = it.next();
    while (!next.done && batch.length < INSERT_BATCH && chars + next.value.payload.length <= INSERT_BATCH_CHARS) {
      chars += next.value.payload.length;
      batch.push(next.value);
      next = it.next();
    }
    // One VALUES row per outbox row, each field its own text parameter (no array literal to escape:
    // payloads are megabytes); ids follow the VALUES order.
    const values = batch.map((_, i) => `($${3 * i + 1}, $${3 * i + 2}, $${3 * i + 3})`).join(", ");
    await db.query(
      `INSERT INTO outbox (topic, key, payload) VALUES ${values}`,
      batch.flatMap((r) => [r.topic, r.key, r.payload]),
    );
  }
}

/**
 * Claims up to `limit` outbox rows not yet relayed and not leased by another live relay, for
 * `leaseMs` (FOR UPDATE SKIP LOCKED: concurrent relays of several instances never claim one row
 * together), oldest first. An expired lease (a relay that died) makes its rows claimable again.
 */
export async function claimOutbox(db: SqlRunner, relayId: string, limit: number, leaseMs: number): Promise<OutboxRow[]> {
  const rows = await db.query<{ id: unknown; topic: string; key: string; payload: string }>(
    `UPDATE outbox AS o SET claimed_by = $1, claimed_until = now() + make_interval(secs => $3::float8 / 1000)
     FROM (SELECT id FROM outbox
           WHERE relayed_at IS NULL AND (claimed_until IS NULL OR claimed_until < now())
           ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) AS c
     WHERE o.id = c.id
     RETURNING o.id::text AS id, o.topic, o.key, o.payload`,
    [relayId, limit, leaseMs],
  );
  return rows
    .map((r) => ({ id: Number(r.id), topic: r.topic, key: r.key, payload: r.payload }))
    .sort((a, b) => a.id - b.id);
}

/** Marks outbox rows relayed (the bus acknowledged them). */
export async function markOutboxRelayed(db: SqlRunner, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query("UPDATE outbox SET relayed_at = now(), claimed_until = NULL WHERE id = ANY($1::bigint[])", [
    `{${ids.join(",")}}`,
  ]);
}

/** Gives claimed outbox rows back at once (the bus refused them), so that any relay may retry. */
export async function releaseOutbox(db: SqlRunner, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE id = ANY($1::bigint[]) AND relayed_at IS NULL",
    [`{${ids.join(",")}}`],
  );
}

/** Deletes outbox rows relayed more than `olderThanMs` ago; resolves to how many. */
export async function pruneOutbox(db: SqlRunner, olderThanMs: number): Promise<number> {
  const rows = await db.query<{ n: unknown }>(
    `WITH d AS (DELETE FROM outbox WHERE relayed_at < now() - make_interval(secs => $1::float8 / 1000) RETURNING 1)
     SELECT count(*)::int AS n FROM d`,
    [olderThanMs],
  );
  return Number(rows[0].n);
}

/** Outbox rows not yet relayed. */
export async function pendingOutboxCount(db: SqlRunner): Promise<number> {
  const [{ n }] = await db.query<{ n: unknown }>("SELECT count(*)::int AS n FROM outbox WHERE relayed_at IS NULL");
  return Number(n);
}
