/** Which formulas the add-in writes back over, and the formula it puts back (pure). */
import { buildCellFormula, isSingleCellCall } from "./formula-text";

describe("QATOM.CELL formula text", () => {
  it("writes back only over a formula that is exactly one QATOM.CELL call", () => {
    expect(isSingleCellCall('=QATOM.CELL("Sales","[Store].[USA]")')).toBe(true);
    expect(isSingleCellCall("= qatom.cell($A$1, B$2, Sheet2!C3:C9)")).toBe(true);
    expect(isSingleCellCall('=QATOM.CELL("a)b","c""(")')).toBe(true);
    expect(isSingleCellCall('=QATOM.CELL("Sales","x")*2')).toBe(false);
    expect(isSingleCellCall('=QATOM.CELL("S","a")+QATOM.CELL("S","b")')).toBe(false);
    expect(isSingleCellCall('=SUM(QATOM.CELL("S","a"))')).toBe(false);
    expect(isSingleCellCall('=QATOM.COMMENT("S","a")')).toBe(false);
    const rebuilt = buildCellFormula({ cube: "Sales", members: ['[Product].[Say "hi"]', "Beverages"] });
    expect(rebuilt).toBe('=QATOM.CELL("Sales","[Product].[Say ""hi""]","Beverages")');
    expect(isSingleCellCall(rebuilt)).toBe(true);
  });
});
