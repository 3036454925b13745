import { growth, straightLine } from "./line";

// Sources: IBM Planning Analytics documentation.
const SYNTAX_TABLE = "https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=syntax-data-spreading-hold-reference-table";
const STRAIGHT = "Straight line data spreading method (ibm.com/support/knowledgecenter/SSD29G_2.0.0, c_paw_straight_line_ds.html)";

/** Rounds to 1e-9 so that whole arrays compare with toEqual (-0 becomes 0). */
const round = (xs: ArrayLike<number>) => Array.from(xs, (x) => Math.round(x * 1e9) / 1e9 + 0);

describe("row methods SL and GR", () => {
  it(`SL100:200 over six cells (${STRAIGHT})`, () => {
    expect(round(straightLine(6, 100, 200))).toEqual([100, 120, 140, 160, 180, 200]);
    expect(round(straightLine(1, 100, 200))).toEqual([100]);
    expect(round(straightLine(0, 100, 200))).toEqual([]);
  });
  it(`GR300:25 grows 300 by 25% per cell (${SYNTAX_TABLE})`, () => {
    expect(round(growth(4, 300, 25))).toEqual([300, 375, 468.75, 585.9375]);
    expect(round(growth(3, 100, -10))).toEqual([100, 90, 81]);
  });
});
