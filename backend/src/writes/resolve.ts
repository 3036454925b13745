/**
 * Resolve, the pipeline's first step: each write's address becomes member ids, once per write;
 * a write to an unknown address or to a cell a member formula calculates is REJECTED here, and
 * holds must all resolve.
 */
import type { Cube, MemberFilter } from "../lattice";
import { checkMembers } from "../domain/checks";
import { DomainError } from "../domain/errors";
import { MAX_WRITES_PER_REQUEST } from "../domain/limits";
import type { WriteInput, WriteOutcome } from "./types";

/**
 * Resolves every write's address among the members the writer sees: coordinates, or null with a
 * REJECTED outcome set (an address error, with its per-cell error, the same for a hidden member as
 * for one that does not exist; or a calculated cell, read-only, with its formula).
 */
export function resolveWrites(cube: Cube, writes: readonly WriteInput[], outcomes: WriteOutcome[], visible?: MemberFilter): (Int32Array | null)[] {
  return writes.map((w, i) => {
    const coords = cube.resolve(w.members, visible);
    if (!(coords instanceof Int32Array)) {
      outcomes[i] = { status: "REJECTED", message: coords.message, error: coords };
      return null;
    }
    const formula = cube.formulaOf(coords);
    if (formula) {
      outcomes[i] = {
        status: "REJECTED",
        message: `the cell is calculated by a formula (${formula.member} = ${formula.expression}): it is read-only; write to the cells it reads`,
      };
      return null;
    }
    return coords;
  });
}

/**
 * Resolves the held cells of a request (member lists, leaf or consolidated), among the members the
 * writer sees.
 * @throws DomainError resource_exhausted over MAX_WRITES_PER_REQUEST holds; invalid_argument for a
 *   hold that does not resolve, naming it (`holds[2]: ...`).
 */
export function resolveHolds(cube: Cube, holds: readonly (readonly string[])[], visible?: MemberFilter): Int32Array[] {
  if (holds.length > MAX_WRITES_PER_REQUEST) {
    throw new DomainError(`${holds.length} holds in one request; the limit is ${MAX_WRITES_PER_REQUEST}`, "resource_exhausted");
  }
  return holds.map((members, i) => {
    checkMembers(members, `holds[${i}].members`);
    const coords = cube.resolve(members, visible);
    if (!(coords instanceof Int32Array)) throw new DomainError(`holds[${i}]: ${coords.message}`, "invalid_argument");
    return coords;
  });
}
