/**
 * Sandboxes (migration 008): create, list, share, read a sandbox's cells, commit sandbox writes
 * (values, versions, audit records and outbox rows in one transaction), mark one committed, delete
 * one. The rules (who may do what, conflicts with the base) are the domain's (domain/sandboxes.ts);
 * the store checks only what a concurrent writer could break: a sandbox cell's version.
 */
import type { SqlDriver, SqlRunner } from "../driver";
import type {
  CommitResult,
  NewOutboxRow,
  SandboxShareAccess,
  SandboxWrite,
  StoredAuditRecord,
  StoredSandbox,
  StoredSandboxCell,
  StoredTransaction,
  TransactionChanges,
  TransactionInfo,
} from "../types";
import { epochMs, intArrayLiteral, toNumber, valueOrNull } from "./codecs";
import { commitDecisions } from "../../writes/conflicts";
import { nextVersions } from "./commit-rows";
import { type AuditRow, toAuditRecord } from "./audit";
import { insertOutboxRows } from "./outbox";
import { getScopedTransaction, listScopedTransactions, type TransactionScope } from "./transactions";

/** Cells per statement when sandbox cells are read or written. */
const BATCH = 10_000;

type SandboxRow = {
  id: string;
  cube_id: unknown;
  name: string;
  owner: string;
  created_at: unknown;
  state: string;
  committed_tx: string | null;
  committed_at: unknown;
  shares: string | null;
  cells: unknown;
};

const SANDBOX_COLUMNS = `s.id, s.cube_id, s.name, s.owner, ${epochMs("s.created_at")} AS created_at, s.state, s.committed_tx,
  ${epochMs("s.committed_at")} AS committed_at,
  (SELECT string_agg(h.user_name || (CASE WHEN h.can_write THEN '=w' ELSE '=r' END), chr(10) ORDER BY h.user_name)
   FROM sandbox_share AS h WHERE h.sandbox_id = s.id) AS shares,
  (SELECT count(*) FROM sandbox_cell AS c WHERE c.sandbox_id = s.id) AS cells`;

function toSandbox(r: SandboxRow): StoredSandbox {
  return {
    id: r.id,
    cubeId: Number(r.cube_id),
    name: r.name,
    owner: r.owner,
    createdAt: Number(r.created_at),
    state: r.state === "committed" ? "committed" : "open",
    committedTx: r.committed_tx,
    committedAt: toNumber(r.committed_at),
    shares: r.shares
      ? r.shares.split("\n").map((s) => ({ user: s.slice(0, -2), canWrite: s.endsWith("=w") }))
      : [],
    cells: Number(r.cells),
  };
}

/** Creates an open sandbox of cube `cubeId` owned by `owner`. @throws the database error (an unknown cube, a duplicate id). */
export async function createSandbox(db: SqlRunner, cubeId: number, id: string, name: string, owner: string): Promise<StoredSandbox> {
  await db.query("INSERT INTO sandbox (id, cube_id, name, owner) VALUES ($1, $2, $3, $4)", [id, cubeId, name, owner]);
  return (await getSandbox(db, id))!;
}

/** Sandbox `id` with its shares and its number of changed cells, or null. */
export async function getSandbox(db: SqlRunner, id: string): Promise<StoredSandbox | null> {
  const rows = await db.query<SandboxRow>(`SELECT ${SANDBOX_COLUMNS} FROM sandbox AS s WHERE s.id = $1`, [id]);
  return rows.length > 0 ? toSandbox(rows[0]) : null;
}

/** The sandboxes of cube `cubeId` that `user` owns or that are shared with `user`, newest first. */
export async function listSandboxes(db: SqlRunner, cubeId: number, user: string): Promise<StoredSandbox[]> {
  const rows = await db.query<SandboxRow>(
    `SELECT ${SANDBOX_COLUMNS} FROM sandbox AS s
     WHERE s.cube_id = $1 AND (s.owner = $2 OR EXISTS (SELECT 1 FROM sandbox_share AS h WHERE h.sandbox_id = s.id AND h.user_name = $2))
     ORDER BY s.created_at DESC, s.id`,
    [cubeId, user],
  );
  return rows.map(toSandbox);
}

/** Sets `user`'s access to sandbox `id` (none removes the share), with `event`'s outbox row in the same transaction. */
export async function shareSandbox(db: SqlDriver, id: string, user: string, access: SandboxShareAccess, event?: NewOutboxRow): Promise<void> {
  await db.transaction(async (tx) => {
    if (access === "none") {
      await tx.query("DELETE FROM sandbox_share WHERE sandbox_id = $1 AND user_name = $2", [id, user]);
    } else {
      await tx.query(
        `INSERT INTO sandbox_share (sandbox_id, user_name, can_write) VALUES ($1, $2, $3)
         ON CONFLICT (sandbox_id, user_name) DO UPDATE SET can_write = EXCLUDED.can_write`,
        [id, user, access === "write"],
      );
    }
    if (event) await insertOutboxRows(tx, [event]);
  });
}

