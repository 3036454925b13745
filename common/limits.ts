/**
 * Limits of the API that both sides enforce: the server refuses a request over them (a
 * `resource_exhausted` error, see backend/src/domain/checks.ts) and the add-in splits its requests or refuses
 * the formula before sending, so that a big sheet never trips them.
 */

/** Most cells in one GetCells or WatchCells request; the add-in's batcher sends larger waves in chunks. */
export const MAX_CELLS_PER_REQUEST = 20_000;

/** Most writes (and most holds) in one WriteCells request; the add-in's Submit sends more in several. */
export const MAX_WRITES_PER_REQUEST = 10_000;

/** Most members in one cell address; a QATOM function with more is `#VALUE!` before any request. */
export const MAX_MEMBERS_PER_ADDRESS = 64;

/**
 * The request header that names the user until sign-in exists. HTTP header names are
 * case-insensitive (RFC 9110, section 5.1); fetch sends them lower-cased, as written here.
 */
export const USER_HEADER = "x-quantatom-user";
