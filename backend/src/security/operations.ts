/**
 * The admin operations on a cube's security (SecurityService): each takes the current model and
 * returns the next one, with what the audit log records of it. Pure: the caller runs it inside the
 * store transaction that also writes the audit record and the outbox row, so a change is whole or
 * absent. Checked against the cube like a model file's section (validate.ts).
 */
import { emptyModel, type RightName, type SecurityModel, wholeDimension } from "./model";
import { type CubeShape, checkName, checkRight, rightKey, SecurityModelError } from "./validate";

/** One change an admin makes (see security.proto for each RPC). */
export type SecurityChange =
  /** Sets a group's right on a member (or the whole dimension, `[Dimension]`); `right` null clears it (the member inherits again). */
  | { kind: "set_right"; group: string; member: string; right: RightName | null }
  | { kind: "create_group"; group: string }
  /** Deletes a group, its rights and its memberships. */
  | { kind: "delete_group"; group: string }
  /** Declares a user, or renames one. */
  | { kind: "put_user"; user: string; name: string }
  /** Removes a user and its memberships (not its admin role: see set_admin). */
  | { kind: "remove_user"; user: string }
  /** Adds a user to a group, declaring the user (named by the id) when needed. */
  | { kind: "add_to_group"; user: string; group: string }
  | { kind: "remove_from_group"; user: string; group: string }
  /** Gives or takes the cube's Admin role. */
  | { kind: "set_admin"; user: string; admin: boolean };

/** A change made: the next model, and the audit record's `action` and `detail` (JSON) and a sentence for people. */
export interface AppliedChange {
  model: SecurityModel;
  action: SecurityChange["kind"];
  detail: Record<string, unknown>;
  summary: string;
}

function clone(m: SecurityModel): SecurityModel {
  return {
    admins: [...m.admins],
    groups: m.groups.map((g) => ({ name: g.name, rights: Object.fromEntries(Object.entries(g.rights).map(([d, r]) => [d, { ...r }])) })),
    users: m.users.map((u) => ({ ...u, groups: [...u.groups] })),
  };
}

function findGroup(m: SecurityModel, name: string) {
  const g = m.groups.find((x) => x.name.toLowerCase() === name.trim().toLowerCase());
  if (!g) {
    throw new SecurityModelError(["group"], `group "${name}" does not exist; groups: ${m.groups.map((x) => x.name).join(", ") || "(none)"}`, "not_found");
  }
  return g;
}

function findUser(m: SecurityModel, id: string) {
  const u = m.users.find((x) => x.id === id);
  if (!u) throw new SecurityModelError(["user"], `user "${id}" is not declared in this cube's security`, "not_found");
  return u;
}

/**
 * The dimension and canonical key a right's member names: `[Dimension]` (or a dimension's bare name
 * in brackets) is the whole dimension; anything else a member, by unique or unambiguous bare name.
 */
function memberForRight(cube: CubeShape, text: string): { d: number; key: string } {
  const t = text.trim();
  if (!t) throw new SecurityModelError(["member"], 'member is required, e.g. "[Store].[USA].[WA]" (or "[Store]" for the whole dimension)');
  const whole = /^\[((?:[^\]]|\]\])*)\]$/.exec(t);
  if (whole) {
    const d = cube.dimensionIndex(whole[1].replaceAll("]]", "]"));
    if (d >= 0) return { d, key: wholeDimension(cube.dims[d].name) };
  }
  const ref = cube.member(t);
  if ("code" in ref) throw new SecurityModelError(["member"], ref.message, ref.code === "UNKNOWN_MEMBER" ? "not_found" : "invalid_argument");
  return { d: ref.dim, key: rightKey(cube, ref.dim, cube.dims[ref.dim].uniqueName(ref.id), ["member"]).key };
}

/**
 * Applies one admin change to a cube's security.
 * @param current the cube's model; null for an open cube, which the change secures (from then on
 *   only its admins and group members see it).
 * @param serverAdmins the server's admins (QATOM_ADMINS): taking the last Admin role away is refused
 *   when there are none, so that someone can always administer the cube.
 * @throws SecurityModelError not_found for an unknown group, user, dimension or member;
 *   invalid_argument for a bad name or right, a group that exists already, or the last admin.
 */