type CellRow = { coords: number[]; value: unknown; version: unknown; base_version: unknown; updated_by: string; updated_at: unknown };

/** The leaves sandbox `id` changed, in key order. */
export async function sandboxCells(db: SqlRunner, id: string): Promise<StoredSandboxCell[]> {
  const rows = await db.query<CellRow>(
    `SELECT coords, value, version::text AS version, base_version::text AS base_version, updated_by, ${epochMs("updated_at")} AS updated_at
     FROM sandbox_cell WHERE sandbox_id = $1 ORDER BY coords`,
    [id],
  );
  return rows.map((r) => ({
    coords: r.coords,
    value: toNumber(r.value),
    version: Number(r.version),
    baseVersion: Number(r.base_version),
    updatedBy: r.updated_by,
    updatedAt: Number(r.updated_at),
  }));
}

/**
 * Commits sandbox writes as transaction `txId` of `user`, in one database transaction: each write
 * applies when the sandbox cell's stored version is still `expectedVersion` (0: the sandbox has
 * not changed the cell), all of a `group` or none; an applied write gets a new version from
 * `cell_version_seq`, its sandbox cell (keeping the base version of its first change) and an audit
 * record; the transaction gets a `sandbox_tx` row (`info`: kind, what was asked for, the undone
 * transaction), and `outbox(at)` rows when any applied.
 * @returns one result per write, in order, and the commit time (ms).
 * @throws Error when the sandbox is not stored or not open (nothing is written).
 */
export async function commitSandboxWrites(
  db: SqlDriver,
  id: string,
  txId: string,
  user: string,
  writes: readonly SandboxWrite[],
  info: TransactionInfo,
  outbox?: (at: number, versions: number[]) => Iterable<NewOutboxRow>,
): Promise<{ results: CommitResult[]; at: number }> {
  return db.transaction(async (tx) => {
    const head = await tx.query<{ state: string; at: unknown }>(`SELECT state, ${epochMs("now()")} AS at FROM sandbox WHERE id = $1 FOR UPDATE`, [id]);
    if (head.length === 0) throw new Error(`sandbox ${id} is not stored`);
    if (head[0].state !== "open") throw new Error(`sandbox ${id} is ${head[0].state}: it takes no more writes`);
    const at = Number(head[0].at);
    const keys = writes.map((w, i) => intArrayLiteral(w.coords, `writes[${i}].coords`));
    const current = new Map<string, CellRow>();
    for (let s = 0; s < keys.length; s += BATCH) {
      const rows = await tx.query<CellRow & { k: string }>(
        `SELECT c.coords::text AS k, c.value, c.version::text AS version, c.updated_by, ${epochMs("c.updated_at")} AS updated_at
         FROM sandbox_cell AS c WHERE c.sandbox_id = $1 AND c.coords IN (SELECT k::int[] FROM unnest($2::text[]) AS u(k))`,
        [id, keys.slice(s, s + BATCH)],
      );
      for (const r of rows) current.set(r.k, r);
    }
    const storedVersion = (i: number) => Number(current.get(keys[i])?.version ?? 0);
    // A write applies when its cell's stored version is the one it expects; a group whole or not at all.
    const decisions = commitDecisions(
      writes.map((w) => ({ baseVersion: w.expectedVersion, group: w.group })),
      storedVersion,
    );
    const results: CommitResult[] = decisions.map((d, i) => {
      if (d.ok) return { ok: true, version: 0 };
      const c = current.get(keys[i]);
      return {
        ok: false,
        ...(d.groupFailed ? { groupFailed: true } : {}),
        currentValue: c ? toNumber(c.value) : null,
        currentVersion: storedVersion(i),
        updatedBy: c?.updated_by ?? null,
        updatedAt: c ? Number(c.updated_at) : null,
      };
    });
    const applied = writes.flatMap((_, i) => (results[i].ok ? [i] : []));
    if (applied.length === 0) return { results, at };
    const versions = await nextVersions(tx, applied.length, db.kind);
    applied.forEach((i, k) => {
      results[i] = { ok: true, version: versions[k] };
    });
    for (let s = 0; s < applied.length; s += BATCH) {
      const part = applied.slice(s, s + BATCH);
      const params = [
        id,
        part.map((i) => keys[i]),
        part.map((i) => valueOrNull(writes[i].newValue)),
        part.map((_, k) => String(versions[s + k])),
        part.map((i) => String(writes[i].baseVersion)),
        part.map((i) => valueOrNull(writes[i].oldValue)),
      ];
      await tx.query(
        `INSERT INTO sandbox_cell (sandbox_id, coords, value, version, base_version, updated_by, updated_at)
         SELECT $1, u.k::int[], u.v, u.ver, u.bv, $6, now() FROM unnest($2::text[], $3::float8[], $4::bigint[], $5::bigint[]) AS u(k, v, ver, bv)
         ON CONFLICT (sandbox_id, coords) DO UPDATE
           SET value = EXCLUDED.value, version = EXCLUDED.version, updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at`,
        [...params.slice(0, 5), user],
      );
      await tx.query(
        `INSERT INTO sandbox_audit (sandbox_id, tx_id, coords, old_value, new_value, version)
         SELECT $1, $2, u.k::int[], u.o, u.v, u.ver FROM unnest($3::text[], $4::float8[], $5::float8[], $6::bigint[]) AS u(k, o, v, ver)`,
        [id, txId, params[1], params[5], params[2], params[3]],
      );
    }
    await tx.query("INSERT INTO sandbox_tx (tx_id, sandbox_id, user_name, at, leaves, kind, detail, undoes) VALUES ($1, $2, $3, now(), $4, $5, $6, $7)", [
      txId,
      id,
      user,
      applied.length,
      info.kind,
      info.detail.slice(0, 2000),
      info.undoes ?? null,
    ]);
    if (outbox) await insertOutboxRows(tx, outbox(at, versions));
    return { results, at };
  });
}

