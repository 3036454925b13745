/**
 * ListTransactions and UndoTransaction on the wire: domain transactions and undo outcomes as the
 * protocol's messages (see lattice.proto).
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { TransactionKind, type TransactionSchema, type UndoTransactionResponseSchema, WriteStatus } from "../../../proto/gen/quantatom/v1/lattice_pb";
import type { StoredTransaction, TransactionKind as Kind } from "../store/types";
import type { UndoConflict, UndoOutcome } from "../writes/types";

const KINDS: Record<Kind, TransactionKind> = {
  write: TransactionKind.WRITE,
  spread: TransactionKind.SPREAD,
  copy: TransactionKind.COPY,
  undo: TransactionKind.UNDO,
  sandbox: TransactionKind.SANDBOX,
};

/** A transaction kind as the protocol's enum. */
export function transactionKind(kind: Kind): TransactionKind {
  return KINDS[kind] ?? TransactionKind.UNSPECIFIED;
}

/** A stored transaction as a `Transaction` message. */
export function toTransaction(t: StoredTransaction): MessageInitShape<typeof TransactionSchema> {
  return {
    transactionId: t.txId,
    user: t.user,
    at: timestampFromMs(t.at),
    kind: transactionKind(t.kind),
    description: t.detail,
    leavesChanged: BigInt(t.leaves),
    undoes: t.undoes ?? "",
    undoneBy: t.undoneBy,
  };
}

function toConflict(c: UndoConflict) {
  return {
    members: c.members,
    currentValue: c.value ?? undefined,
    version: BigInt(c.version),
    updatedBy: c.updatedBy,
    updatedAt: timestampFromMs(c.updatedAt),
    undoValue: c.undoValue ?? undefined,
  };
}

/** An undo's outcome as an `UndoTransactionResponse`. */
export function toUndoResponse(o: UndoOutcome): MessageInitShape<typeof UndoTransactionResponseSchema> {
  const conflicts = o.conflicts.map(toConflict);
  if (o.status === "CONFLICT") return { status: WriteStatus.CONFLICT, conflicts, conflictCount: BigInt(o.conflictCount), message: o.message };
  return {
    status: WriteStatus.APPLIED,
    transactionId: o.txId,
    leavesRestored: BigInt(o.leavesRestored),
    version: BigInt(o.version),
    conflicts,
    conflictCount: BigInt(o.conflictCount),
  };
}
