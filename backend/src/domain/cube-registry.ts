/**
 * The cubes this backend instance serves: each lattice with its id in the store and its load time
 * (together they name one generation of the cube across instances and databases).
 */
import { DEFAULT_TENANT } from "../../../common/tenants";
import type { Cube } from "../lattice";
import { DomainError } from "./errors";

/** A cube served by this backend, with its id in the store. */
export interface ServedCube {
  id: number;
  cube: Cube;
  /** When the cube was loaded into the store, ms since the epoch. */
  loadedAt: number;
  /** The tenant the cube belongs to (common/tenants.ts); default DEFAULT_TENANT. */
  tenant?: string;
}

/** The tenant of a served cube. */
export function tenantOf(served: ServedCube): string {
  return served.tenant ?? DEFAULT_TENANT;
}

/** The registry key of a cube: its tenant and its lowercase name. */
export function cubeKey(name: string, tenant: string): string {
  return `${tenant}\u0000${name.trim().toLowerCase()}`;
}

/**
 * Cubes by tenant and case-insensitive name. A lookup names its tenant: a cube of another tenant
 * is never found, and not_found messages list only the caller's tenant's cubes.
 */
export class CubeRegistry {
  private readonly cubes = new Map<string, ServedCube>();

  /** Serves a cube (replacing one of the same name in its tenant). */
  add(served: ServedCube): void {
    this.cubes.set(cubeKey(served.cube.name, tenantOf(served)), served);
  }

  /** Cubes served in `tenant` (undefined: every tenant's), in name order. */
  list(tenant?: string): ServedCube[] {
    return Array.from(this.cubes.values())
      .filter((c) => tenant === undefined || tenantOf(c) === tenant)
      .sort((a, b) => a.cube.name.localeCompare(b.cube.name));
  }

  /** The cube named `name` (case-insensitive) in `tenant`, or undefined. */
  find(name: string, tenant: string = DEFAULT_TENANT): ServedCube | undefined {
    return this.cubes.get(cubeKey(name, tenant));
  }

  /**
   * The cube named `name` (case-insensitive) in `tenant`.
   * @throws DomainError invalid_argument when the name is empty, not_found when the tenant has no
   *   cube of that name (the message lists the tenant's cubes).
   */
  get(name: string, tenant: string = DEFAULT_TENANT): ServedCube {
    if (!name || name.trim() === "") throw new DomainError('cube is required (the cube\'s name, e.g. "Sales")', "invalid_argument");
    const c = this.find(name, tenant);
    if (!c) {
      const names = this.list(tenant).map((x) => x.cube.name);
      throw new DomainError(`cube "${name}" not found; cubes: ${names.join(", ") || "(none)"}`, "not_found");
    }
    return c;
  }
}