/**
 * Marks sandbox `id` committed by base transaction `txId` (null: nothing was applied to the base).
 * @throws Error when it is not open (another commit won): the caller's transaction rolls back.
 */
export async function markSandboxCommitted(db: SqlRunner, id: string, txId: string | null): Promise<void> {
  const rows = await db.query<{ id: string }>(
    "UPDATE sandbox SET state = 'committed', committed_tx = $2, committed_at = now() WHERE id = $1 AND state = 'open' RETURNING id",
    [id, txId],
  );
  if (rows.length === 0) throw new Error(`sandbox ${id} is not open: it was committed or discarded meanwhile`);
}

/** Deletes sandbox `id` with its cells, shares and audit records, with `event`'s outbox row; true when it existed. */
export async function deleteSandbox(db: SqlDriver, id: string, event?: NewOutboxRow): Promise<boolean> {
  return db.transaction(async (tx) => {
    const rows = await tx.query<{ id: string }>("DELETE FROM sandbox WHERE id = $1 RETURNING id", [id]);
    if (event && rows.length > 0) await insertOutboxRows(tx, [event]);
    return rows.length > 0;
  });
}

/** Marks sandbox `id` committed with nothing applied to the base, with `event`'s outbox row. @throws Error when it is not open. */
export async function closeSandbox(db: SqlDriver, id: string, event?: NewOutboxRow): Promise<void> {
  await db.transaction(async (tx) => {
    await markSandboxCommitted(tx, id, null);
    if (event) await insertOutboxRows(tx, [event]);
  });
}

const SANDBOX: TransactionScope = { table: "sandbox_tx", key: "sandbox_id" };

/** Transactions of sandbox `id`, newest first, at most `limit`: `user`'s, or everyone's when null. */
export function listSandboxTransactions(db: SqlRunner, id: string, user: string | null, limit: number): Promise<StoredTransaction[]> {
  return listScopedTransactions(db, SANDBOX, id, user, limit);
}

/** Transaction `txId` of sandbox `id`, or null. */
export function getSandboxTransaction(db: SqlRunner, id: string, txId: string): Promise<StoredTransaction | null> {
  return getScopedTransaction(db, SANDBOX, id, txId);
}

/** The leaf changes transaction `txId` of sandbox `id` made, as columns in commit order (see TransactionChanges). */
export async function sandboxTransactionChanges(db: SqlRunner, id: string, txId: string): Promise<TransactionChanges> {
  const rows = await db.query<{ coords: number[]; old_value: unknown; new_value: unknown; version: unknown }>(
    "SELECT coords, old_value, new_value, version::text AS version FROM sandbox_audit WHERE tx_id = $2 AND sandbox_id = $1 ORDER BY id",
    [id, txId],
  );
  const dims = rows.length > 0 ? rows[0].coords.length : 0;
  const n = rows.length;
  const out: TransactionChanges = { count: n, dims, coords: new Int32Array(n * dims), oldValues: new Float64Array(n), newValues: new Float64Array(n), versions: new Float64Array(n) };
  rows.forEach((r, k) => {
    out.coords.set(r.coords, k * dims);
    out.oldValues[k] = toNumber(r.old_value) ?? Number.NaN;
    out.newValues[k] = toNumber(r.new_value) ?? Number.NaN;
    out.versions[k] = Number(r.version);
  });
  return out;
}

/** The audit records of one leaf in sandbox `id`, newest first, at most `limit`, each with its transaction's author, time and kind. */
export async function sandboxCellHistory(db: SqlRunner, id: string, coords: number[], limit: number): Promise<StoredAuditRecord[]> {
  const rows = await db.query<AuditRow>(
    `SELECT a.tx_id, t.user_name, ${epochMs("t.at")} AS at, a.old_value, a.new_value, a.version::text AS version, NULL::text[] AS members, t.kind, t.undoes
     FROM sandbox_audit AS a JOIN sandbox_tx AS t ON t.tx_id = a.tx_id
     WHERE a.sandbox_id = $1 AND a.coords = $2::int[]
     ORDER BY a.id DESC LIMIT $3`,
    [id, intArrayLiteral(coords, "coords"), limit],
  );
  return rows.map(toAuditRecord);
}
