/** The API's request limits (see the README's "Limits and errors"), declared once in common/. */
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
} from "../../../common/limits";
