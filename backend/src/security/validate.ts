/**
 * Checks a security model against the cube it secures and puts it in canonical form: dimension
 * names and member unique names as the cube spells them, rights in lowercase, group references as
 * the groups are declared. The model loader reports a problem at the model file's line and column
 * (its `path`); the admin RPCs as invalid_argument or not_found.
 */
import type { AddressError, Dimension, MemberRef } from "../lattice";
import { parseRight, RIGHT_NAMES, type RightName, type SecurityGroup, type SecurityModel, type SecurityUser, wholeDimension } from "./model";

/** What validation needs of a cube: its dimensions and its name resolution (a Cube, or the loader's Resolver). */
export interface CubeShape {
  readonly dims: readonly Dimension[];
  /** Resolves a unique or bare member name (see lattice Resolver.member). */
  member(text: string): MemberRef | AddressError;
  /** Index of a dimension by name (case-insensitive), or -1. */
  dimensionIndex(name: string): number;
}

/**
 * A security model that does not fit its cube, or a change that cannot be made: where (a path into
 * the model, e.g. `["groups", 0, "rights", "Store", "[Store].[USA].[WX]"]`), what, and whether
 * something named does not exist (`not_found`) or the input is wrong otherwise (`invalid_argument`).
 */
export class SecurityModelError extends Error {
  override readonly name = "SecurityModelError";
  constructor(
    readonly path: (string | number)[],
    readonly detail: string,
    readonly code: "invalid_argument" | "not_found" = "invalid_argument",
  ) {
    super(detail);
  }
}

/** A security model as written (a model file's section, a stored document): names not yet checked, rights as text. */
export interface SecurityModelInput {
  admins?: readonly string[];
  groups?: readonly { name: string; rights?: Record<string, Record<string, string>> }[];
  users?: readonly { id: string; name?: string; groups?: readonly string[] }[];
}

/** Most characters of a user id, group name or display name. */
export const MAX_NAME_LENGTH = 200;

/**
 * A member of dimension `d` named by `text` for a right: a unique name (`[Store].[USA].[WA]`), a
 * name under the dimension (`WA` is tried as `[Store].[WA]`, then as a bare name anywhere), or the
 * dimension itself (`[Store]` or `Store`: the whole dimension). Returns the canonical key: the
 * member's unique name, or `[Dimension]`; and its id (-1 for the whole dimension).
 * @throws SecurityModelError not_found for an unknown member, invalid_argument for a member of
 *   another dimension or a malformed name.
 */
export function rightKey(cube: CubeShape, d: number, text: string, path: (string | number)[]): { key: string; id: number } {
  const dim = cube.dims[d];
  const t = text.trim();
  if (t.toLowerCase() === dim.name.toLowerCase() || t.toLowerCase() === wholeDimension(dim.name).toLowerCase()) {
    return { key: wholeDimension(dim.name), id: -1 };
  }
  const qualified = t.includes("[");
  let ref = cube.member(qualified ? t : `${wholeDimension(dim.name)}.${wholeDimension(t)}`);
  if ("code" in ref && !qualified) ref = cube.member(t);
  if ("code" in ref) throw new SecurityModelError(path, ref.message, ref.code === "UNKNOWN_MEMBER" ? "not_found" : "invalid_argument");
  if (ref.dim !== d) {
    throw new SecurityModelError(path, `${t} is a member of dimension ${cube.dims[ref.dim].name}, not ${dim.name}`);
  }
  return { key: dim.uniqueName(ref.id), id: ref.id };
}

/**
 * The index of the dimension named `name` (case-insensitive).
 * @throws SecurityModelError not_found listing the cube's dimensions.
 */
export function dimensionKey(cube: CubeShape, name: string, path: (string | number)[]): number {
  const d = cube.dimensionIndex(name);
  if (d < 0) {
    throw new SecurityModelError(path, `the cube has no dimension "${name}"; dimensions: ${cube.dims.map((x) => x.name).join(", ")}`, "not_found");
  }
  return d;
}

/**
 * A user id, group or display name: trimmed, non-empty, at most MAX_NAME_LENGTH characters.
 * @throws SecurityModelError invalid_argument naming `what`.
 */
