import { distance } from "fastest-levenshtein";
import { type Dimension, parseMemberName } from "./dimension";

/** Why an address could not be resolved; mirrors the protocol's CellErrorCode. */
export type AddressErrorCode = "UNKNOWN_MEMBER" | "AMBIGUOUS_MEMBER" | "DUPLICATE_DIMENSION" | "INVALID_ADDRESS";

/** A per-cell address error: a code, a message for a person, and candidate unique names. */
export interface AddressError {
  code: AddressErrorCode;
  message: string;
  candidates: string[];
}

/** A resolved member: its dimension's index in the cube and its id there. */
export interface MemberRef {
  dim: number;
  id: number;
}

/**
 * Which members a caller may see, by dimension index and member id (e.g. a user's rights, given by
 * the backend: the engine knows no users). A hidden member resolves exactly as one that does not
 * exist: the same UNKNOWN_MEMBER message, and it is never a candidate of an ambiguous or unknown
 * name, so an error never tells that it exists. A member shows only when it and its ancestors are
 * visible. `[Dimension]` alone and dimensions left out of an address still mean the default member,
 * visible or not: naming the dimension tells nothing about its members.
 */
export type MemberFilter = (dim: number, id: number) => boolean;

const MAX_CANDIDATES = 10;
const MAX_CACHE = 200_000;
const MAX_FILTERED_CACHE = 50_000;

/**
 * Resolves member names and cell addresses of one cube, the same way for every RPC:
 * - `[Dimension].[Top].[...].[Member]`: the full path from the top-level member (MDX unique name,
 *   the form Excel's CUBEVALUE uses); `[Dimension].[All name].[...]` is accepted too, and
 *   `[Dimension]` alone means the dimension's default member;
 * - a bare name (`CA`, `[CA]`) or a partial path (`[CA].[Los Angeles]`) when it matches exactly one
 *   member of the cube; an alias counts as a name.
 * Names compare case-insensitively, as in MDX.
 */
export class Resolver {
  private readonly dimByName = new Map<string, number>();
  /** `${parent}|${lowercase name}` -> member id, per dimension (parent -1 for top-level). */
  private readonly childIndex: Map<string, number>[];
  /** lowercase name or alias -> members anywhere in the cube. */
  private readonly bareIndex = new Map<string, MemberRef[]>();
  private readonly cache = new Map<string, MemberRef | AddressError>();
  /** Per filter, the names whose resolution the filter changes (see member). */
  private readonly filteredCache = new WeakMap<MemberFilter, Map<string, MemberRef | AddressError>>();

  constructor(private readonly dims: readonly Dimension[]) {
    this.childIndex = dims.map(() => new Map());
    dims.forEach((dim, d) => {
      this.dimByName.set(dim.name.toLowerCase(), d);
      const idx = this.childIndex[d];
      for (let id = 0; id < dim.size; id++) {
        const lower = dim.names[id].toLowerCase();
        idx.set(`${dim.parent[id]}|${lower}`, id);
        const keys = new Set([lower, ...dim.aliases[id].map((a) => a.toLowerCase())]);
        for (const k of keys) {
          const list = this.bareIndex.get(k);
          if (list) list.push({ dim: d, id });
          else this.bareIndex.set(k, [{ dim: d, id }]);
        }
      }
    });
  }

  /** Index of a dimension by name (case-insensitive), or -1. */
  dimensionIndex(name: string): number {
    return this.dimByName.get(name.trim().toLowerCase()) ?? -1;
  }

  /**
   * Resolves one member name; results without a filter are cached.
   * @param visible the members the caller may see (none: all). With a filter, a name that resolves
   *   to a visible member (and visible ancestors) comes from the cache; any other is resolved again
   *   among the visible members only.
   */
  member(text: string, visible?: MemberFilter): MemberRef | AddressError {
    let result = this.cache.get(text);
    if (!result) {
      result = this.resolveUncached(text);
      if (this.cache.size >= MAX_CACHE) this.cache.clear();
      this.cache.set(text, result);
    }
    if (!visible || ("id" in result && this.shown(result.dim, result.id, visible))) return result;
    // Names that resolve differently for this caller: cached per filter (a caller's rights keep one
    // filter until they change), so a sheet full of hidden names costs their resolution once.
    let cache = this.filteredCache.get(visible);
    if (!cache) {
      cache = new Map();
      this.filteredCache.set(visible, cache);
    }
    let filtered = cache.get(text);
    if (!filtered) {
      filtered = this.resolveUncached(text, visible);
      if (cache.size >= MAX_FILTERED_CACHE) cache.clear();
      cache.set(text, filtered);
    }
    return filtered;
  }

  /** True when member `id` of dimension `d` and all its ancestors pass `visible`. */
  private shown(d: number, id: number, visible: MemberFilter | undefined): boolean {
    if (!visible) return true;
    const parent = this.dims[d].parent;
    for (let m = id; m >= 0; m = parent[m]) if (!visible(d, m)) return false;
    return true;
  }

  /**
   * Resolves a cell address to one member id per dimension, filling in default members.
   * @param visible the members the caller may see (see MemberFilter); none: all.
   * @returns coordinates in dimension order, or the first error met.
   */
  address(members: readonly string[], visible?: MemberFilter): Int32Array | AddressError {
    const coords = new Int32Array(this.dims.length).fill(-1);
    for (const text of members) {
      const ref = this.member(text, visible);
      if ("code" in ref) return ref;
      if (coords[ref.dim] >= 0) {
        const dim = this.dims[ref.dim];
        return {
          code: "DUPLICATE_DIMENSION",
          message: `the address names two members of dimension ${dim.name}: ${dim.uniqueName(coords[ref.dim])} and ${dim.uniqueName(ref.id)}`,
          candidates: [],
        };
      }
      coords[ref.dim] = ref.id;
    }
    for (let d = 0; d < coords.length; d++) {
      if (coords[d] < 0) coords[d] = this.dims[d].defaultMember;
    }
    return coords;
  }

