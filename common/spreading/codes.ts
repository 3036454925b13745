/**
 * The codes of TM1 data spreading that the add-in and the server share: the spread methods over
 * the leaves of a consolidated cell and the data actions, as IBM Planning Analytics names them in
 * its "Data spreading and hold syntax reference table"
 * (https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=syntax-data-spreading-hold-reference-table).
 * The proto carries them as `SpreadMethod` / `DataAction` enums; each side maps those to these codes.
 */

/**
 * TM1's spread methods over the leaves of a consolidated cell, by their codes: proportional `P`,
 * equal `S`, equal leaves `LS`, repeat `R`, repeat leaves `LR`, percent change `P%`, relative
 * proportional `RP`, relative percent adjustment `R%`, clear `C`. Straight line `SL` and growth
 * `GR` are not here: they are row methods (the add-in turns them into one write per cell, see
 * `./line.ts`).
 */
export const SPREAD_METHOD_CODES = ["P", "S", "LS", "R", "LR", "P%", "RP", "R%", "C"] as const;

/** One of {@link SPREAD_METHOD_CODES}: a spread method over the leaves of a consolidated cell. */
export type SpreadMethodCode = (typeof SPREAD_METHOD_CODES)[number];

/** TM1's data actions, in the order of the proto's `DataAction`: none (replace), `+` (add), `~` (subtract). */
export const DATA_ACTIONS = ["replace", "add", "subtract"] as const;

/** How a spread amount combines with the existing values (TM1 data action: none, `+`, `~`). */
export type DataAction = (typeof DATA_ACTIONS)[number];
