/**
 * Publish, the pipeline's last step: a committed transaction's outbox rows (written by the commit
 * step, see commit.ts) reach the bus through the outbox relay (events/relay.ts). The pipeline only
 * tells the relay that there is something new, so that it does not wait for its next poll; a
 * missing or failed publish never loses a write (the rows stay in the outbox until relayed).
 */

/** Told after every commit that applied at least one change (the outbox relay's `kick`). */
export interface Publisher {
  kick(): void;
}
