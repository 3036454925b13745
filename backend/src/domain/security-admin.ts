/**
 * Administering rights (SecurityService): reading a cube's security and its audit log, and changing
 * it: admins only (a cube's admins and the server's, QATOM_ADMINS), each change checked against the
 * cube, committed with its audit record and its `security.changed` outbox row in one transaction,
 * applied here at once (open streams included), and published so that every other instance reloads
 * the cube's security. Also the list of the users the cubes declare, for the development sign-in.
 */
import { DEFAULT_TENANT } from "../../../common/tenants";
import { securityOutboxRow } from "../events/contract";
import { applyChange, type SecurityChange, type SecurityModel } from "../security";
import type { SecurityAuditRecord, Store } from "../store/types";
import type { Publisher } from "../writes/publish";
import type { Access } from "./access";
import { clampLimit } from "./checks";
import { type ServedCube, tenantOf } from "./cube-registry";
import { DomainError } from "./errors";
import { type SecurityRegistry, toDomainError } from "./security";

/** A user the cubes' security sections declare (or a server admin), for the development sign-in. */
export interface KnownUser {
  id: string;
  /** Display name (the first cube declaring the user names it; the id for a server admin only). */
  name: string;
  /** The user's groups, over all cubes (a name once). */
  groups: string[];
  /** Whether the user administers some cube (or every cube, as a server admin). */
  admin: boolean;
  /** The cubes that declare the user or that the user administers, in name order. */
  cubes: string[];
}

/**
 * The users declared in `cubes` (name and security model; null models are open cubes and declare
 * no one) and the server's admins, by id.
 */
export function knownUsers(cubes: readonly { name: string; model: SecurityModel | null }[], serverAdmins: readonly string[]): KnownUser[] {
  const byId = new Map<string, KnownUser>();
  const entry = (id: string, name: string): KnownUser => {
    let u = byId.get(id);
    if (!u) {
      u = { id, name, groups: [], admin: false, cubes: [] };
      byId.set(id, u);
    } else if (u.name === u.id && name !== id) u.name = name;
    return u;
  };
  const addCube = (u: KnownUser, cube: string) => {
    if (!u.cubes.includes(cube)) u.cubes.push(cube);
  };
  for (const { name: cube, model } of cubes) {
    if (!model) continue;
    for (const user of model.users) {
      const u = entry(user.id, user.name);
      for (const g of user.groups) if (!u.groups.includes(g)) u.groups.push(g);
      addCube(u, cube);
    }
    for (const id of model.admins) {
      const u = entry(id, model.users.find((x) => x.id === id)?.name ?? id);
      u.admin = true;
      addCube(u, cube);
    }
  }
  for (const id of serverAdmins) {
    const u = entry(id, id);
    u.admin = true;
    for (const { name } of cubes) addCube(u, name);
  }
  for (const u of byId.values()) u.cubes.sort((a, b) => a.localeCompare(b));
  return [...byId.values()].sort((a, b) => a.id.localeCompare(b.id));
}

/** A cube's security as an admin reads it. */
export interface SecurityView {
  cube: string;
  /** False for an open cube (no security section): every user has every right but Admin. */
  secured: boolean;
  /** The security version (0 for an open cube; +1 per change). */
  version: number;
  /** The model, in canonical form (empty for an open cube). */
  model: SecurityModel;
  /** The server's admins (QATOM_ADMINS), who administer every cube. */
  serverAdmins: readonly string[];
}

/** A change made: the version it made, its audit record's id, when (ms), and what, in a sentence. */
export interface ChangeOutcome {
  version: number;
  auditId: number;
  at: number;
  summary: string;
}

/** What SecurityAdmin is built from (the Backend gives its own parts). */
export interface SecurityAdminParts {
  store: Store;
  instanceId: string;
  registry: SecurityRegistry;
  publisher?: Publisher;
  /** A cube as a user may use it (Backend.access: not_found when hidden). */
  access(cube: string, user: string, tenant: string): Access;
  /** Runs `fn` in the cube's write queue, so that no write of the cube runs while its security changes. */
  inQueue<T>(served: ServedCube, fn: () => Promise<T>): Promise<T>;
}

/** The security administration of the cubes a Backend serves. */
export class SecurityAdmin {
  constructor(private readonly parts: SecurityAdminParts) {}

  /**
   * The cube as `user` may administer it.
   * @throws DomainError not_found for an unknown or hidden cube; permission_denied when the user
   *   sees it but is not an admin of it.
   */
  private adminAccess(cube: string, user: string, tenant: string): Access {
    const access = this.parts.access(cube, user, tenant);
    if (!access.rights.admin) {
      throw new DomainError(`you are not an admin of cube ${access.served.cube.name}: its admins and the server's (QATOM_ADMINS) may read and change its security`, "permission_denied");
    }
    return access;
  }

  /** A cube's security, for an admin of it. @throws DomainError as adminAccess. */
  list(cube: string, user: string, tenant: string = DEFAULT_TENANT): SecurityView {
    const { served, security } = this.adminAccess(cube, user, tenant);
    return {
      cube: served.cube.name,
      secured: security.model !== null,
      version: security.version,
      model: security.model ?? { admins: [], groups: [], users: [] },
      serverAdmins: this.parts.registry.serverAdmins,
    };
  }

  /**
   * A cube's security audit log, newest first (default 100 records, at most 10,000), for an admin of it.
   * @throws DomainError as adminAccess; invalid_argument for a bad limit.
   */
  async audit(cube: string, user: string, limit: number, tenant: string = DEFAULT_TENANT): Promise<SecurityAuditRecord[]> {
    const { served } = this.adminAccess(cube, user, tenant);
    return this.parts.store.securityAudit(served.id, clampLimit(limit, 100, 10_000, "limit"));
  }

  /**
   * Changes a cube's security as `user` (security/operations.ts), in the cube's write queue: the
   * model, its audit record and its outbox row commit together; the change then applies here (open
   * streams hear of it) and the relay publishes it to the other instances.
   * @throws DomainError as adminAccess; not_found or invalid_argument for a change that does not fit
   *   the cube (an unknown group, user or member, a bad right, the last admin).
   */
  async change(cube: string, user: string, change: SecurityChange, tenant: string = DEFAULT_TENANT): Promise<ChangeOutcome> {
    const { served } = this.adminAccess(cube, user, tenant);
    const { store, registry, instanceId } = this.parts;
    return this.parts.inQueue(served, async () => {
      // The user's admin role, again in the queue: a change before this one may have taken it.
      if (!registry.of(served).forUser(user).admin) this.adminAccess(cube, user, tenant);
      let action = "";
      let summary = "";
      const result = await store
        .changeSecurity(
          served.id,
          user,
          (current) => {
            const applied = applyChange(current, change, served.cube, registry.serverAdmins);
            action = applied.action;
            summary = applied.summary;
            return applied;
          },
          ({ version, at }) => [
            securityOutboxRow({ cube: served.cube.name, tenant: tenantOf(served), cubeId: served.id, loadedAt: served.loadedAt, version, instanceId, actor: user, at, action, summary }),
          ],
        )
        .catch((err: unknown) => {
          throw toDomainError(err);
        });
      registry.update(served, { model: result.model, version: result.version });
      this.parts.publisher?.kick();
      return { version: result.version, auditId: result.auditId, at: result.at, summary };
    });
  }
}
