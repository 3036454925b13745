import type { CellsFingerprint } from "./snapshot";
import type { CellWriter, CubeDef, LeafCells } from "../lattice";
import type { SecurityModel, VersionedSecurity } from "../security/model";

/** A stored cube, as the backend rebuilds its lattice from it at start. */
export interface StoredCube {
  id: number;
  def: CubeDef;
  /** Leaf cells with their versions (`versions` always set here). */
  cells: LeafCells;
  /** Last writer of each cell written after the load, by row index into `cells`. */
  writers: Map<number, CellWriter>;
  /** When the cube was loaded, ms since the epoch. */
  loadedAt: number;
  /** The tenant the cube belongs to (common/tenants.ts). */
  tenant: string;
  /** The cube's security and its version; null for an open cube (no security section). */
  security: VersionedSecurity | null;
}

/** One leaf write to commit. `coords` are member indexes, one per dimension. */
export interface PendingWrite {
  coords: number[];
  /**
   * Unique names of the cell's members, for messages and small transactions' events; absent for the
   * leaves of a spread or copy (named from the cube only where a message or event needs them).
   */
  members?: string[];
  /** The value the writer saw as current (null when empty). */
  oldValue: number | null;
  /** The new value (null clears the cell). */
  newValue: number | null;
  /** The version the writer based the write on; the commit fails the write if the stored version differs. */
  baseVersion: number;
  /**
   * Writes sharing a group apply all or none: when one of them conflicts, none of the group is
   * applied (the leaf changes of one spread). Omitted: the write stands alone.
   */
  group?: number;
}

/** The outcome of one PendingWrite inside a commit. */
export type CommitResult =
  | { ok: true; version: number }
  | {
      ok: false;
      /** True when the write itself was current but another write of its group conflicted. */
      groupFailed?: boolean;
      /** The stored state that made it a conflict. */
      currentValue: number | null;
      currentVersion: number;
      updatedBy: string | null;
      updatedAt: number | null;
    };

/** One leaf change a commit applied, as `CommitOptions.outbox` receives it. */
export interface CommittedChange {
  coords: number[];
  /** Unique names of the cell's members, as the PendingWrite had them (absent: see PendingWrite.members). */
  members?: string[];
  /** The value before the change (null when empty). */
  oldValue: number | null;
  /** The new value (null when cleared). */
  value: number | null;
  version: number;
}

/** An outbox row to write: a topic, a partition key, and a JSON payload (text). */
export interface NewOutboxRow {
  topic: string;
  key: string;
  payload: string;
}

/** What kind of change a transaction was (write_tx.kind, migration 007). */
export type TransactionKind = "write" | "spread" | "copy" | "undo" | "sandbox";

/** What a transaction row records besides its author, time and size (see `CommitOptions.transaction`). */
export interface TransactionInfo {
  /** write: leaf writes only; spread: a write to a consolidated cell among them; copy; undo; sandbox: a sandbox's commit. */
  kind: TransactionKind;
  /** What was asked for, as a person reads it (e.g. `P spread into [Store].[USA], [Time].[1997]`); at most 2,000 characters are kept. */
  detail: string;
  /** For an undo: the id of the transaction it restored. */
  undoes?: string;
}

/** A committed transaction as `Store.listTransactions` lists it. Times are ms since the epoch. */
export interface StoredTransaction extends TransactionInfo {
  txId: string;
  user: string;
  at: number;
  /** Leaf changes it committed (its audit records). */
  leaves: number;
  /** Ids of the undo transactions that restored it, oldest first (empty: never undone). */
  undoneBy: string[];
}

/**
 * The leaf changes of one transaction, as columns in the order they were committed: change `k` is
 * the cell at `coords[k * dims .. (k + 1) * dims)`, from `oldValues[k]` to `newValues[k]` (NaN:
 * empty), given version `versions[k]`.
 */
