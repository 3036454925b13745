/**
 * The shape of a cube's security, as the model file declares it (`security:`), as the store keeps
 * it (one JSON document per cube) and as the admin RPCs change it: groups of users, each group's
 * rights on members per dimension, the users with their display names and groups, and the cube's
 * admins. Plain data, no behaviour; rights.ts compiles it for evaluation, validate.ts checks it
 * against a cube, operations.ts changes it.
 *
 * Rights, lowest first (TM1's element security levels, IBM Planning Analytics "ElementSecurityPut":
 * None, Read, Write, Reserve, Lock, Admin; Jedox's cell data rights N, R, W, D, S, where S "splash"
 * is the right to write into consolidated cells):
 * - `none`: the member is hidden; cells with it may not be read.
 * - `read`: cells may be read.
 * - `write`: leaf cells may be written (and read).
 * - `spread`: consolidated cells may be written, spreading to the leaves below (Jedox's splash right,
 *   https://knowledgebase.jedox.com/jedox/security/rights-users.htm: "S (splash) ... includes
 *   writing into consolidated cells and (indirectly) their children").
 * TM1's Reserve and Lock are not rights here (no reservations or locks exist); its Admin is the
 * cube-wide admin role (`admins`), which has every right and may change the security.
 * @see https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=functions-elementsecurityput
 */
import { bracket } from "../../../common/names";

/** A right's name as the model file and the API spell it (lowercase). */
export type RightName = "none" | "read" | "write" | "spread";

/** Rights as numbers, lowest first: comparisons order them (a right includes every lower one). */
export const RIGHT = { none: 0, read: 1, write: 2, spread: 3 } as const satisfies Record<RightName, number>;

/** A right as a number (see RIGHT). */
export type Right = (typeof RIGHT)[RightName];

/** Right names by number. */
export const RIGHT_NAMES: readonly RightName[] = ["none", "read", "write", "spread"];

/** The name of a right number, e.g. `write` for 2. */
export function rightName(r: number): RightName {
  return RIGHT_NAMES[r] ?? "none";
}

/** A right parsed from text (case-insensitive), or null when the text names none. */
export function parseRight(text: string): Right | null {
  const r = (RIGHT as Record<string, Right>)[text.trim().toLowerCase()];
  return r === undefined ? null : r;
}

/**
 * A group's explicit rights: dimension name → member → right. A member is its unique name as the
 * cube spells it (`[Store].[USA].[WA]`), or `[Dimension]` for the whole dimension (every top-level
 * member: the right every member inherits unless one is set lower down).
 */
export type GroupRights = Record<string, Record<string, RightName>>;

/** A group of users and its rights. */
export interface SecurityGroup {
  /** Unique in the cube (case-insensitively). */
  name: string;
  rights: GroupRights;
}

/** A user declared in a cube's security. */
export interface SecurityUser {
  /**
   * The user id as requests carry it: the verified access token's subject (services/requests.ts
   * `userOf`; `oid` for Entra ID). Compared exactly.
   */
  id: string;
  /** Display name (the id when the file gives none). */
  name: string;
  /** Names of the groups the user belongs to. */
  groups: string[];
}

/**
 * A cube's security. A cube without one (null where a model is expected) is open: every signed-in
 * user has every right but the admin role (see rights.ts).
 */
export interface SecurityModel {
  /** User ids with the Admin role over the cube: every right, and they may change this security. */
  admins: string[];
  groups: SecurityGroup[];
  users: SecurityUser[];
}

/** A security model with its version in the store (1 when loaded from a model file; +1 per change). */
export interface VersionedSecurity {
  model: SecurityModel;
  version: number;
}

/** The token for a whole dimension in a group's rights, e.g. `[Store]`. */
export function wholeDimension(dimension: string): string {
  return bracket(dimension);
}

/** An empty model: no admins, groups or users (a cube secured with nothing granted yet). */
export function emptyModel(): SecurityModel {
  return { admins: [], groups: [], users: [] };
}
