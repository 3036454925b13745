/** The API's request limits (see the README's "Limits and errors"). */

/** Most cells in one GetCells or WatchCells request. */
export const MAX_CELLS_PER_REQUEST = 20_000;
/** Most writes in one WriteCells request. */
export const MAX_WRITES_PER_REQUEST = 10_000;
/** Most members in one address. */
export const MAX_MEMBERS_PER_ADDRESS = 64;
/** The request header that names the user until sign-in exists. */
export const USER_HEADER = "x-quantatom-user";