export interface TransactionChanges {
  count: number;
  dims: number;
  coords: Int32Array;
  oldValues: Float64Array;
  newValues: Float64Array;
  versions: Float64Array;
}

/** A user's access to a sandbox through a share: none (no share), read, or read and write. */
export type SandboxShareAccess = "none" | "read" | "write";

/** A sandbox as stored (migration 008). Times are ms since the epoch. */
export interface StoredSandbox {
  id: string;
  cubeId: number;
  name: string;
  owner: string;
  createdAt: number;
  /** open: takes writes; committed: kept read-only for reference. */
  state: "open" | "committed";
  /** The base transaction that committed it (null: open, or nothing was applied). */
  committedTx: string | null;
  committedAt: number | null;
  /** The users it is shared with, by user name. */
  shares: { user: string; canWrite: boolean }[];
  /** Leaf cells it changed. */
  cells: number;
}

/** A leaf a sandbox changed: its value there (null: emptied), its version, and the base version it changed. */
export interface StoredSandboxCell {
  coords: number[];
  value: number | null;
  version: number;
  /** The base cell's version when the sandbox first changed it (0: the base had never written it). */
  baseVersion: number;
  updatedBy: string;
  updatedAt: number;
}

/** One leaf write into a sandbox (see `Store.commitSandboxWrites`). */
export interface SandboxWrite {
  coords: number[];
  /** The value before, through the sandbox (null: empty). */
  oldValue: number | null;
  /** The new value (null: empty the cell in the sandbox). */
  newValue: number | null;
  /** The sandbox cell's version the write expects (0: the sandbox has not changed the cell). */
  expectedVersion: number;
  /** The base cell's version now, kept as the sandbox cell's base version when this is its first change. */
  baseVersion: number;
  /** Writes of one group apply together or not at all (a spread's leaves). */
  group?: number;
}

/** Options of `commitWrites`. */
export interface CommitOptions {
  /** What the transaction row records (default: kind `write`, no detail). */
  transaction?: TransactionInfo;
  /**
   * The outbox rows of the transaction, made from its applied changes (in write order), the commit
   * time `at` and the stored cube's load time `loadedAt` (ms); written as given in the same
   * transaction, when at least one write applies. The store knows no event shapes: see
   * backend/src/events/contract.ts.
   */
  outbox?: (committed: { at: number; loadedAt: number; changes: CommittedChange[] }) => Iterable<NewOutboxRow>;
  /**
   * A sandbox this transaction commits: marked committed (with the transaction's id) in the same
   * database transaction; the commit fails, writing nothing, when that sandbox is no longer open.
   */
  sandboxCommitted?: string;
}

/** One outbox row claimed for relaying; `payload` is JSON text. */
export interface OutboxRow {
  id: number;
  topic: string;
  key: string;
  payload: string;
}

/** A leaf cell's stored state. */
export interface StoredCellState {
  value: number | null;
  version: number;
  updatedBy: string | null;
  /** ms since the epoch. */
  updatedAt: number | null;
}

/** A stored comment. `coords` hold member indexes of any member (leaf or consolidated). */
export interface StoredComment {
  id: number;
  coords: number[];
  members: string[];
  text: string;
  author: string;
  /** ms since the epoch. */
  createdAt: number;
}

/** One audit record of a leaf cell change. */
export interface StoredAuditRecord {
  txId: string;
  user: string;
  at: number;
  oldValue: number | null;
  newValue: number | null;
  version: number;
  /**
   * Unique names of the cell's members as the record was written, or null for records that hold
   * the member ids only (every record since migration 006): the cell's names are the cube's.
   */
  members: string[] | null;
  /** The kind of its transaction (absent for records whose transaction has no row: before migration 006). */
  kind?: TransactionKind;
  /** For a record of an undo: the transaction it undid. */
  undoes?: string;
}

