/**
 * Rights on members (TM1's element security, Jedox's splash right): the security model of a cube
 * (model.ts), its checks against the cube (validate.ts), the rights of a user compiled for cheap
 * evaluation (rights.ts), and the admin operations (operations.ts). Engine-independent and free of
 * I/O: the domain layer (domain/security.ts) loads, stores, publishes and enforces it; the write
 * pipeline checks it in its own step (writes/rights.ts).
 */
export * from "./model";
export { type AppliedChange, applyChange, type SecurityChange } from "./operations";
export { CubeRights, type DimensionRights, type SecuredCube, UserRights } from "./rights";
export { type CubeShape, checkModel, checkName, checkRight, MAX_NAME_LENGTH, rightKey, SecurityModelError, type SecurityModelInput } from "./validate";
