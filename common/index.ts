/**
 * Code the client and the server share: the add-in (`addin/`, `functions/`, `taskpane/`) and the
 * backend import it; it imports nothing from either. Pure TypeScript: no `node:*`, no DOM, no
 * Office, since it is bundled into the add-in (see README.md beside this file; the rule is checked
 * by test/boundaries.test.ts).
 */
export {
  MAX_ABS_VALUE,
  MAX_CELLS_PER_REQUEST,
  MAX_COMMENT_LENGTH,
  MAX_MEMBER_TEXT_LENGTH,
  MAX_MEMBERS_PER_ADDRESS,
  MAX_NAME_LENGTH,
  MAX_SEARCH_LENGTH,
  MAX_STRING_FIELD_LENGTH,
  MAX_WRITES_PER_REQUEST,
  VALUE_BOUND_TEXT,
  valueBoundProblem,
} from "./limits";
export {
  type BracketedName,
  bracket,
  escapeName,
  joinUniqueName,
  type NameErrorCode,
  type NameParseResult,
  type NameSyntaxError,
  type ParseNameOptions,
  parseUniqueName,
  readBracketed,
} from "./names";
export { DATA_ACTIONS, type DataAction, SPREAD_METHOD_CODES, type SpreadMethodCode } from "./spreading/codes";
export { growth, straightLine } from "./spreading/line";
export { type Direction, parseSpreadCode, type SpreadCode, type SpreadParseError, type SpreadParseResult } from "./spreading/parse";
export { DEFAULT_TENANT, TENANT_ID } from "./tenants";
