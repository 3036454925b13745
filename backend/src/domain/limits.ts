/** The API's request limits (see the README's "Limits and errors"), declared once in common/. */
export { MAX_CELLS_PER_REQUEST, MAX_MEMBERS_PER_ADDRESS, MAX_WRITES_PER_REQUEST, USER_HEADER } from "../../../common/limits";
