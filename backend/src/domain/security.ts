/**
 * The security of the cubes this instance serves: each cube's model and version compiled into
 * rights (security/rights.ts), replaced as a whole when an admin changes it here or on another
 * instance, and the listeners (open WatchCells streams) told at once. Also the mapping of the
 * security module's errors onto DomainErrors.
 */
import { CubeRights, type SecurityModel, SecurityModelError, type UserRights, type VersionedSecurity } from "../security";
import { cubeKey, type ServedCube, tenantOf } from "./cube-registry";
import { DomainError } from "./errors";

/**
 * One generation of a served cube's security: its model (null: open) and version, the compiled
 * rights, and who listens for changes. A reload of the cube makes a new one (old streams keep the
 * old, which no longer changes); a security change replaces `rights` in place and tells listeners.
 */
export class CubeSecurity {
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly served: ServedCube,
    public model: SecurityModel | null,
    public version: number,
    public rights: CubeRights,
  ) {}

  /** The rights of `user` now. */
  forUser(user: string): UserRights {
    return this.rights.forUser(user);
  }

  /** Calls `fn` after every change of this cube's security; returns the function that stops it. */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Replaces the model (compiled anew) and tells the listeners; a listener that throws is skipped. */
  replace(model: SecurityModel | null, version: number, serverAdmins: readonly string[]): void {
    this.model = model;
    this.version = version;
    this.rights = new CubeRights(this.served.cube, model, serverAdmins);
    for (const fn of this.listeners) {
      try {
        fn();
      } catch {
        // A stream that failed to update closes on its own; the others still hear of the change.
      }
    }
  }
}

/** The security of every served cube, by tenant and lowercase cube name (cube-registry.ts `cubeKey`). */
export class SecurityRegistry {
  private readonly cubes = new Map<string, CubeSecurity>();

  /** @param serverAdmins user ids that administer every cube (QATOM_ADMINS). */
  constructor(readonly serverAdmins: readonly string[]) {}

  /** Sets the security of a cube just served (a new generation: streams of an older one keep theirs). */
  set(served: ServedCube, security: VersionedSecurity | null): CubeSecurity {
    const state = new CubeSecurity(served, security?.model ?? null, security?.version ?? 0, new CubeRights(served.cube, security?.model ?? null, this.serverAdmins));
    this.cubes.set(cubeKey(served.cube.name, tenantOf(served)), state);
    return state;
  }

  /** The security of a served cube. @throws Error when the cube was served without it (a caller bug). */
  of(served: ServedCube): CubeSecurity {
    const state = this.cubes.get(cubeKey(served.cube.name, tenantOf(served)));
    if (!state || state.served !== served) throw new Error(`cube ${served.cube.name} is served without its security`);
    return state;
  }

  /**
   * Applies a newer version of a served cube's security (a change made here, or reloaded after
   * another instance's): older or equal versions are ignored, so a repeated or late event is harmless.
   * @returns whether it was applied.
   */
  update(served: ServedCube, security: VersionedSecurity | null): boolean {
    const state = this.of(served);
    const version = security?.version ?? 0;
    if (version <= state.version) return false;
    state.replace(security?.model ?? null, version, this.serverAdmins);
    return true;
  }
}

/** A SecurityModelError as the DomainError the RPC answers (the same code and message). */
export function toDomainError(err: unknown): unknown {
  return err instanceof SecurityModelError ? new DomainError(err.detail, err.code) : err;
}
