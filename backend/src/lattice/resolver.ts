import { distance } from "fastest-levenshtein";
import { MAX_MEMBER_TEXT_LENGTH, MAX_NAME_LENGTH } from "../../../common/limits";
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
/** Most results the resolver keeps cached, and most characters of member text among them. */
const MAX_CACHE = 200_000;
const MAX_FILTERED_CACHE = 50_000;
const MAX_CACHE_CHARS = 8_000_000;
/**
 * Most members one closest-name search looks at (each one a length check, and an edit distance
 * when the lengths are close enough): an unknown name in a cube of millions of members costs the
 * same as in one of 50,000.
 */
export const MAX_CLOSEST_COMPARED = 50_000;

/**
 * How much closest-name searching a Resolver does over time, in members looked at: a bucket of
 * `capacity` that refills at `perSecond`. A search when the bucket is empty is skipped (the
 * unknown member's message says so, and the result is not cached), so that many unknown names,
 * in one request or in many, cannot hold the server: searching costs at most about `capacity`
 * members at once and `perSecond` a second (about 1.5 µs each for names of a few words).
 */
export interface SearchAllowance {
  capacity: number;
  perSecond: number;
  /** The clock, in ms. */
  now: () => number;
}

/** The default allowance: 200,000 members at once (about 0.3 s), 100,000 a second after that. */
export const DEFAULT_SEARCH_ALLOWANCE: SearchAllowance = { capacity: 200_000, perSecond: 100_000, now: () => Date.now() };
/** Longest text a message repeats in full; longer text is cut (the request has it whole). */
const MAX_ECHO = 120;

/** `text` as a message repeats it: cut after MAX_ECHO characters, saying how long it was. */
function echo(text: string): string {
  return text.length <= MAX_ECHO ? text : `${text.slice(0, MAX_ECHO)}… (${text.length} characters)`;
}

/**
 * Resolves member names and cell addresses of one cube, the same way for every RPC:
 * - `[Dimension].[Top].[...].[Member]`: the full path from the top-level member (MDX unique name,
 *   the form Excel's CUBEVALUE uses); `[Dimension].[All name].[...]` is accepted too, and
 *   `[Dimension]` alone means the dimension's default member;
 * - a bare name (`CA`, `[CA]`) or a partial path (`[CA].[Los Angeles]`) when it matches exactly one
 *   member of the cube; an alias counts as a name.
 * Names compare case-insensitively, as in MDX. Text over MAX_MEMBER_TEXT_LENGTH, or with a part
 * over MAX_NAME_LENGTH (common/limits.ts), is an INVALID_ADDRESS before any lookup, and the search
 * for the closest names that an unknown name's message lists compares at most
 * MAX_CLOSEST_COMPARED names, so resolving any text costs a bounded time.
 */
export class Resolver {
  private readonly dimByName = new Map<string, number>();
  /** `${parent}|${lowercase name}` -> member id, per dimension (parent -1 for top-level). */
  private readonly childIndex: Map<string, number>[];
  /** lowercase name or alias -> members anywhere in the cube. */
  private readonly bareIndex = new Map<string, MemberRef[]>();
  private readonly cache = new Map<string, MemberRef | AddressError>();
  /** Per filter, the names whose resolution the filter changes (see member), and their characters. */
  private readonly filteredCache = new WeakMap<MemberFilter, { results: Map<string, MemberRef | AddressError>; chars: number }>();
  /** Set when the last resolution's closest-name search was skipped or cut short by the allowance. */
  private searchSkipped = false;
  private cachedChars = 0;
  private searchTokens: number;
  private searchAt: number;

