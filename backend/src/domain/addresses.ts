/**
 * Addresses that must resolve for a request to make sense (a comment's cell, a history's cell, a
 * GetMembers parent): one place that turns the engine's address errors into DomainErrors, so every
 * RPC reports an unknown member as not_found and any other bad address as invalid_argument.
 */
import type { Cube, MemberFilter } from "../lattice";
import { checkMembers } from "./checks";
import { addressFailure, DomainError } from "./errors";

/**
 * Resolves an address that must name one cell.
 * @param where the field, for the size check's message.
 * @throws DomainError not_found for an unknown member, invalid_argument for any other bad address
 *   or one of more than MAX_MEMBERS_PER_ADDRESS members.
 */
export function resolveCell(cube: Cube, members: readonly string[], where = "members"): Int32Array {
  checkMembers(members, where);
  const coords = cube.resolve(members);
  if (coords instanceof Int32Array) return coords;
  throw addressFailure(coords);
}

/**
 * A member of dimension `d` named by `text`: a unique name, or a name under the dimension
 * (`Actual` is tried as `[Scenario].[Actual]`, then as a bare name anywhere).
 * @param field the request field, for messages (`from`, `parent`).
 * @param visible the members the caller sees (a hidden one is unknown); none: all.
 * @throws DomainError not_found for an unknown member, invalid_argument for a bad name or a member
 *   of another dimension.
 */
export function memberOf(cube: Cube, d: number, text: string, field: string, visible?: MemberFilter): number {
  const dim = cube.dims[d];
  const qualified = text.includes("[");
  let ref = cube.member(qualified ? text : `[${dim.name}].[${text}]`, visible);
  if ("code" in ref && !qualified) ref = cube.member(text, visible);
  if ("code" in ref) throw addressFailure(ref, field);
  if (ref.dim !== d) throw new DomainError(`${field} ${text} is a member of dimension ${cube.dims[ref.dim].name}, not ${dim.name}`, "invalid_argument");
  return ref.id;
}

/**
 * The index of a dimension named `name` (case-insensitive).
 * @param field the request field, for messages.
 * @throws DomainError invalid_argument when empty, not_found (listing the dimensions) when unknown.
 */
export function dimensionOf(cube: Cube, name: string, field: string): number {
  if (!name.trim()) throw new DomainError(`${field} is required, e.g. "${cube.dims[0]?.name ?? "Store"}"`, "invalid_argument");
  const d = cube.dimensionIndex(name);
  if (d < 0) {
    throw new DomainError(`cube ${cube.name} has no dimension "${name}"; dimensions: ${cube.dims.map((x) => x.name).join(", ")}`, "not_found");
  }
  return d;
}
