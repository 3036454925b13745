/**
 * The report grid the writeback tests type over, on the small Demo cube (./small-cube.ts): columns
 * B..F each name a region (row 1) and a product (row 2); rows 3 and 4 a channel (column A), so that
 * every QATOM.CELL formula of B3:F4 refers to its headers (`B$1`, `B$2`, `$A3`).
 */

/** Column letter, region, product. */
export const GRID_COLUMNS = [
  ["B", "[Region].[North].[Oslo]", "[Product].[Widget]"],
  ["C", "[Region].[North].[Oslo]", "[Product].[Gadget]"],
  ["D", "[Region].[North].[Bergen]", "[Product].[Widget]"],
  ["E", "[Region].[North].[Bergen]", "[Product].[Gadget]"],
  ["F", "[Region].[South].[Rome]", "[Product].[Widget]"],
] as const;

/** Row number, channel. */
export const GRID_ROWS = [
  [3, "[Channel].[Web]"],
  [4, "[Channel].[Alpha]"],
] as const;
