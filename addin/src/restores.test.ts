import type { FormulaWrite } from "./host";
import { RestoreProblems, UNKNOWN_FORMULA_MESSAGE } from "./restores";

const F = '=QATOM.CELL("Demo",$A2,B$1)';

describe("RestoreProblems", () => {
  it("lists a refused restore, retries it on its own until Excel takes it, and drops it", async () => {
    const written: FormulaWrite[][] = [];
    let refuse = 2;
    const r = new RestoreProblems(async (cells) => {
      if (refuse-- > 0) throw Object.assign(new Error("busy"), { code: "GeneralException" });
      written.push(cells);
    }, [10, 20]);
    r.failed([{ address: "Sheet1!B2", formula: F }], new Map([["Sheet1!B2", "5"]]), new Error("first"));
    expect(r.list()).toEqual([{ id: "sheet1!B2", address: "Sheet1!B2", formula: F, typed: "5", message: "The formula could not be put back: first", attempts: 1 }]);
    await new Promise((res) => setTimeout(res, 20));
    expect(r.list()[0]).toMatchObject({ attempts: 2, message: "The formula could not be put back: GeneralException: busy" });
    await new Promise((res) => setTimeout(res, 60));
    expect(r.list()).toEqual([]);
    expect(written).toEqual([[{ address: "Sheet1!B2", formula: F }]]);
    r.dispose();
  });

  it("reports a cell whose formula text is unknown without ever writing one; it goes when the formula is back or dismissed", async () => {
    const write = jest.fn(async () => undefined);
    const r = new RestoreProblems(write, [5]);
    r.unknownFormula("Sheet1!C3", "77");
    r.unknownFormula("Sheet1!C4", "78");
    await r.retry();
    expect(write).not.toHaveBeenCalled();
    expect(r.list().map((p) => [p.address, p.formula, p.message])).toEqual([
      ["Sheet1!C3", null, UNKNOWN_FORMULA_MESSAGE],
      ["Sheet1!C4", null, UNKNOWN_FORMULA_MESSAGE],
    ]);
    r.resolved("sheet1!$C$3");
    r.dismiss("sheet1!C4");
    expect(r.list()).toEqual([]);
  });
});
