/** A1 addresses as Excel writes them (pure). */
import { cellKey, columnLetters, parseCell, parseRange, rangeContains } from "./address";

describe("A1 addresses", () => {
  it("reads A1 addresses as Excel writes them", () => {
    expect(parseCell("'My ''Plan'' Sheet'!$AB$12")).toEqual({ sheet: "My 'Plan' Sheet", col: 28, row: 12 });
    expect(columnLetters(28)).toBe("AB");
    expect(cellKey("Sheet1!$b$3")).toBe(cellKey("'sheet1'!B3"));
    const cell = parseCell("Sheet1!C4")!;
    expect(rangeContains(parseRange("B3:D9", "Sheet1")!, cell)).toBe(true);
    expect(rangeContains(parseRange("C:C", "sheet1")!, cell)).toBe(true);
    expect(rangeContains(parseRange("4:4", "Sheet1")!, cell)).toBe(true);
    expect(rangeContains(parseRange("D4", "Sheet1")!, cell)).toBe(false);
    expect(rangeContains(parseRange("C4", "Sheet2")!, cell)).toBe(false);
  });
});