export function applyChange(current: SecurityModel | null, change: SecurityChange, cube: CubeShape, serverAdmins: readonly string[]): AppliedChange {
  const m = clone(current ?? emptyModel());
  switch (change.kind) {
    case "set_right": {
      const g = findGroup(m, change.group);
      const { d, key } = memberForRight(cube, change.member);
      const dimension = cube.dims[d].name;
      const previous = g.rights[dimension]?.[key] ?? null;
      if (change.right === null) {
        if (g.rights[dimension]) {
          delete g.rights[dimension][key];
          if (Object.keys(g.rights[dimension]).length === 0) delete g.rights[dimension];
        }
      } else {
        const right = checkRight(change.right, ["right"]);
        g.rights[dimension] = { ...(g.rights[dimension] ?? {}), [key]: right };
      }
      const was = previous === null ? "unset" : previous;
      return {
        model: m,
        action: change.kind,
        detail: { group: g.name, dimension, member: key, right: change.right, previous },
        summary:
          change.right === null
            ? `cleared group ${g.name}'s right on ${key} (was ${was}); it inherits again`
            : `set group ${g.name}'s right on ${key} to ${change.right} (was ${was})`,
      };
    }
    case "create_group": {
      const name = checkName(change.group, "group", ["group"]);
      if (m.groups.some((g) => g.name.toLowerCase() === name.toLowerCase())) throw new SecurityModelError(["group"], `group "${name}" exists already`);
      m.groups.push({ name, rights: {} });
      return { model: m, action: change.kind, detail: { group: name }, summary: `created group ${name}` };
    }
    case "delete_group": {
      const g = findGroup(m, change.group);
      m.groups = m.groups.filter((x) => x !== g);
      for (const u of m.users) u.groups = u.groups.filter((x) => x !== g.name);
      return { model: m, action: change.kind, detail: { group: g.name }, summary: `deleted group ${g.name}` };
    }
    case "put_user": {
      const id = checkName(change.user, "user", ["user"]);
      const name = change.name.trim() === "" ? id : checkName(change.name, "name", ["name"]);
      const u = m.users.find((x) => x.id === id);
      const previous = u?.name ?? null;
      if (u) u.name = name;
      else m.users.push({ id, name, groups: [] });
      return { model: m, action: change.kind, detail: { user: id, name, previous }, summary: u ? `renamed user ${id} to ${name}` : `added user ${id} (${name})` };
    }
    case "remove_user": {
      const u = findUser(m, change.user);
      m.users = m.users.filter((x) => x !== u);
      return { model: m, action: change.kind, detail: { user: u.id, groups: u.groups }, summary: `removed user ${u.id}` };
    }
    case "add_to_group": {
      const g = findGroup(m, change.group);
      const id = checkName(change.user, "user", ["user"]);
      let u = m.users.find((x) => x.id === id);
      if (!u) {
        u = { id, name: id, groups: [] };
        m.users.push(u);
      }
      if (!u.groups.includes(g.name)) u.groups.push(g.name);
      return { model: m, action: change.kind, detail: { user: id, group: g.name }, summary: `added user ${id} to group ${g.name}` };
    }
    case "remove_from_group": {
      const g = findGroup(m, change.group);
      const u = findUser(m, change.user);
      if (!u.groups.includes(g.name)) throw new SecurityModelError(["group"], `user ${u.id} is not in group ${g.name}`, "not_found");
      u.groups = u.groups.filter((x) => x !== g.name);
      return { model: m, action: change.kind, detail: { user: u.id, group: g.name }, summary: `removed user ${u.id} from group ${g.name}` };
    }
    case "set_admin": {
      const id = checkName(change.user, "user", ["user"]);
      if (change.admin) {
        if (!m.admins.includes(id)) m.admins.push(id);
      } else {
        if (!m.admins.includes(id)) throw new SecurityModelError(["user"], `user ${id} is not an admin of this cube`, "not_found");
        m.admins = m.admins.filter((x) => x !== id);
        if (m.admins.length === 0 && serverAdmins.length === 0) {
          throw new SecurityModelError(["user"], `${id} is the cube's last admin and the server has none (QATOM_ADMINS): no one could administer the cube`);
        }
      }
      return { model: m, action: change.kind, detail: { user: id, admin: change.admin }, summary: `${change.admin ? "made" : "removed"} ${id} ${change.admin ? "an" : "as"} admin of the cube` };
    }
  }
}
