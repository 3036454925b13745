/**
 * The shapes a write takes through the pipeline, from what the API received to each write's
 * outcome (see WriteCellsRequest / WriteResult and CopyScenarioRequest in lattice.proto).
 */
import type { AddressError, DataAction, SpreadMethodCode } from "../lattice";

/** How to spread a write to a consolidated cell (see Spread in lattice.proto). */
export interface SpreadInput {
  /** TM1 method code; null means proportional. */
  method: SpreadMethodCode | null;
  action: DataAction;
  includeEmpty: boolean;
  /** P% and R%: the percentage (10 = 10 %). */
  percent: number;
  /** Members of the reference cell (RP, R%) that replace the target's. */
  reference: readonly string[];
}

/** One write as the API receives it. */
export interface WriteInput {
  members: readonly string[];
  /** The new value; null clears the cell. */
  value: number | null;
  /** The cell's version the writer saw (0: never written). */
  baseVersion: number;
  /** For a consolidated cell: how to spread it (default proportional). */
  spread?: SpreadInput;
}

/** The outcome of one write (see WriteResult in lattice.proto). Times are ms since the epoch. */
export type WriteOutcome =
  | {
      status: "APPLIED";
      version: number;
      value: number | null;
      updatedBy: string;
      updatedAt: number;
      leavesChanged: number;
      /** A spread's leaves kept as they were because the writer may not write them (0 or absent: none). */
      leavesHeldByRights?: number;
    }
  | {
      status: "CONFLICT";
      version: number;
      value: number | null;
      updatedBy: string;
      updatedAt: number;
      message: string;
    }
  | { status: "REJECTED"; message: string; error?: AddressError; version?: number; value?: number | null };

/** A scenario copy as the API receives it (see CopyScenarioRequest in lattice.proto). */
export interface ScenarioCopyInput {
  /** Dimension name; default `Scenario`. */
  dimension: string;
  from: string;
  to: string;
  factor: number;
  /** Members bounding the copy on other dimensions. */
  slice: readonly string[];
  /** The target slice's version the caller saw, or 0 for no check. */
  baseVersion: number;
}

/** The outcome of a scenario copy. */
export type ScenarioCopyOutcome =
  | { status: "APPLIED"; leavesChanged: number; leavesCleared: number; version: number; txId: string }
  | { status: "CONFLICT"; version: number; message: string };

/** A leaf an undo could not restore: changed by a later transaction (see UndoConflict in lattice.proto). */
export interface UndoConflict {
  /** The leaf's unique names (a member the caller may not see is described, not named). */
  members: string[];
  /** The leaf's current value (null: empty, or the caller may not read it). */
  value: number | null;
  version: number;
  /** Who wrote the current value and when (ms; "" and the cube's load time when unknown). */
  updatedBy: string;
  updatedAt: number;
  /** The value the undo would have restored (null: empty). */
  undoValue: number | null;
}

/** The outcome of an undo (see UndoTransactionResponse in lattice.proto). */
export type UndoOutcome =
  | {
      status: "APPLIED";
      /** The undo's own transaction ("" when it restored nothing: every leaf conflicted). */
      txId: string;
      leavesRestored: number;
      /** The highest version written. */
      version: number;
      /** The leaves skipped because they conflicted (only_unconflicted): the first MAX_UNDO_CONFLICTS of them. */
      conflicts: UndoConflict[];
      /** How many leaves conflicted in all. */
      conflictCount: number;
    }
  | { status: "CONFLICT"; conflicts: UndoConflict[]; conflictCount: number; message: string };

/** Most conflicting leaves an undo's outcome lists (the rest are counted). */
export const MAX_UNDO_CONFLICTS = 1000;