/** One record of the security audit log: a change an admin made to a cube's security. */
export interface SecurityAuditRecord {
  id: number;
  /** The security version the change made. */
  version: number;
  /** The user id that made it. */
  actor: string;
  /** The operation, e.g. `set_right` (security/operations.ts SecurityChange kinds). */
  action: string;
  /** Its details, e.g. `{ group, dimension, member, right, previous }`. */
  detail: Record<string, unknown>;
  /** The change in a sentence. */
  summary: string;
  /** ms since the epoch. */
  at: number;
}

/** What `Store.changeSecurity` committed: the new model and version, the commit time (ms) and the audit record's id. */
export interface SecurityChangeResult {
  model: SecurityModel;
  version: number;
  at: number;
  auditId: number;
}

/** Progress callback for long operations: `done` of `total` units (rows). */
export type ProgressFn = (done: number, total: number) => void;

/**
 * Durable storage of cubes, cell writes, audit records and comments. One implementation serves
 * both embedded PGlite and a PostgreSQL server with the same SQL schema.
 *
 * Errors: methods reject with the database's error; `commitWrites` never half-applies.
 */
export interface Store {
  /** Names, tenants and ids of the stored cubes of every tenant. */
  listCubes(): Promise<{ id: number; name: string; tenant: string; loadedAt: number }[]>;
  /**
   * Stores a cube's definition and leaf cells, and its security (version 1; null or absent: an
   * open cube), for `tenant` (default DEFAULT_TENANT), replacing that tenant's cube of the same
   * name (its writes, audit records, comments and security are removed with it), in one
   * transaction: on failure nothing changes.
   */
  saveCube(def: CubeDef, cells: LeafCells, onProgress?: ProgressFn, security?: SecurityModel | null, tenant?: string): Promise<number>;
  /** Reads a cube of `tenant` (default DEFAULT_TENANT) back, with every committed write applied. Rejects if the cube does not exist. */
  loadCube(name: string, onProgress?: ProgressFn, tenant?: string): Promise<StoredCube>;
  /**
   * A cube of `tenant` without its cells (definition, `loaded_at`, security) and the fingerprint of
   * its stored cells, to check a snapshot against (./snapshot.ts). Rejects if the cube does not exist.
   */
  cubeState(name: string, tenant?: string): Promise<Omit<StoredCube, "cells" | "writers"> & { source: string; fingerprint: CellsFingerprint }>;
  /** Where a cube's cells are stored (snapshot.ts CUBE_SOURCE_SQL: the database and the cube's load time); "" for no such cube. */
  cubeSource(cubeId: number): Promise<string>;
  /**
   * Commits leaf writes in one transaction with one audit record each. A write whose stored version
   * is not `baseVersion` is not applied (result ok: false); the others are, each with a new version
   * from one monotonically increasing sequence. Resolves only after the commit is durable.
   */
  commitWrites(
    cubeId: number,
    txId: string,
    user: string,
    writes: PendingWrite[],
    options?: CommitOptions,
  ): Promise<{ results: CommitResult[]; at: number }>;
  /**
   * Transactions of a cube, newest first, at most `limit`: those of `user`, or of every user when
   * `user` is null.
   */
  listTransactions(cubeId: number, user: string | null, limit: number): Promise<StoredTransaction[]>;
  /** One transaction of a cube, or null when the cube has no transaction of that id. */
  getTransaction(cubeId: number, txId: string): Promise<StoredTransaction | null>;
  /** The leaf changes a transaction committed (its audit records), in commit order; empty for an unknown id. */
  transactionChanges(cubeId: number, txId: string): Promise<TransactionChanges>;
  /** Audit records of one leaf cell, newest first. */
  cellHistory(cubeId: number, coords: number[], limit: number): Promise<StoredAuditRecord[]>;
  /** Adds a comment; returns it as stored. */
  addComment(
    cubeId: number,
    coords: number[],
    members: string[],
    text: string,
    author: string,
  ): Promise<StoredComment>;
  /** All comments of a cube, newest first. */
  listComments(cubeId: number): Promise<StoredComment[]>;
  /** A cube's security and its version, or null for an open cube. */
  loadSecurity(cubeId: number): Promise<VersionedSecurity | null>;
  /**
   * Changes a cube's security atomically: `change` gets the current model (null: open) and returns
   * the next with what the audit log records; the model, its audit record and the outbox rows
   * `outbox` makes go in one transaction (see sql/security.ts). If `change` throws, nothing changes.
   */
  changeSecurity(
    cubeId: number,
    actor: string,
    change: (current: SecurityModel | null) => { model: SecurityModel; action: string; detail: unknown; summary: string },
    outbox: (committed: { version: number; at: number }) => NewOutboxRow[],
  ): Promise<SecurityChangeResult>;
  /** The security audit records of a cube, newest first. */
  securityAudit(cubeId: number, limit: number): Promise<SecurityAuditRecord[]>;
  /** Claims outbox rows for relaying (see SqlStore.claimOutbox). */
  claimOutbox(relayId: string, limit: number, leaseMs: number): Promise<OutboxRow[]>;
  /** Marks outbox rows relayed. */
  markOutboxRelayed(ids: number[]): Promise<void>;
  /** Gives claimed outbox rows back for another try. */
  releaseOutbox(ids: number[]): Promise<void>;
  /** Deletes outbox rows relayed more than `olderThanMs` ago. */
  pruneOutbox(olderThanMs: number): Promise<number>;
  /** Outbox rows not yet relayed. */
  pendingOutboxCount(): Promise<number>;
  /** Stored states of leaf cells, in the order of `coords`. */
  readCells(cubeId: number, coords: number[][]): Promise<StoredCellState[]>;
  /** Creates an open sandbox (sql/sandboxes.ts). */
  createSandbox(cubeId: number, id: string, name: string, owner: string): Promise<StoredSandbox>;
  /** Sandbox `id`, or null. */
  getSandbox(id: string): Promise<StoredSandbox | null>;
  /** The sandboxes of a cube that `user` owns or that are shared with `user`, newest first. */
  listSandboxes(cubeId: number, user: string): Promise<StoredSandbox[]>;
  /** Sets a user's access to a sandbox (none removes the share). */
  shareSandbox(id: string, user: string, access: SandboxShareAccess, event?: NewOutboxRow): Promise<void>;
  /** The leaves a sandbox changed. */
  sandboxCells(id: string): Promise<StoredSandboxCell[]>;
  /** Commits sandbox writes with their audit records and outbox rows (see sql/sandboxes.ts `commitSandboxWrites`). */
  commitSandboxWrites(
    id: string,
    txId: string,
    user: string,
    writes: readonly SandboxWrite[],
    info: TransactionInfo,
    outbox?: (at: number, versions: number[]) => Iterable<NewOutboxRow>,
  ): Promise<{ results: CommitResult[]; at: number }>;
  /** A sandbox's transactions, newest first: `user`'s, or everyone's when null. */
  listSandboxTransactions(id: string, user: string | null, limit: number): Promise<StoredTransaction[]>;
  /** One transaction of a sandbox, or null. */
  getSandboxTransaction(id: string, txId: string): Promise<StoredTransaction | null>;
  /** The leaf changes one transaction of a sandbox made. */
  sandboxTransactionChanges(id: string, txId: string): Promise<TransactionChanges>;
  /** The audit records of one leaf in a sandbox, newest first. */
  sandboxCellHistory(id: string, coords: number[], limit: number): Promise<StoredAuditRecord[]>;
  /** Marks a sandbox committed with nothing applied to the base. @throws Error when it is not open. */
  closeSandbox(id: string, event?: NewOutboxRow): Promise<void>;
  /** Deletes a sandbox with its cells, shares and audit; true when it existed. */
  deleteSandbox(id: string, event?: NewOutboxRow): Promise<boolean>;

  close(): Promise<void>;
}
