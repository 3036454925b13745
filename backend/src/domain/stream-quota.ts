/**
 * The quota of open WatchCells streams per user on this instance (`QATOM_MAX_STREAMS_PER_USER`):
 * each stream holds a watch on the lattice and a connection, so one client cannot hold them by the
 * thousand. The add-in opens one stream per cube per workbook: ten cubes in each of several
 * workbooks, with the task pane's cell on its cube's stream. Over HTTP/2 they share one connection
 * per workbook (server/listener.ts), so the quota bounds watches, not connections.
 */
import { DomainError } from "./errors";

/** The default most open streams per user. */
export const DEFAULT_MAX_STREAMS_PER_USER = 64;

/** Counts open streams per user name and refuses one over the limit. */
export class StreamQuota {
  private readonly open = new Map<string, number>();

  /** @param maxPerUser most streams one user may hold open at once (at least 1). */
  constructor(readonly maxPerUser: number = DEFAULT_MAX_STREAMS_PER_USER) {}

  /**
   * Counts a new stream of `user`.
   * @returns the function that ends it (calling it again does nothing).
   * @throws DomainError resource_exhausted when `user` already holds `maxPerUser` streams.
   */
  acquire(user: string): () => void {
    const n = this.open.get(user) ?? 0;
    if (n >= this.maxPerUser) {
      throw new DomainError(
        `${user} has ${n} WatchCells streams open; the limit is ${this.maxPerUser} per user (QATOM_MAX_STREAMS_PER_USER): close one first`,
        "resource_exhausted",
      );
    }
    this.open.set(user, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(user) ?? 1) - 1;
      if (left > 0) this.open.set(user, left);
      else this.open.delete(user);
    };
  }

  /** The streams `user` holds open now. */
  count(user: string): number {
    return this.open.get(user) ?? 0;
  }
}
