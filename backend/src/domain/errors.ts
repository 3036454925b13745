/**
 * Errors of the domain layer (cube registry, write pipeline, request checks). They name what is
 * wrong and where, carry one code of a closed set, and know nothing of the wire: one mapping at
 * the RPC edge (`services/errors.ts`) turns them into Connect errors with the matching code.
 *
 * Problems of one cell in an otherwise good batch are not errors: they are per-cell results (an
 * `AddressError` in GetCells, a `REJECTED` write outcome), as ARCHITECTURE.md's "errors by tier" says.
 */
import type { AddressError } from "../lattice";

/**
 * Why a request cannot be served, as a code of a closed set (a subset of Connect's and gRPC's codes,
 * with the same meaning): `invalid_argument` (malformed or self-contradicting input),
 * `not_found` (an unknown cube, dimension or member, or one the caller may not see: the two are
 * told apart by no one), `resource_exhausted` (over a request limit), `permission_denied` (the
 * caller sees what it names but lacks the right the request needs: Write on a scenario copy's
 * target, Read on a cell's history, the Admin role for a security change), `aborted` (the request
 * met concurrent changes it could not get past; trying again may succeed).
 */
export type DomainErrorCode = "invalid_argument" | "not_found" | "resource_exhausted" | "permission_denied" | "aborted" | "failed_precondition" | "unimplemented";

/** A request the domain refuses as a whole; nothing was changed. */
export class DomainError extends Error {
  override readonly name = "DomainError";
  constructor(
    message: string,
    readonly code: DomainErrorCode,
  ) {
    super(message);
  }
}

/**
 * The error for an address that had to resolve (a comment's cell, a history's cell, a hold, a
 * GetMembers parent): `not_found` for an unknown member, else `invalid_argument`.
 * @param where prefix naming the field, e.g. `holds[2]`; none: the message alone.
 */
export function addressFailure(e: AddressError, where?: string): DomainError {
  return new DomainError(where ? `${where}: ${e.message}` : e.message, e.code === "UNKNOWN_MEMBER" ? "not_found" : "invalid_argument");
}
