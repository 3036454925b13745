/**
 * Rights on the read paths: addresses resolved among the members the caller may see, cells the
 * caller may not read answered NO_ACCESS (never their value or version), and WatchCells streams
 * that follow rights changes (NO_ACCESS pushed when a cell's read right goes, its value when it
 * comes back). Also the one check for RPCs about one cell (comments, history).
 */
import type { AddressError, CellState, Cube } from "../lattice";
import { RIGHT, type Right, rightName, type UserRights } from "../security";
import { checkCellBatch, checkMembers } from "./checks";
import type { ServedCube } from "./cube-registry";
import { addressFailure, DomainError } from "./errors";
import type { CubeSecurity } from "./security";

/** A cell the caller may not read: its members all show (or it would be UNKNOWN_MEMBER), its right is None. */
export interface NoAccess {
  code: "NO_ACCESS";
  message: string;
  candidates: string[];
}

/** Why one cell of a batch has no value: its address (AddressError) or the caller's rights (NoAccess). */
export type CellProblem = AddressError | NoAccess;

/** A cell as a read answers it: its state, or why there is none. */
/**
 * A read's result for one cell: the problem, or its state with what the cube says of the address
 * (`formatString`: how Excel shows it, "" for none; see `Cube.formatOf`).
 */
export type CellResult =
  | { problem: CellProblem }
  | {
      state: CellState;
      consolidated: boolean;
      calculated: boolean;
      formatString: string;
      /** Read through a sandbox: whether the sandbox changed the cell or a leaf below it. */
      sandboxChanged?: boolean;
    };

/** What a request may do with a served cube: the cube, and the caller's rights on it now. */
export interface Access {
  served: ServedCube;
  /** The caller's user id. */
  user: string;
  rights: UserRights;
  /** The cube's live security (streams follow its changes). */
  security: CubeSecurity;
}

/** An address resolved for reading: the cell (also when it may not be read now), and the problem that stops a read now. */
export interface ReadTarget {
  /**
   * The cell; null when the address names none. A cell named through a member hidden from the
   * caller has its coordinates here too (a stream watches it, in case the right comes), with the
   * same UNKNOWN_MEMBER problem as a member that does not exist.
   */
  coords: Int32Array | null;
  problem: CellProblem | null;
}

/**
 * The name to tell a user for member `id` of dimension `d`: its unique name when the user sees it,
 * else "the <dimension> member of this cell" (a hidden default member the address took without
 * naming it, or a member hidden since): a message never names a hidden member.
 */
export function shownName(cube: Cube, rights: UserRights, d: number, id: number): string {
  return rights.visible(d, id) ? cube.dims[d].uniqueName(id) : `the ${cube.dims[d].name} member of this cell`;
}

/**
 * Why the caller lacks `need` on a cell, for a message: e.g. `your right on [Store].[USA].[CA] is read`.
 * Empty when the caller has it.
 */
export function lackingRight(cube: Cube, rights: UserRights, coords: ArrayLike<number>, need: Right): string {
  const lack = rights.lacking(coords, need);
  if (!lack) return "";
  return `your right on ${shownName(cube, rights, lack.dim, lack.member)} is ${rightName(lack.right)}`;
}

/** The NO_ACCESS problem of a cell the caller may not read. */
export function noAccess(cube: Cube, rights: UserRights, coords: ArrayLike<number>): NoAccess {
  return { code: "NO_ACCESS", message: `no access: you may not read this cell (${lackingRight(cube, rights, coords, RIGHT.read)})`, candidates: [] };
}

/**
 * Resolves a batch of addresses for reading as the caller (GetCells, WatchCells): among the members
 * the caller sees, each readable cell with no problem, each other with its per-cell problem.
 * @throws DomainError resource_exhausted over MAX_CELLS_PER_REQUEST; invalid_argument for an
 *   address of too many members.
 */
export function resolveReads(access: Access, cells: readonly { members: readonly string[] }[]): ReadTarget[] {
  checkCellBatch(cells.length);
  const { cube } = access.served;
  const { rights } = access;
  return cells.map((c, i) => {
    checkMembers(c.members, `cells[${i}].members`);
    const seen = cube.resolve(c.members, rights.visible);
    if (seen instanceof Int32Array) return { coords: seen, problem: rights.cell(seen) >= RIGHT.read ? null : noAccess(cube, rights, seen) };
    const any = cube.resolve(c.members);
    return { coords: any instanceof Int32Array ? any : null, problem: seen };
  });
}

/**
 * A readable cell's result from its state (`calculated` from the cube: the state may come from a tile cache).
 * @param sandboxChanged read through a sandbox: whether it changed the cell (absent: not through one).
 */
export function cellResult(cube: Cube, coords: Int32Array, state: CellState, sandboxChanged?: boolean): CellResult {
  const out = { state, consolidated: cube.isConsolidated(coords), calculated: cube.isCalculated(coords), formatString: cube.formatOf(coords) };
  return sandboxChanged === undefined ? out : { ...out, sandboxChanged };
}

/** What GuardedWatch watches cells in: the cube, or a sandbox's overlay (which also says which cells it changed). */
export type WatchLayer = Pick<Cube, "watch"> & { changedBelow?(coords: readonly Int32Array[]): boolean[] };

