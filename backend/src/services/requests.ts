/**
 * Request fields as the domain takes them: the verified caller's id, protobuf int64s as numbers,
 * and the proto's Spread as a SpreadInput. Each throws a DomainError naming the bad field.
 */
import type { HandlerContext } from "@connectrpc/connect";
import { DataAction, type Spread, SpreadMethod } from "../../../proto/gen/quantatom/v1/lattice_pb";
import { principalOf } from "../auth";
import { checkMembers, DomainError, type SpreadInput } from "../domain";
import type { SpreadMethodCode } from "../lattice";

/**
 * The verified caller's id (the token's subject, see auth/principal.ts): what audit records,
 * comments and history carry. Nothing the client sends otherwise (a header, a field) names the user.
 * @throws ConnectError unauthenticated when the request carries no verified caller.
 */
export function userOf(ctx: HandlerContext): string {
  return principalOf(ctx).subject;
}

/**
 * The verified caller's tenant (the token's `tid`, see auth/principal.ts): the only cubes the
 * call may name, list or stream are this tenant's.
 * @throws ConnectError unauthenticated when the request carries no verified caller.
 */
export function tenantOfCall(ctx: HandlerContext): string {
  return principalOf(ctx).tenant;
}

/**
 * Converts a protobuf int64 (bigint) that must fit a JavaScript number exactly.
 * @throws DomainError invalid_argument when it is beyond 2^53 - 1 or negative.
 */
export function toSafeNumber(v: bigint, field: string): number {
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new DomainError(`${field} is ${v}; it must be from 0 to ${Number.MAX_SAFE_INTEGER}`, "invalid_argument");
  }
  return Number(v);
}

const SPREAD_METHODS: Record<SpreadMethod, SpreadMethodCode | null> = {
  [SpreadMethod.UNSPECIFIED]: null,
  [SpreadMethod.PROPORTIONAL]: "P",
  [SpreadMethod.EQUAL]: "S",
  [SpreadMethod.EQUAL_LEAVES]: "LS",
  [SpreadMethod.REPEAT]: "R",
  [SpreadMethod.REPEAT_LEAVES]: "LR",
  [SpreadMethod.PERCENT_CHANGE]: "P%",
  [SpreadMethod.RELATIVE_PROPORTIONAL]: "RP",
  [SpreadMethod.RELATIVE_PERCENT]: "R%",
  [SpreadMethod.CLEAR]: "C",
};

const DATA_ACTIONS: Record<DataAction, SpreadInput["action"]> = {
  [DataAction.REPLACE]: "replace",
  [DataAction.ADD]: "add",
  [DataAction.SUBTRACT]: "subtract",
};

/**
 * A proto Spread as the backend takes it.
 * @throws DomainError invalid_argument for an unknown method or action, or a percent that is not finite.
 */
export function spreadInput(sp: Spread, i: number): SpreadInput {
  const method = SPREAD_METHODS[sp.method];
  if (method === undefined) throw new DomainError(`writes[${i}].spread.method ${sp.method} is not a known SpreadMethod`, "invalid_argument");
  const action = DATA_ACTIONS[sp.action];
  if (action === undefined) throw new DomainError(`writes[${i}].spread.action ${sp.action} is not a known DataAction`, "invalid_argument");
  if (!Number.isFinite(sp.percent)) {
    throw new DomainError(`writes[${i}].spread.percent is ${sp.percent}; it must be a finite number`, "invalid_argument");
  }
  checkMembers(sp.reference, `writes[${i}].spread.reference`);
  return { method, action, includeEmpty: sp.includeEmpty, percent: sp.percent, reference: sp.reference };
}
