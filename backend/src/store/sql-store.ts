/**
 * The one implementation of `Store`, over a `SqlDriver`: the same SQL runs on embedded PGlite and
 * on a PostgreSQL server. Schema: `migrations/*.sql`. Each job is a module of `sql/`: codecs,
 * cubes (save, load), commit (writes, audit records, outbox rows), transactions (list, changes),
 * audit (history, stored states),
 * comments, outbox (claim, mark, prune), security (rights documents and their audit log), sandboxes.
 */
import type { CubeDef, LeafCells } from "../lattice";
import type { SqlDriver, SqlRunner } from "./driver";
import { cellHistory, readCells } from "./sql/audit";
import { addComment, listComments } from "./sql/comments";
import { commitWrites } from "./sql/commit";
import { BULK_MIN_WRITES } from "./sql/commit-bulk";
import { cubeSourceOf, cubeState, listCubes, loadCube, saveCube } from "./sql/cubes";
import { getTransaction, listTransactions, transactionChanges } from "./sql/transactions";
import { claimOutbox, markOutboxRelayed, pendingOutboxCount, pruneOutbox, releaseOutbox } from "./sql/outbox";
import {
  closeSandbox,
  commitSandboxWrites,
  createSandbox,
  deleteSandbox,
  getSandbox,
  getSandboxTransaction,
  listSandboxes,
  listSandboxTransactions,
  sandboxCellHistory,
  sandboxCells,
  sandboxTransactionChanges,
  shareSandbox,
} from "./sql/sandboxes";
import { changeSecurity, loadSecurity, securityAudit } from "./sql/security";
import type { SecurityModel, VersionedSecurity } from "../security/model";
import type {
  CommitOptions,
  CommitResult,
  NewOutboxRow,
  OutboxRow,
  PendingWrite,
  SecurityAuditRecord,
  SecurityChangeResult,
  ProgressFn,
  SandboxShareAccess,
  SandboxWrite,
  Store,
  StoredSandbox,
  StoredSandboxCell,
  StoredAuditRecord,
  StoredCellState,
  StoredComment,
  StoredCube,
  StoredTransaction,
  TransactionChanges,
  TransactionInfo,
} from "./types";

export { copyChunks } from "./sql/codecs";

/** Batch sizes of `SqlStore`; the defaults suit production, tests shrink them to exercise batching. */
export interface SqlStoreOptions {
  /** Rows per INSERT statement in `saveCube`. Default 10,000. */
  saveBatchRows?: number;
  /** Rows per page in `loadCube`. Default 50,000. */
  loadPageRows?: number;
  /** Distinct cells per statement in `commitWrites` (rows per COPY chunk on its bulk path). Default 10,000. */
  commitBatchCells?: number;
  /**
   * Fewest writes of a batch of distinct cells that `commitWrites` commits on its bulk path (COPY
   * and set-based statements, sql/commit-bulk.ts). Default BULK_MIN_WRITES (256); tests set 1 or a
   * huge number to force one path.
   */
  commitBulkMinWrites?: number;
}

/**
 * `Store` over a migrated database reached through `driver` (see `openStore`, which opens the
 * driver and runs the migrations). Safe for concurrent use: every multi-statement operation runs in
 * its own transaction. The contract of each method is on `Store` and on the function of `sql/` it
 * calls.
 */
export class SqlStore implements Store {
  #closed = false;
  readonly #saveBatchRows: number;
  readonly #loadPageRows: number;
  readonly #commitBatchCells: number;
  readonly #commitBulkMinWrites: number;
  /**
   * Commits that took the bulk path, and bulk attempts that found a conflict and went back to the
   * row path (for tests and benchmarks).
   */
  readonly stats = { bulkCommits: 0, bulkFallbacks: 0 };

  /**
   * @param driver an open driver whose database has the current schema (`runMigrations`); the store
   * owns it and closes it in `close()`.
   * @param options batch sizes, each a positive integer.
   * @throws Error naming the option that is not a positive integer.
   */
  constructor(
    private readonly driver: SqlDriver,
    options: SqlStoreOptions = {},
  ) {
    const size = (v: number | undefined, fallback: number, what: string) => {
      if (v === undefined) return fallback;
      if (!Number.isInteger(v) || v < 1) throw new Error(`${what} must be a positive integer, got ${v}`);
      return v;
    };
    this.#saveBatchRows = size(options.saveBatchRows, 10_000, "saveBatchRows");
    this.#loadPageRows = size(options.loadPageRows, 50_000, "loadPageRows");
    this.#commitBatchCells = size(options.commitBatchCells, 10_000, "commitBatchCells");
    this.#commitBulkMinWrites = size(options.commitBulkMinWrites, BULK_MIN_WRITES, "commitBulkMinWrites");
  }

  listCubes(): Promise<{ id: number; name: string; tenant: string; loadedAt: number }[]> {
    return listCubes(this.driver);
  }

