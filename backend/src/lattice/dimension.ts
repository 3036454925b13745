import { bracket, escapeName, parseUniqueName } from "../../../common/names";
import type { DimensionDef } from "./model";

/**
 * A dimension's hierarchy, indexed for the lattice: parent links, weights, depths, unique names,
 * and for every member the range of leaves below it in depth-first order, so that "is this leaf
 * under that member" is two comparisons.
 *
 * Member ids are indexes into `DimensionDef.members`; they are stable for a stored cube.
 */
export class Dimension {
  readonly name: string;
  readonly levels: readonly string[];
  readonly hasAll: boolean;
  /** Number of members. */
  readonly size: number;
  readonly parent: Int32Array;
  /** Weight of each member into its parent (1 unless declared). */
  readonly weight: Float64Array;
  /** Depth below the top (top-level members are 0). */
  readonly depth: Int32Array;
  /** Level index (into `levels`) of each member. */
  readonly level: Int32Array;
  /** Member names (own name, not the path). */
  readonly names: readonly string[];
  readonly captions: readonly string[];
  readonly aliases: readonly (readonly string[])[];
  /** Children ids of each member, in definition order. */
  readonly children: readonly Int32Array[];
  /** Top-level member ids. */
  readonly roots: Int32Array;
  /** First leaf position (depth-first leaf order) under each member, inclusive. */
  readonly leafLo: Int32Array;
  /** Last leaf position under each member, exclusive. */
  readonly leafHi: Int32Array;
  /** Leaf position of each member (-1 for consolidated members). */
  readonly leafPos: Int32Array;
  /** Member id at each leaf position. */
  readonly leafAt: Int32Array;
  /** Number of leaves. */
  readonly leafCount: number;
  /** True when some member has a weight other than 1. */
  readonly weighted: boolean;
  /** Id of the member used when an address leaves this dimension out. */
  readonly defaultMember: number;
  /** Number format codes of the members that have one (`MemberDef.formatString`), by member id. */
  readonly formats: ReadonlyMap<number, string>;
  private readonly uniqueNames: string[];

  /**
   * Builds the index.
   * @throws Error when the definition is malformed (a parent after its child, sibling names that
   *   collide, an unknown default member, no members).
   */
  constructor(def: DimensionDef) {
    const n = def.members.length;
    if (n === 0) throw new Error(`dimension ${def.name} has no members`);
    this.name = def.name;
    this.levels = def.levels;
    this.hasAll = def.hasAll;
    this.size = n;
    this.parent = new Int32Array(n);
    this.weight = new Float64Array(n);
    this.depth = new Int32Array(n);
    this.level = new Int32Array(n);
    const childLists: number[][] = Array.from({ length: n }, () => []);
    const rootList: number[] = [];
    let weighted = false;
    const names: string[] = new Array(n);
    const captions: string[] = new Array(n);
    const aliases: string[][] = new Array(n);
    const formats = new Map<number, string>();
    for (let i = 0; i < n; i++) {
      const m = def.members[i];
      if (m.formatString) formats.set(i, m.formatString);
      if (m.parent >= i) {
        throw new Error(`dimension ${def.name}: member ${i} ("${m.name}") comes before its parent ${m.parent}`);
      }
      this.parent[i] = m.parent;
      const w = m.weight ?? 1;
      if (!Number.isFinite(w)) throw new Error(`dimension ${def.name}: member "${m.name}" has weight ${w}`);
      if (w !== 1) weighted = true;
      this.weight[i] = w;
      this.depth[i] = m.parent < 0 ? 0 : this.depth[m.parent] + 1;
      this.level[i] = m.level;
      names[i] = m.name;
      captions[i] = m.caption ?? m.name;
      aliases[i] = m.aliases ?? [];
      if (m.parent < 0) rootList.push(i);
      else childLists[m.parent].push(i);
    }
    this.weighted = weighted;
    this.formats = formats;
    this.names = names;
    this.captions = captions;
    this.aliases = aliases;
    this.children = childLists.map((c) => Int32Array.from(c));
    this.roots = Int32Array.from(rootList);

    // Depth-first leaf order, iteratively (hierarchies can be deep and wide).
    this.leafLo = new Int32Array(n);
    this.leafHi = new Int32Array(n);
    this.leafPos = new Int32Array(n).fill(-1);
    const leafAt: number[] = [];
    const stack: number[] = [];
    const exit: boolean[] = [];
    for (let r = rootList.length - 1; r >= 0; r--) {
      stack.push(rootList[r]);
      exit.push(false);
    }
    while (stack.length > 0) {
      const m = stack.pop()!;
      const leaving = exit.pop()!;
      if (leaving) {
        this.leafHi[m] = leafAt.length;
        continue;
      }
      this.leafLo[m] = leafAt.length;
      const kids = childLists[m];
      if (kids.length === 0) {
        this.leafPos[m] = leafAt.length;
        leafAt.push(m);
        this.leafHi[m] = leafAt.length;
        continue;
      }
      stack.push(m);
      exit.push(true);
      for (let k = kids.length - 1; k >= 0; k--) {
        stack.push(kids[k]);
        exit.push(false);
      }
    }
    this.leafAt = Int32Array.from(leafAt);
    this.leafCount = leafAt.length;

    this.uniqueNames = memberUniqueNames(def);
    const seen = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const key = this.uniqueNames[i].toLowerCase();
      const prev = seen.get(key);
      if (prev !== undefined) {
        throw new Error(`dimension ${def.name}: two members have the unique name ${this.uniqueNames[i]}`);
      }
      seen.set(key, i);
    }
    if (this.hasAll && rootList.length !== 1) {
      throw new Error(`dimension ${def.name} has an All level but ${rootList.length} top-level members`);
    }