/**
 * A WatchCells stream with rights: the cells of a batch watched in the lattice, where only readable
 * cells ever report a change, and a change of the cube's security pushes the cells whose read right
 * went (as NO_ACCESS) or came (with their value). Indexes are those of the request.
 */
export class GuardedWatch {
  private readonly readable: boolean[];
  private readonly watched: number[] = [];
  private readonly slot: number[];
  private readonly watch: ReturnType<Cube["watch"]>;
  private readonly unsubscribe: () => void;
  private rights: UserRights;

  /**
   * @param onChange told the request indexes of cells to push again (readable ones whose value
   *   changed, and any whose readability changed).
   * @param layer where the cells are watched: a sandbox's overlay (lattice/overlay.ts); default the cube.
   */
  constructor(
    private readonly access: Access,
    private readonly targets: readonly ReadTarget[],
    onChange: (indexes: number[]) => void,
    private readonly layer?: WatchLayer,
  ) {
    const { cube } = access.served;
    this.rights = access.rights;
    this.readable = targets.map((t) => t.coords !== null && t.problem === null);
    this.slot = targets.map((t, i) => {
      if (t.coords === null) return -1;
      this.watched.push(i);
      return this.watched.length - 1;
    });
    const coords = this.watched.map((i) => targets[i].coords!);
    this.watch = (layer ?? cube).watch(coords, (idx) => {
      const out = idx.map((k) => this.watched[k]).filter((i) => this.readable[i]);
      if (out.length > 0) onChange(out);
    });
    this.unsubscribe = access.security.subscribe(() => {
      this.rights = access.security.forUser(access.user);
      const flipped: number[] = [];
      this.watched.forEach((i) => {
        const now = this.rights.cell(targets[i].coords!) >= RIGHT.read;
        if (now !== this.readable[i]) {
          this.readable[i] = now;
          flipped.push(i);
        }
      });
      if (flipped.length > 0) onChange(flipped);
    });
  }

  /** The current results of request cells `indexes` (all when omitted). */
  results(indexes?: readonly number[]): CellResult[] {
    const { cube } = this.access.served;
    const wanted = indexes ?? this.targets.map((_, i) => i);
    const readableSlots = wanted.filter((i) => this.readable[i]).map((i) => this.slot[i]);
    const states = readableSlots.length > 0 ? this.watch.states(readableSlots) : [];
    const readableCells = wanted.filter((i) => this.readable[i]).map((i) => this.targets[i].coords!);
    const changed = this.layer?.changedBelow?.(readableCells) ?? null;
    let k = 0;
    return wanted.map((i): CellResult => {
      const t = this.targets[i];
      if (this.readable[i]) {
        const j = k++;
        return cellResult(cube, t.coords!, states[j], changed ? changed[j] : undefined);
      }
      // Once rights changed, a watched cell that may not be read is NO_ACCESS (its name was known).
      if (t.coords !== null && this.rights !== this.access.rights) return { problem: noAccess(cube, this.rights, t.coords) };
      return { problem: t.problem ?? noAccess(cube, this.rights, t.coords!) };
    });
  }

  /** Stops watching cells and rights. */
  close(): void {
    this.watch.close();
    this.unsubscribe();
  }
}

/**
 * The cell an RPC about one cell names (a comment's, a history's), checked for the caller's right:
 * resolved among the members the caller sees.
 * @param need the right the RPC needs on the cell (Read to list comments or history, Write to comment).
 * @param what the action, for the message, e.g. `read the history of`.
 * @throws DomainError not_found for an unknown or hidden member, invalid_argument for any other bad
 *   address, permission_denied when the caller lacks `need` (naming the member that limits it).
 */
export function requireCell(access: Access, members: readonly string[], need: Right, what: string): Int32Array {
  const { cube } = access.served;
  checkMembers(members, "members");
  const coords = cube.resolve(members, access.rights.visible);
  if (!(coords instanceof Int32Array)) throw addressFailure(coords);
  if (access.rights.cell(coords) < need) {
    throw new DomainError(`you may not ${what} this cell: it needs the ${rightName(need)} right, and ${lackingRight(cube, access.rights, coords, need)}`, "permission_denied");
  }
  return coords;
}

/**
 * A leaf cell a request names (e.g. CommitSandbox's keep_mine), resolved among the members the
 * caller sees.
 * @param where the field, for messages, e.g. `keep_mine[0]`.
 * @throws DomainError not_found for an unknown or hidden member, invalid_argument for any other bad
 *   address or a consolidated or calculated cell.
 */
export function requireLeaf(access: Access, members: readonly string[], where: string): Int32Array {
  const { cube } = access.served;
  checkMembers(members, `${where}.members`);
  const coords = cube.resolve(members, access.rights.visible);
  if (!(coords instanceof Int32Array)) throw addressFailure(coords, where);
  if (cube.isConsolidated(coords) || cube.isCalculated(coords)) throw new DomainError(`${where}: ${members.join(", ")} is not a leaf cell`, "invalid_argument");
  return coords;
}