  constructor(
    private readonly dims: readonly Dimension[],
    private readonly allowance: SearchAllowance = DEFAULT_SEARCH_ALLOWANCE,
  ) {
    this.searchTokens = allowance.capacity;
    this.searchAt = allowance.now();
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
      this.searchSkipped = false;
      result = this.resolveUncached(text);
      if (typeof text === "string" && !this.searchSkipped) {
        if (this.cache.size >= MAX_CACHE || this.cachedChars + text.length > MAX_CACHE_CHARS) {
          this.cache.clear();
          this.cachedChars = 0;
        }
        this.cache.set(text, result);
        this.cachedChars += text.length;
      }
    }
    if (!visible || ("id" in result && this.shown(result.dim, result.id, visible))) return result;
    // Names that resolve differently for this caller: cached per filter (a caller's rights keep one
    // filter until they change), so a sheet full of hidden names costs their resolution once.
    let cache = this.filteredCache.get(visible);
    if (!cache) {
      cache = { results: new Map(), chars: 0 };
      this.filteredCache.set(visible, cache);
    }
    let filtered = cache.results.get(text);
    if (!filtered) {
      this.searchSkipped = false;
      filtered = this.resolveUncached(text, visible);
      if (typeof text === "string" && !this.searchSkipped) {
        if (cache.results.size >= MAX_FILTERED_CACHE || cache.chars + text.length > MAX_CACHE_CHARS) {
          cache.results.clear();
          cache.chars = 0;
        }
        cache.results.set(text, filtered);
        cache.chars += text.length;
      }
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
    if (text.length > MAX_MEMBER_TEXT_LENGTH) {
      return invalid(`member ${echo(text)} has ${text.length} characters; the limit is ${MAX_MEMBER_TEXT_LENGTH} (MAX_MEMBER_TEXT_LENGTH)`);
    }
    const parts = parseMemberName(text);
    if (typeof parts === "string") return invalid(parts.replace(`"${text}"`, () => `"${echo(text)}"`));
    const long = parts.findIndex((p) => p.length > MAX_NAME_LENGTH);
    if (long >= 0) {
      return invalid(`member ${echo(text)}: part ${long + 1} is a name of ${parts[long].length} characters; the limit is ${MAX_NAME_LENGTH} (MAX_NAME_LENGTH)`);
    }
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
        const closest = this.closest(path[i], [dim], (visit) => {
          for (const id of siblings) if (!visit(0, id)) return;
        });
        return {
          code: "UNKNOWN_MEMBER",
          message: `unknown member ${echo(text)}: dimension ${dim.name} has no member "${echo(path[i])}" ${where}${closestText(closest)}`,
          candidates: closest ?? [],
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
        message: `ambiguous member ${echo(text)}: it matches ${found.length} members (${shown.join(", ")}${names.length > shown.length ? ", ..." : ""}); use a unique name`,
        candidates: shown,
      };
    }
    const closest = this.closest(
      parts[parts.length - 1],
      this.dims,
      (visit) => {
        for (let d = 0; d < this.dims.length; d++) for (let id = 0; id < this.dims[d].size; id++) if (!visit(d, id)) return;
      },
      visible,
    );
    const dimHint =
      parts.length > 1 ? ` (no dimension is named "${echo(parts[0])}"; dimensions: ${this.dims.map((x) => x.name).join(", ")})` : "";
    return {
      code: "UNKNOWN_MEMBER",
      message: `unknown member ${echo(text)}: no member of the cube is named "${echo(parts[parts.length - 1])}"${dimHint}${closestText(closest)}`,
      candidates: closest ?? [],
    };
  }

  /**
   * {@link closestNames} within the search allowance: null when the bucket is empty (and
   * `searchSkipped` set, as when the bucket cuts a search short).
   * @param visible with `dims` the cube's own dimensions, only the members it shows are candidates
   *   (the hidden ones count towards the allowance all the same).
   */
  private closest(
    wanted: string,
    dims: readonly Dimension[],
    members: (visit: (d: number, id: number) => boolean) => void,
    visible?: MemberFilter,
  ): string[] | null {
    const now = this.allowance.now();
    const { capacity, perSecond } = this.allowance;
    this.searchTokens = Math.min(capacity, this.searchTokens + (Math.max(0, now - this.searchAt) * perSecond) / 1000);
    this.searchAt = now;
    if (this.searchTokens < 1) {
      this.searchSkipped = true;
      return null;
    }
    const budget = Math.min(MAX_CLOSEST_COMPARED, Math.floor(this.searchTokens));
    let visited = 0;
    const names = closestNames(
      wanted,
      dims,
      (visit) =>
        members((d, id) => {
          visited++;
          if (visible && !this.shown(d, id, visible)) return visited < budget;
          return visit(d, id) && visited < budget;
        }),
    );
    this.searchTokens -= visited;
    if (visited >= budget && budget < MAX_CLOSEST_COMPARED) this.searchSkipped = true;
    return names;
  }
}

/** The end of an unknown member's message: its closest names, or why there are none. */
function closestText(closest: string[] | null): string {
  if (closest === null) return " (closest names not searched: too many unknown names were looked up just now)";
  return closest.length ? `; closest: ${closest.join(", ")}` : "";
}

function invalid(message: string): AddressError {
  return { code: "INVALID_ADDRESS", message, candidates: [] };
}

/**
 * The unique names of the (at most 5) members whose names are closest to `wanted` by edit
 * distance, within 60% of its length (at least 2), nearest first, then by unique name. Looks at
 * most MAX_CLOSEST_COMPARED members, skipping at no cost those whose length alone puts them too
 * far (the distance is at least the difference in length); nothing for a name over MAX_NAME_LENGTH.
 * @param members calls `visit(dimension index, member id)` for each candidate until it returns false.
 */
export function closestNames(wanted: string, dims: readonly Dimension[], members: (visit: (d: number, id: number) => boolean) => void): string[] {
  if (wanted.length > MAX_NAME_LENGTH) return [];
  const w = wanted.toLowerCase();
  const limit = Math.max(2, Math.ceil(w.length * 0.6));
  const near: { d: number; dim: number; id: number }[] = [];
  let seen = 0;
  members((dim, id) => {
    const name = dims[dim].names[id];
    if (Math.abs(name.length - w.length) <= limit) {
      const d = distance(w, name.toLowerCase());
      if (d <= limit) near.push({ d, dim, id });
    }
    return ++seen < MAX_CLOSEST_COMPARED;
  });
  near.sort((a, b) => a.d - b.d);
  // Unique names only for the nearest five and those tied with the fifth.
  const cut = near.length > 5 ? near[4].d : Number.POSITIVE_INFINITY;
  return near
    .filter((s) => s.d <= cut)
    .map((s) => ({ d: s.d, unique: dims[s.dim].uniqueName(s.id) }))
    .sort((a, b) => a.d - b.d || a.unique.localeCompare(b.unique))
    .slice(0, 5)
    .map((s) => s.unique);
}