  private resolveUncached(text: string, visible?: MemberFilter): MemberRef | AddressError {
    if (typeof text !== "string") {
      return { code: "INVALID_ADDRESS", message: "a member name must be a string", candidates: [] };
    }
    const parts = parseMemberName(text);
    if (typeof parts === "string") return { code: "INVALID_ADDRESS", message: parts, candidates: [] };
    const d = parts.length > 1 || text.trim().startsWith("[") ? this.dimensionIndex(parts[0]) : -1;
    if (d >= 0) return this.resolvePath(d, parts.slice(1), text, visible);
    return this.resolveRelative(parts, text, visible);
  }

  /** A path anchored at the top of dimension `d`. */
  private resolvePath(d: number, path: string[], text: string, visible?: MemberFilter): MemberRef | AddressError {
    const dim = this.dims[d];
    if (path.length === 0) return { dim: d, id: dim.defaultMember };
    const idx = this.childIndex[d];
    let cur = -1;
    let i = 0;
    if (dim.hasAll) {
      const all = dim.roots[0];
      cur = all;
      if (path[0].toLowerCase() === dim.names[all].toLowerCase()) i = 1;
    }
    // With the All member hidden nothing of the dimension shows: every path fails at its first part.
    const allHidden = dim.hasAll && visible !== undefined && !visible(d, dim.roots[0]);
    if (allHidden) i = 0;
    for (; i < path.length; i++) {
      let next = allHidden ? undefined : idx.get(`${cur}|${path[i].toLowerCase()}`);
      if (next !== undefined && visible && !visible(d, next)) next = undefined;
      if (next === undefined) {
        let siblings = cur < 0 ? Array.from(dim.roots) : Array.from(dim.children[cur]);
        if (visible) siblings = allHidden ? [] : siblings.filter((id) => visible(d, id));
        const where = cur < 0 || (dim.hasAll && cur === dim.roots[0]) ? `at the top of dimension ${dim.name}` : `under ${dim.uniqueName(cur)}`;
        const closest = closestNames(
          path[i],
          siblings.map((id) => ({ name: dim.names[id], unique: dim.uniqueName(id) })),
        );
        return {
          code: "UNKNOWN_MEMBER",
          message: `unknown member ${text}: dimension ${dim.name} has no member "${path[i]}" ${where}${closest.length ? `; closest: ${closest.join(", ")}` : ""}`,
          candidates: closest,
        };
      }
      cur = next;
    }
    return { dim: d, id: cur };
  }

  /** A bare name or a path that does not start with a dimension. */
  private resolveRelative(parts: string[], text: string, visible?: MemberFilter): MemberRef | AddressError {
    const last = parts[parts.length - 1].toLowerCase();
    let found = this.bareIndex.get(last) ?? [];
    if (visible) found = found.filter((ref) => this.shown(ref.dim, ref.id, visible));
    if (parts.length > 1) {
      found = found.filter((ref) => {
        const dim = this.dims[ref.dim];
        let m = ref.id;
        for (let k = parts.length - 2; k >= 0; k--) {
          m = dim.parent[m];
          if (m < 0 || dim.names[m].toLowerCase() !== parts[k].toLowerCase()) return false;
        }
        return true;
      });
    }
    if (found.length === 1) return found[0];
    if (found.length > 1) {
      const names = found.map((r) => this.dims[r.dim].uniqueName(r.id));
      const shown = names.slice(0, MAX_CANDIDATES);
      return {
        code: "AMBIGUOUS_MEMBER",
        message: `ambiguous member ${text}: it matches ${found.length} members (${shown.join(", ")}${names.length > shown.length ? ", ..." : ""}); use a unique name`,
        candidates: shown,
      };
    }
    const all: { name: string; unique: string }[] = [];
    this.dims.forEach((dim, d) => {
      for (let id = 0; id < dim.size; id++) {
        if (visible && !this.shown(d, id, visible)) continue;
        all.push({ name: dim.names[id], unique: dim.uniqueName(id) });
      }
    });
    const closest = closestNames(parts[parts.length - 1], all);
    const dimHint =
      parts.length > 1 ? ` (no dimension is named "${parts[0]}"; dimensions: ${this.dims.map((x) => x.name).join(", ")})` : "";
    return {
      code: "UNKNOWN_MEMBER",
      message: `unknown member ${text}: no member of the cube is named "${parts[parts.length - 1]}"${dimHint}${closest.length ? `; closest: ${closest.join(", ")}` : ""}`,
      candidates: closest,
    };
  }
}

/** The unique names of the (at most 5) members whose names are closest to `wanted` by edit distance. */
function closestNames(wanted: string, members: { name: string; unique: string }[]): string[] {
  const w = wanted.toLowerCase();
  const scored = members.map((m) => ({ unique: m.unique, d: distance(w, m.name.toLowerCase()) }));
  scored.sort((a, b) => a.d - b.d || a.unique.localeCompare(b.unique));
  const limit = Math.max(2, Math.ceil(w.length * 0.6));
  return scored
    .filter((s) => s.d <= limit)
    .slice(0, 5)
    .map((s) => s.unique);
}
