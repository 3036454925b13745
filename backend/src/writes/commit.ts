/**
 * Commit: one database transaction holds the leaf cells' new values, one audit record per changed
 * leaf and the transaction's outbox rows (events/contract.ts); once it resolves the write is
 * durable, and only then is it applied and acknowledged ("acknowledged means durable").
 */
import { randomUUID } from "node:crypto";
import { type ServedCube, tenantOf } from "../domain/cube-registry";
import { COMPACT_MIN_CHANGES, outboxRowsLazily } from "../events/contract";
import type { CommitResult, NewOutboxRow, PendingWrite, TransactionInfo } from "../store/types";
import type { WriteContext } from "./context";

/** A finished commit: one result per pending write (in order), the commit time (ms) and the transaction id. */
export interface Committed {
  results: CommitResult[];
  at: number;
  txId: string;
}

/**
 * Commits pending leaf writes to the store in one transaction under a new transaction id, with the
 * outbox rows of the applied ones. Writes whose stored version is not their base version are not
 * applied (their results say why; see writes/conflicts.ts `commitDecisions`).
 * @param info what the transaction row records (kind, what was asked for, the undone transaction).
 * @param more a sandbox the transaction commits (see CommitOptions.sandboxCommitted), and outbox
 *   rows written after the transaction's own.
 * @throws the store's error; nothing is committed then.
 */
export async function commitPending(
  ctx: WriteContext,
  served: ServedCube,
  user: string,
  pending: PendingWrite[],
  info: TransactionInfo,
  more: { sandboxCommitted?: string; outbox?: readonly NewOutboxRow[] } = {},
): Promise<Committed> {
  const txId = randomUUID();
  const cube = served.cube.name;
  const { results, at } = await ctx.store.commitWrites(served.id, txId, user, pending, {
    transaction: info,
    sandboxCommitted: more.sandboxCommitted,
    outbox: ({ at, loadedAt, changes }) =>
      withRows(
        more.outbox ?? [],
        outboxRowsLazily(
        { cube, tenant: tenantOf(served), cubeId: served.id, loadedAt, txId, instanceId: ctx.instanceId, user, at },
        // A small transaction's events name each leaf's members (the verbose form); a large one's do not.
          changes.length <= COMPACT_MIN_CHANGES ? changes.map((c) => ({ ...c, members: c.members ?? served.cube.uniqueNames(c.coords) })) : changes,
        ),
      ),
  });
  return { results, at, txId };
}

/** The rows of `first`, then those of `rest`. */
function* withRows(rest: readonly NewOutboxRow[], first: Iterable<NewOutboxRow>): Generator<NewOutboxRow> {
  yield* first;
  yield* rest;
}
