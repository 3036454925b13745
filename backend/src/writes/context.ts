/** What every step of the write pipeline is given: the store, this instance, its limits. */
import type { Store } from "../store/types";
import type { Publisher } from "./publish";

/** Default most leaf cells one spread may create (QATOM_SPREAD_MAX_NEW_CELLS). */
export const DEFAULT_SPREAD_MAX_NEW_CELLS = 25_000;

/**
 * What the write pipeline needs of the store: commit, read stored leaf states, read a transaction
 * back (undo). The durable store, or a sandbox's layer (writes/sandbox-layer.ts).
 */
export type WriteStore = Pick<Store, "commitWrites" | "readCells" | "getTransaction" | "transactionChanges">;

/** The write pipeline's collaborators, passed in by the composition root (server/main.ts). */
export interface WriteContext {
  store: WriteStore;
  /** This instance's id: its outbox rows carry it (other instances skip their own). */
  instanceId: string;
  /** Most leaf cells one spread may create; a spread needing more is REJECTED with the count. */
  spreadMaxNewCells: number;
  /** Told after each commit that applied changes; none: nothing publishes (tests, benchmarks). */
  publisher?: Publisher;
}