  saveCube(def: CubeDef, cells: LeafCells, onProgress?: ProgressFn, security?: SecurityModel | null, tenant?: string): Promise<number> {
    return saveCube(this.driver, this.#saveBatchRows, def, cells, onProgress, security ?? null, tenant);
  }

  loadCube(name: string, onProgress?: ProgressFn, tenant?: string): Promise<StoredCube> {
    return loadCube(this.driver, this.#loadPageRows, name, onProgress, tenant);
  }

  cubeState(name: string, tenant?: string) {
    return cubeState(this.driver, name, tenant);
  }

  cubeSource(cubeId: number): Promise<string> {
    return this.driver.transaction((tx) => cubeSourceOf(tx, cubeId));
  }

  commitWrites(
    cubeId: number,
    txId: string,
    user: string,
    writes: PendingWrite[],
    options: CommitOptions = {},
  ): Promise<{ results: CommitResult[]; at: number }> {
    return commitWrites(this.driver, { batchCells: this.#commitBatchCells, bulkMinWrites: this.#commitBulkMinWrites, stats: this.stats }, cubeId, txId, user, writes, options);
  }

  listTransactions(cubeId: number, user: string | null, limit: number): Promise<StoredTransaction[]> {
    return listTransactions(this.driver, cubeId, user, limit);
  }

  getTransaction(cubeId: number, txId: string): Promise<StoredTransaction | null> {
    return getTransaction(this.driver, cubeId, txId);
  }

  transactionChanges(cubeId: number, txId: string): Promise<TransactionChanges> {
    return transactionChanges(this.driver, cubeId, txId);
  }

  cellHistory(cubeId: number, coords: number[], limit: number): Promise<StoredAuditRecord[]> {
    return cellHistory(this.driver, cubeId, coords, limit);
  }

  addComment(cubeId: number, coords: number[], members: string[], text: string, author: string): Promise<StoredComment> {
    return addComment(this.driver, cubeId, coords, members, text, author);
  }

  listComments(cubeId: number): Promise<StoredComment[]> {
    return listComments(this.driver, cubeId);
  }

  loadSecurity(cubeId: number): Promise<VersionedSecurity | null> {
    return loadSecurity(this.driver, cubeId);
  }

  changeSecurity(
    cubeId: number,
    actor: string,
    change: (current: SecurityModel | null) => { model: SecurityModel; action: string; detail: unknown; summary: string },
    outbox: (committed: { version: number; at: number }) => NewOutboxRow[],
  ): Promise<SecurityChangeResult> {
    return changeSecurity(this.driver, cubeId, actor, change, outbox);
  }

  securityAudit(cubeId: number, limit: number): Promise<SecurityAuditRecord[]> {
    return securityAudit(this.driver, cubeId, limit);
  }

  claimOutbox(relayId: string, limit: number, leaseMs: number): Promise<OutboxRow[]> {
    return claimOutbox(this.driver, relayId, limit, leaseMs);
  }

  markOutboxRelayed(ids: number[]): Promise<void> {
    return markOutboxRelayed(this.driver, ids);
  }

  releaseOutbox(ids: number[]): Promise<void> {
    return releaseOutbox(this.driver, ids);
  }

  pruneOutbox(olderThanMs: number): Promise<number> {
    return pruneOutbox(this.driver, olderThanMs);
  }

  pendingOutboxCount(): Promise<number> {
    return pendingOutboxCount(this.driver);
  }

  readCells(cubeId: number, coords: number[][]): Promise<StoredCellState[]> {
    return readCells(this.driver, cubeId, coords);
  }

  createSandbox(cubeId: number, id: string, name: string, owner: string): Promise<StoredSandbox> {
    return createSandbox(this.driver, cubeId, id, name, owner);
  }

  getSandbox(id: string): Promise<StoredSandbox | null> {
    return getSandbox(this.driver, id);
  }

  listSandboxes(cubeId: number, user: string): Promise<StoredSandbox[]> {
    return listSandboxes(this.driver, cubeId, user);
  }

  shareSandbox(id: string, user: string, access: SandboxShareAccess, event?: NewOutboxRow): Promise<void> {
    return shareSandbox(this.driver, id, user, access, event);
  }

  sandboxCells(id: string): Promise<StoredSandboxCell[]> {
    return sandboxCells(this.driver, id);
  }

  commitSandboxWrites(
    id: string,
    txId: string,
    user: string,
    writes: readonly SandboxWrite[],
    info: TransactionInfo,
    outbox?: (at: number, versions: number[]) => Iterable<NewOutboxRow>,
  ): Promise<{ results: CommitResult[]; at: number }> {
    return commitSandboxWrites(this.driver, id, txId, user, writes, info, outbox);
  }

  listSandboxTransactions(id: string, user: string | null, limit: number): Promise<StoredTransaction[]> {
    return listSandboxTransactions(this.driver, id, user, limit);
  }

  getSandboxTransaction(id: string, txId: string): Promise<StoredTransaction | null> {
    return getSandboxTransaction(this.driver, id, txId);
  }

  sandboxTransactionChanges(id: string, txId: string): Promise<TransactionChanges> {
    return sandboxTransactionChanges(this.driver, id, txId);
  }

  sandboxCellHistory(id: string, coords: number[], limit: number): Promise<StoredAuditRecord[]> {
    return sandboxCellHistory(this.driver, id, coords, limit);
  }

  closeSandbox(id: string, event?: NewOutboxRow): Promise<void> {
    return closeSandbox(this.driver, id, event);
  }

  deleteSandbox(id: string, event?: NewOutboxRow): Promise<boolean> {
    return deleteSandbox(this.driver, id, event);
  }

  /** Closes the database or pool. Calling it again does nothing. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.driver.close();
  }

  /** The driver, for tests and maintenance scripts. */
  get sql(): SqlRunner {
    return this.driver;
  }
}
