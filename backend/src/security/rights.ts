/**
 * Rights evaluation: a cube's security model compiled, per user, into one array of rights by member
 * id per dimension, so that a cell's right is a few array reads (GetCells checks up to 20,000 cells
 * a request). The rules, and where each comes from:
 *
 * - **Groups, highest wins.** A user's right on a member is the highest right any of the user's
 *   groups has on it (IBM Planning Analytics, "Membership in multiple groups": "A user who is a
 *   member of multiple groups receives the highest level of permissions from all groups",
 *   https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=groups-membership-in-multiple).
 * - **Inherited down the hierarchy unless set lower down.** A group's right on a member is the one
 *   set on it, else on its nearest ancestor, else on the whole dimension (`[Dimension]`), else None
 *   (TM1's }ElementSecurity cubes: an empty cell is None,
 *   https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=cubes-elementsecurity-dimensionname).
 *   TM1 itself sets rights element by element and cascades them with rules or processes; Oracle
 *   Planning's `iDescendants` inheritance is the model here: "Assigned access permissions take
 *   precedence over inherited access permissions"
 *   (https://docs.oracle.com/en/applications/enterprise-performance-management/11.2/pstdi/types_of_access_permissions.html).
 * - **Lowest across dimensions.** A cell's right is the lowest of its members' rights: a cell is as
 *   open as its most closed coordinate (TM1's element security applies on every dimension of the
 *   cell at once).
 * - **Unsecured dimensions.** A dimension on which no group of the cube sets any right is not
 *   secured: everyone's right there is Spread (TM1: a dimension without an }ElementSecurity cube).
 * - **Admin.** A cube's admins and the server's admins (QATOM_ADMINS) have every right on every
 *   member (IBM, "Admin privilege": members "can view, update, and delete cells ... They can also
 *   grant access privileges", https://www.ibm.com/docs/en/planning-analytics/2.0.0?topic=privileges-admin-privilege).
 * - **Open cubes.** A cube without a security section is open: every user has Spread everywhere.
 * - **Who sees a cube.** In a secured cube, its admins and the members of at least one of its
 *   groups; anyone else has None on everything and the cube is hidden.
 * - **Which members show.** A member shows when the user has at least Read on it or on a member
 *   below it: ancestors of what one may read stay visible so the hierarchy can be navigated (their
 *   cells may still be NO_ACCESS), as Oracle's "Default Ancestor Access" keeps hierarchies in Smart
 *   View grids with #NoAccess cells
 *   (https://docs.oracle.com/en/cloud/saas/enterprise-performance-management-common/svufc/ancestor_access_mbrs.html).
 */
import type { Cube, Dimension, LeafWriteMasks, MemberFilter } from "../lattice";
import { RIGHT, type Right, type SecurityModel, wholeDimension } from "./model";

/** Per user and dimension: the right on each member, and over its subtree the highest and the lowest leaf right. */
export interface DimensionRights {
  /** Right on each member (by member id). */
  right: Uint8Array;
  /** Highest right on the member or any member below it: a member shows when this is at least Read. */
  highestBelow: Uint8Array;
  /** Lowest right on the leaves below the member (its own for a leaf): every leaf below may be written when at least Write. */
  lowestLeaf: Uint8Array;
}

/** Users whose compiled rights a CubeRights keeps at most; beyond, the cache starts again. */
const MAX_CACHED_USERS = 10_000;

/** What CubeRights needs of a cube: its dimensions. */
export type SecuredCube = Pick<Cube, "dims">;

/**
 * One cube's security, compiled: built once per model version (a change builds a new one, so every
 * cached user right goes with the old), it answers any user's rights on the cube.
 */
export class CubeRights {
  /** Whether the cube has a security section (false: open to every user). */
  readonly secured: boolean;
  /** Indexes of the dimensions some group sets a right on (the others are unsecured). */
  readonly securedDims: readonly number[];
  private readonly admins: Set<string>;
  /** Per group (lowercase name): per dimension, the group's inherited rights (null: unsecured dimension). */
  private readonly groupRights = new Map<string, (Uint8Array | null)[]>();
  private readonly userGroups = new Map<string, string[]>();
  private readonly users = new Map<string, UserRights>();
  private readonly dims: readonly Dimension[];
  private readonly idsByName: (Map<string, number> | undefined)[] = [];