export function checkName(text: unknown, what: string, path: (string | number)[]): string {
  if (typeof text !== "string" || text.trim() === "") throw new SecurityModelError(path, `${what} is required`);
  const t = text.trim();
  if (t.length > MAX_NAME_LENGTH) throw new SecurityModelError(path, `${what} has ${t.length} characters; the limit is ${MAX_NAME_LENGTH}`);
  return t;
}

/**
 * A right's name, checked.
 * @throws SecurityModelError invalid_argument listing the rights.
 */
export function checkRight(text: unknown, path: (string | number)[]): RightName {
  const r = typeof text === "string" ? parseRight(text) : null;
  if (r === null) throw new SecurityModelError(path, `"${String(text)}" is not a right; rights: ${RIGHT_NAMES.join(", ")}`);
  return RIGHT_NAMES[r];
}

/**
 * Checks a group's rights against the cube: known dimensions, members of those dimensions, known
 * rights, no member twice (after canonical naming). Returns them in canonical form.
 */
function checkRights(cube: CubeShape, rights: Record<string, Record<string, string>> | undefined, at: (string | number)[]): SecurityGroup["rights"] {
  const out: SecurityGroup["rights"] = {};
  for (const [dimName, members] of Object.entries(rights ?? {})) {
    const d = dimensionKey(cube, dimName, [...at, dimName]);
    const canonical = cube.dims[d].name;
    if (out[canonical]) throw new SecurityModelError([...at, dimName], `dimension ${canonical} is listed twice`);
    const entries: Record<string, RightName> = {};
    for (const [member, right] of Object.entries(members ?? {})) {
      const path = [...at, dimName, member];
      const { key } = rightKey(cube, d, member, path);
      if (Object.hasOwn(entries, key)) throw new SecurityModelError(path, `${key} has two rights in this group`);
      entries[key] = checkRight(right, path);
    }
    out[canonical] = entries;
  }
  return out;
}

/**
 * Checks a security model against its cube and returns it in canonical form (see the module
 * comment). Group names are unique case-insensitively, user ids exactly; a user's groups must be
 * declared; a user listed without a name is named by the id.
 * @throws SecurityModelError at the first problem, with its path in the model.
 */
export function checkModel(model: SecurityModelInput, cube: CubeShape): SecurityModel {
  const admins: string[] = [];
  (model.admins ?? []).forEach((a, i) => {
    const id = checkName(a, "an admin's user id", ["admins", i]);
    if (!admins.includes(id)) admins.push(id);
  });
  const groups: SecurityGroup[] = [];
  const byName = new Map<string, string>();
  (model.groups ?? []).forEach((g, i) => {
    const name = checkName(g?.name, "a group's name", ["groups", i, "name"]);
    if (byName.has(name.toLowerCase())) throw new SecurityModelError(["groups", i, "name"], `group "${name}" is declared twice`);
    byName.set(name.toLowerCase(), name);
    groups.push({ name, rights: checkRights(cube, g.rights, ["groups", i, "rights"]) });
  });
  const users: SecurityUser[] = [];
  const ids = new Set<string>();
  (model.users ?? []).forEach((u, i) => {
    const id = checkName(u?.id, "a user's id", ["users", i, "id"]);
    if (ids.has(id)) throw new SecurityModelError(["users", i, "id"], `user "${id}" is declared twice`);
    ids.add(id);
    const name = u.name === undefined || u.name === "" ? id : checkName(u.name, "a user's name", ["users", i, "name"]);
    const mine: string[] = [];
    (u.groups ?? []).forEach((g, j) => {
      const declared = byName.get(String(g).trim().toLowerCase());
      if (!declared) {
        throw new SecurityModelError(["users", i, "groups", j], `group "${g}" is not declared under groups; groups: ${groups.map((x) => x.name).join(", ") || "(none)"}`, "not_found");
      }
      if (!mine.includes(declared)) mine.push(declared);
    });
    users.push({ id, name, groups: mine });
  });
  return { admins, groups, users };
}
