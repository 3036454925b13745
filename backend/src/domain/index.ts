/**
 * The domain layer: the backend facade the services call, the cube registry, request checks and
 * domain errors, rights on the read paths (access.ts) and the security of the served cubes
 * (security.ts, security-admin.ts). The write pipeline itself is in ../writes, the rights model in
 * ../security.
 */
export { type Access, type CellProblem, type CellResult, GuardedWatch, type NoAccess, requireCell, requireLeaf } from "./access";
export { Backend, type BackendOptions, type ServedCubeWithSecurity } from "./backend";
export type { ChangeOutcome, KnownUser, SecurityAdmin, SecurityView } from "./security-admin";
export { checkCellBatch, checkMembers, checkWrites, clampLimit } from "./checks";
export type { ServedCube } from "./cube-registry";
export { tenantOf } from "./cube-registry";
export { DomainError, type DomainErrorCode } from "./errors";
export * from "./limits";
export { DEFAULT_MAX_STREAMS_PER_USER, StreamQuota } from "./stream-quota";
export type { ScenarioCopyInput, ScenarioCopyOutcome, SpreadInput, UndoConflict, UndoOutcome, WriteInput, WriteOutcome } from "../writes/types";
export { DEFAULT_SPREAD_MAX_NEW_CELLS } from "../writes/context";