  /**
   * @param model the cube's security, in canonical form (validate.ts `checkModel`); null: open cube.
   * @param serverAdmins user ids that administer every cube (QATOM_ADMINS).
   */
  constructor(
    cube: SecuredCube,
    readonly model: SecurityModel | null,
    serverAdmins: Iterable<string> = [],
  ) {
    this.dims = cube.dims;
    this.secured = model !== null;
    this.admins = new Set([...serverAdmins, ...(model?.admins ?? [])]);
    const secured = new Set<number>();
    for (const g of model?.groups ?? []) {
      for (const [dimName, members] of Object.entries(g.rights)) {
        const d = this.dims.findIndex((x) => x.name === dimName);
        if (d >= 0 && Object.keys(members).length > 0) secured.add(d);
      }
    }
    this.securedDims = [...secured].sort((a, b) => a - b);
    for (const u of model?.users ?? []) this.userGroups.set(u.id, u.groups);
  }

  /** True when `user` administers the cube (a cube admin or a server admin). */
  isAdmin(user: string): boolean {
    return this.admins.has(user);
  }

  /** The rights of `user` on this cube, compiled on first use and cached. */
  forUser(user: string): UserRights {
    let r = this.users.get(user);
    if (r) return r;
    r = this.compile(user);
    if (this.users.size >= MAX_CACHED_USERS) this.users.clear();
    this.users.set(user, r);
    return r;
  }

  private compile(user: string): UserRights {
    const n = this.dims.length;
    if (!this.secured || this.isAdmin(user)) return new UserRights(user, this.isAdmin(user), true, [], new Array(n).fill(null), this.dims);
    const groups = this.userGroups.get(user) ?? [];
    const dimRights: (DimensionRights | null)[] = new Array(n).fill(null);
    for (const d of this.securedDims) {
      const dim = this.dims[d];
      const right = new Uint8Array(dim.size);
      for (const g of groups) {
        const inherited = this.inherited(g)[d];
        if (!inherited) continue;
        for (let m = 0; m < dim.size; m++) if (inherited[m] > right[m]) right[m] = inherited[m];
      }
      dimRights[d] = summarize(dim, right);
    }
    if (groups.length === 0) {
      // Not in any group of a secured cube: None everywhere, the cube hidden.
      for (let d = 0; d < n; d++) dimRights[d] = summarize(this.dims[d], new Uint8Array(this.dims[d].size));
    }
    return new UserRights(user, false, groups.length > 0, groups, dimRights, this.dims);
  }

  /** A group's inherited rights per dimension (null: a dimension this cube does not secure). */
  private inherited(group: string): (Uint8Array | null)[] {
    const key = group.toLowerCase();
    const hit = this.groupRights.get(key);
    if (hit) return hit;
    const declared = this.model?.groups.find((g) => g.name.toLowerCase() === key);
    const out: (Uint8Array | null)[] = this.dims.map(() => null);
    for (const d of this.securedDims) {
      const dim = this.dims[d];
      const explicit = new Int8Array(dim.size).fill(-1);
      let top: number = RIGHT.none;
      const whole = wholeDimension(dim.name);
      for (const [member, right] of Object.entries(declared?.rights[dim.name] ?? {})) {
        if (member === whole) top = RIGHT[right];
        else {
          const id = this.memberIds(d).get(member);
          if (id !== undefined) explicit[id] = RIGHT[right];
        }
      }
      // Members come parent first (Dimension's invariant), so one pass inherits top-down.
      const inherited = new Uint8Array(dim.size);
      for (let m = 0; m < dim.size; m++) {
        const p = dim.parent[m];
        inherited[m] = explicit[m] >= 0 ? explicit[m] : p >= 0 ? inherited[p] : top;
      }
      out[d] = inherited;
    }
    this.groupRights.set(key, out);
    return out;
  }

  /** Member ids of dimension `d` by unique name (exactly, as canonical models spell them). */
  private memberIds(d: number): Map<string, number> {
    let ids = this.idsByName[d];
    if (!ids) {
      const dim = this.dims[d];
      ids = new Map();
      for (let m = 0; m < dim.size; m++) ids.set(dim.uniqueName(m), m);
      this.idsByName[d] = ids;
    }
    return ids;
  }
}

/** A dimension's member rights with, per member, the highest right below it and the lowest leaf right below it. */
function summarize(dim: Dimension, right: Uint8Array): DimensionRights {
  const highestBelow = Uint8Array.from(right);
  const lowestLeaf = new Uint8Array(dim.size).fill(255);
  for (let m = 0; m < dim.size; m++) if (dim.isLeaf(m)) lowestLeaf[m] = right[m];
  // Children come after their parents: fold from the last member up.
  for (let m = dim.size - 1; m >= 0; m--) {
    const p = dim.parent[m];
    if (p < 0) continue;
    if (highestBelow[m] > highestBelow[p]) highestBelow[p] = highestBelow[m];
    if (lowestLeaf[m] < lowestLeaf[p]) lowestLeaf[p] = lowestLeaf[m];
  }
  return { right, highestBelow, lowestLeaf };
}

