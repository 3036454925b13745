/**
 * The domain layer: the backend facade the services call, the cube registry, request checks and
 * domain errors. The write pipeline itself is in ../writes.
 */
export { Backend, type BackendOptions } from "./backend";
export { checkCellBatch, checkMembers, checkWrites, clampLimit } from "./checks";
export type { ServedCube } from "./cube-registry";
export { DomainError, type DomainErrorCode } from "./errors";
export * from "./limits";
export { DEFAULT_MAX_STREAMS_PER_USER, StreamQuota } from "./stream-quota";
export type { ScenarioCopyInput, ScenarioCopyOutcome, SpreadInput, WriteInput, WriteOutcome } from "../writes/types";
export { DEFAULT_SPREAD_MAX_NEW_CELLS } from "../writes/context";
