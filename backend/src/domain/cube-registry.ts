/**
 * The cubes this backend instance serves: each lattice with its id in the store and its load time
 * (together they name one generation of the cube across instances and databases).
 */
import type { Cube } from "../lattice";
import { DomainError } from "./errors";

/** A cube served by this backend, with its id in the store. */
export interface ServedCube {
  id: number;
  cube: Cube;
  /** When the cube was loaded into the store, ms since the epoch. */
  loadedAt: number;
}

/** Cubes by case-insensitive name. */
export class CubeRegistry {
  private readonly cubes = new Map<string, ServedCube>();

  /** Serves a cube (replacing one of the same name). */
  add(served: ServedCube): void {
    this.cubes.set(served.cube.name.toLowerCase(), served);
  }

  /** Cubes served, in name order. */
  list(): ServedCube[] {
    return Array.from(this.cubes.values()).sort((a, b) => a.cube.name.localeCompare(b.cube.name));
  }

  /** The cube named `name` (case-insensitive), or undefined. */
  find(name: string): ServedCube | undefined {
    return this.cubes.get(name.trim().toLowerCase());
  }

  /**
   * The cube named `name` (case-insensitive).
   * @throws DomainError invalid_argument when the name is empty, not_found when no cube has it
   *   (the message lists the cubes served).
   */
  get(name: string): ServedCube {
    if (!name || name.trim() === "") throw new DomainError('cube is required (the cube\'s name, e.g. "Sales")', "invalid_argument");
    const c = this.find(name);
    if (!c) {
      const names = this.list().map((x) => x.cube.name);
      throw new DomainError(`cube "${name}" not found; cubes: ${names.join(", ") || "(none)"}`, "not_found");
    }
    return c;
  }
}