/**
 * One user's rights on one cube (see the module comment for the rules). Dimensions with no entry
 * (null) give Spread on every member: unsecured dimensions, and every dimension for an admin or in
 * an open cube.
 */
export class UserRights {
  private masks: LeafWriteMasks | null = null;
  private readonly secured: number[];

  constructor(
    readonly user: string,
    /** Whether the user administers the cube (every right, and may change its security). */
    readonly admin: boolean,
    /** Whether the cube shows to the user at all (see the module comment). */
    readonly sees: boolean,
    /** The user's groups in this cube. */
    readonly groups: readonly string[],
    /** Per dimension, the user's rights, or null for Spread on every member. */
    readonly dims: readonly (DimensionRights | null)[],
    private readonly dimensions: readonly Dimension[],
  ) {
    this.secured = [];
    dims.forEach((r, d) => {
      if (r) this.secured.push(d);
    });
  }

  /** The user's right on member `id` of dimension `d`. */
  member(d: number, id: number): Right {
    const r = this.dims[d];
    return (r ? r.right[id] : RIGHT.spread) as Right;
  }

  /** The user's right on a cell: the lowest of its members' rights. */
  cell(coords: ArrayLike<number>): Right {
    let low: number = RIGHT.spread;
    for (const d of this.secured) {
      const r = this.dims[d]!.right[coords[d]];
      if (r < low) {
        low = r;
        if (low === RIGHT.none) break;
      }
    }
    return low as Right;
  }

  /**
   * The first dimension (in cube order) whose member gives the cell less than `need`, with that
   * member and its right; null when the cell has at least `need`. For messages.
   */
  lacking(coords: ArrayLike<number>, need: Right): { dim: number; member: number; right: Right } | null {
    for (const d of this.secured) {
      const r = this.dims[d]!.right[coords[d]];
      if (r < need) return { dim: d, member: coords[d], right: r as Right };
    }
    return null;
  }

  /** Which members show to the user (see the module comment), as the engine's MemberFilter. */
  readonly visible: MemberFilter = (d, id) => {
    const r = this.dims[d];
    return !r || r.highestBelow[id] >= RIGHT.read;
  };

  /** True when the user has at least `need` on every leaf below member `id` of dimension `d` (and on it, for a leaf). */
  everyLeaf(d: number, id: number, need: Right): boolean {
    const r = this.dims[d];
    return !r || r.lowestLeaf[id] >= need;
  }

  /**
   * The highest member at or below `id` (dimension `d`, depth first) whose leaves the user may not
   * all have `need` on and none of which the user has it on; or the first such leaf. -1 when every
   * leaf below has `need`. Names "the first member lacking the right" in messages.
   */
  firstLacking(d: number, id: number, need: Right): number {
    const r = this.dims[d];
    if (!r || r.lowestLeaf[id] >= need) return -1;
    const dim = this.dimensions[d];
    const stack = [id];
    while (stack.length > 0) {
      const m = stack.pop()!;
      if (r.lowestLeaf[m] >= need) continue;
      if (r.highestBelow[m] < need || dim.isLeaf(m)) return m;
      const kids = dim.children[m];
      for (let k = kids.length - 1; k >= 0; k--) stack.push(kids[k]);
    }
    return -1;
  }

  /** Per dimension, the leaf members the user may write (1) or not (0), for the spread planner; null entries allow all. */
  writeMasks(): LeafWriteMasks {
    if (!this.masks) {
      this.masks = this.dims.map((r) => {
        if (!r) return null;
        const mask = new Uint8Array(r.right.length);
        for (let m = 0; m < mask.length; m++) mask[m] = r.right[m] >= RIGHT.write ? 1 : 0;
        return mask;
      });
    }
    return this.masks;
  }

  /** How many members and leaves of dimension `d` show to the user. */
  visibleCount(d: number): { members: number; leaves: number } {
    const r = this.dims[d];
    const dim = this.dimensions[d];
    if (!r) return { members: dim.size, leaves: dim.leafCount };
    let members = 0;
    let leaves = 0;
    for (let m = 0; m < dim.size; m++) {
      if (r.highestBelow[m] < RIGHT.read) continue;
      members++;
      if (dim.isLeaf(m)) leaves++;
    }
    return { members, leaves };
  }
}
