/**
 * Checks of a request's shape and size, the same for every RPC that takes addresses or writes.
 * Each throws a DomainError naming the field (`writes[3].value`) and what is wrong with it.
 */
import { DomainError } from "./errors";
import { MAX_CELLS_PER_REQUEST, MAX_MEMBERS_PER_ADDRESS, MAX_WRITES_PER_REQUEST } from "./limits";
import type { WriteInput } from "../writes/types";

/**
 * Checks a write request for API misuse.
 * @throws DomainError resource_exhausted over MAX_WRITES_PER_REQUEST; invalid_argument for a
 *   value that is NaN or infinite, a negative or fractional base version, or too many members.
 */
export function checkWrites(writes: readonly WriteInput[]): void {
  if (writes.length > MAX_WRITES_PER_REQUEST) {
    throw new DomainError(`${writes.length} writes in one request; the limit is ${MAX_WRITES_PER_REQUEST}`, "resource_exhausted");
  }
  writes.forEach((w, i) => {
    if (w.value !== null && !Number.isFinite(w.value)) {
      throw new DomainError(`writes[${i}].value is ${w.value}; a value must be a finite number (or unset to clear the cell)`, "invalid_argument");
    }
    if (!Number.isSafeInteger(w.baseVersion) || w.baseVersion < 0) {
      throw new DomainError(`writes[${i}].baseVersion is ${w.baseVersion}; it must be a whole number of at least 0`, "invalid_argument");
    }
    checkMembers(w.members, `writes[${i}].members`);
  });
}

/**
 * Checks one address's member list for API misuse.
 * @param where the field, e.g. `cells[4].members`.
 * @throws DomainError invalid_argument when it has more than MAX_MEMBERS_PER_ADDRESS members.
 */
export function checkMembers(members: readonly string[], where: string): void {
  if (members.length > MAX_MEMBERS_PER_ADDRESS) {
    throw new DomainError(`${where} has ${members.length} members; the limit is ${MAX_MEMBERS_PER_ADDRESS}`, "invalid_argument");
  }
}

/**
 * Checks the size of a cell batch (GetCells, WatchCells).
 * @throws DomainError resource_exhausted over MAX_CELLS_PER_REQUEST.
 */
export function checkCellBatch(count: number): void {
  if (count > MAX_CELLS_PER_REQUEST) {
    throw new DomainError(`${count} cells in one request; the limit is ${MAX_CELLS_PER_REQUEST}`, "resource_exhausted");
  }
}

/**
 * A request's limit: `fallback` when 0 (unset).
 * @throws DomainError invalid_argument when negative or over `max`.
 */
export function clampLimit(limit: number, fallback: number, max: number, field: string): number {
  if (limit === 0) return fallback;
  if (limit < 0 || limit > max) throw new DomainError(`${field} must be from 1 to ${max}, got ${limit}`, "invalid_argument");
  return limit;
}