    if (def.defaultMember) {
      const id = seen.get(def.defaultMember.toLowerCase());
      if (id === undefined) {
        throw new Error(`dimension ${def.name}: default member ${def.defaultMember} does not exist`);
      }
      this.defaultMember = id;
    } else {
      this.defaultMember = rootList[0];
    }
  }

  /** The MDX-style unique name of a member, e.g. `[Store].[USA].[CA]`. */
  uniqueName(id: number): string {
    return this.uniqueNames[id];
  }

  /** True when the member has no children. */
  isLeaf(id: number): boolean {
    // Leaves, and only they, have a depth-first leaf position.
    return this.leafPos[id] >= 0;
  }

  /** True when `leaf` (a leaf member id) lies under `member` or is it. */
  contains(member: number, leaf: number): boolean {
    const p = this.leafPos[leaf];
    return p >= this.leafLo[member] && p < this.leafHi[member];
  }

  /**
   * The weight with which `descendant` adds into `ancestor`: the product of the weights along the
   * path (1 for the member itself). TM1 calls these consolidation weights.
   */
  relativeWeight(descendant: number, ancestor: number): number {
    let w = 1;
    let m = descendant;
    while (m !== ancestor) {
      if (m < 0) return 0;
      w *= this.weight[m];
      m = this.parent[m];
    }
    return w;
  }

  /** True when the member covers every leaf of the dimension. */
  coversAll(member: number): boolean {
    return this.leafLo[member] === 0 && this.leafHi[member] === this.leafCount;
  }
}

/**
 * The MDX-style unique name of every member of a dimension definition, by member index:
 * `[Dimension].[top].[...].[member]`, the path of names from the top-level member; the All member
 * is not part of the path (`[Store].[USA].[CA]`), and its own name is `[Dimension].[All name]`.
 * This is the one definition of the rule; the loader uses it too.
 */
export function memberUniqueNames(def: DimensionDef): string[] {
  const n = def.members.length;
  const out: string[] = new Array(n);
  const dimPart = bracket(def.name);
  for (let i = 0; i < n; i++) {
    const p = def.members[i].parent;
    const own = bracket(def.members[i].name);
    if (p < 0 || (def.hasAll && def.members[p].parent < 0)) out[i] = `${dimPart}.${own}`;
    else out[i] = `${out[p]}.${own}`;
  }
  return out;
}

/** Escapes `]` as `]]`, as MDX does inside brackets (common/names.ts). */
export { escapeName };

/**
 * Splits an MDX-style member name into its parts with the one parser of common/names.ts, bare
 * names taken whole: `[Store].[USA].[CA]` gives `["Store", "USA", "CA"]`; a bare name `CA` gives
 * `["CA"]`. Inside brackets `]]` stands for `]`.
 * @returns the parts, or a message saying what is wrong and at which character.
 */
export function parseMemberName(text: string): string[] | string {
  const r = parseUniqueName(text);
  return r.ok ? r.parts : r.message;
}
