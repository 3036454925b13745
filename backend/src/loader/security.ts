/**
 * The model file's `security:` section: checked against the built dimensions (every dimension and
 * member a right names must exist, every right be known, every user's group declared) and turned
 * into the cube's security model, in canonical form, as the store keeps it. Problems stop the load
 * at the offending key's line and column.
 * @see ../../../docs/model-file.md ("Security") and ../security/ for what the rights mean.
 */
import { Dimension, Resolver } from "../lattice";
import { checkModel, type SecurityModel, SecurityModelError } from "../security";
import type { BuiltDimension } from "./dimensions";
import type { ModelSource } from "./model";

/**
 * The cube's security from the model file's `security:` section, or null when it has none (the
 * cube is then open to every user).
 * @throws LoadError at the offending key: an unknown dimension, member or group, a member of another
 *   dimension, an unknown right, a name declared twice.
 */
export function compileSecurity(source: ModelSource, built: readonly BuiltDimension[]): SecurityModel | null {
  const section = source.model.security;
  if (!section) return null;
  const dims = built.map((b) => new Dimension(b.def));
  const resolver = new Resolver(dims);
  const cube = { dims, member: (text: string) => resolver.member(text), dimensionIndex: (name: string) => resolver.dimensionIndex(name) };
  try {
    return checkModel({ admins: section.admins, groups: section.groups, users: section.users.map((u) => ({ ...u, name: u.name ?? u.id })) }, cube);
  } catch (err) {
    if (!(err instanceof SecurityModelError)) throw err;
    throw source.error(["security", ...err.path], `security: ${err.detail}`);
  }
}
