import { type CellValue, evaluateFormula, formulaBaseReads, formulaLeafReads } from "./evaluate";
import { buildFormulaGraph, type FormulaDef, type FormulaGraph } from "./graph";
import { M, S, SC, testDimensions, testResolve } from "./test-fixture";

const dims = testDimensions();
const resolve = testResolve(dims);

/**
 * Leaf cells as [measure, store, scenario, value]. Budget has no cost for WA and no units at all.
 * Actual:  CA sales 100, cost 60 (margin 40%); WA sales 300, cost 240 (margin 20%).
 */
const LEAVES: [number, number, number, number][] = [
  [M.StoreSales, S.CA, SC.Actual, 100],
  [M.StoreCost, S.CA, SC.Actual, 60],
  [M.UnitSales, S.CA, SC.Actual, 10],
  [M.StoreSales, S.WA, SC.Actual, 300],
  [M.StoreCost, S.WA, SC.Actual, 240],
  [M.UnitSales, S.WA, SC.Actual, 30],
  [M.StoreSales, S.CA, SC.Budget, 120],
  [M.StoreCost, S.CA, SC.Budget, 70],
  [M.StoreSales, S.WA, SC.Budget, 50],
];

/** The consolidated value of a base cell: the sum of the leaves under it, or null when there are none. */
function baseValue(c: Int32Array): number | null {
  let sum = 0;
  let n = 0;
  for (const [m, s, sc, v] of LEAVES) {
    if (m === c[0] && dims[1].contains(c[1], s) && dims[2].contains(c[2], sc)) {
      sum += v;
      n++;
    }
  }
  return n > 0 ? sum : null;
}

/** What the engine will do: formula members are computed by their formulas, the rest consolidated. */
function cellValue(graph: FormulaGraph): CellValue {
  const value: CellValue = (c) => {
    const i = graph.byMember.get(`0:${c[0]}`);
    return i === undefined ? baseValue(c) : evaluateFormula(graph.formulas[i].expr, c, value);
  };
  return value;
}

const f = (member: string, expression: string): FormulaDef => ({ member: `[Measures].[${member}]`, expression });

const model = buildFormulaGraph(
  [f("Margin %", "[Measures].[Profit] / [Measures].[Store Sales]"), f("Profit", "[Measures].[Store Sales] - [Measures].[Store Cost]")],
  resolve,
);
const value = cellValue(model);
const at = (measure: number, store: number, scenario: number) => Int32Array.of(measure, store, scenario);

/** Evaluates a one-off formula (on [Measures].[E]) at a cell of the test cube. */
function calc(expression: string, store: number, scenario: number, read: CellValue = baseValue): number | null {
  const g = buildFormulaGraph([f("E", expression)], resolve);
  return evaluateFormula(g.formulas[0].expr, at(M.E, store, scenario), read);
}

describe("evaluateFormula", () => {
  test("Profit = Store Sales - Store Cost, at leaves and consolidated", () => {
    expect(value(at(M.Profit, S.CA, SC.Actual))).toBe(40);
    expect(value(at(M.Profit, S.WA, SC.Actual))).toBe(60);
    expect(value(at(M.Profit, S.USA, SC.Actual))).toBe(100);
    expect(value(at(M.Profit, S.All, SC.Total))).toBe(100 + (120 - 70) + 50);
  });

  test("Margin % at a consolidated level is computed from consolidated operands, not summed", () => {
    const ca = value(at(M.Margin, S.CA, SC.Actual))!;
    const wa = value(at(M.Margin, S.WA, SC.Actual))!;
    expect(ca).toBeCloseTo(0.4);
    expect(wa).toBeCloseTo(0.2);
    const usa = value(at(M.Margin, S.USA, SC.Actual));
    expect(usa).toBeCloseTo(100 / 400); // 0.25: USA profit over USA sales
    expect(usa).not.toBeCloseTo(ca + wa); // 0.6: the sum of the leaf ratios
    expect(usa).not.toBeCloseTo((ca + wa) / 2); // 0.3: their average
    expect(value(at(M.Margin, S.All, SC.Total))).toBeCloseTo(200 / 570);
  });

  test("a tuple reference substitutes several coordinates", () => {
    expect(calc("([Measures].[Store Sales], [Scenario].[Actual])", S.CA, SC.Budget)).toBe(100);
    expect(calc("([Measures].[Store Sales], [Scenario].[Actual])", S.USA, SC.Total)).toBe(400);
    expect(calc("[Measures].[Store Sales] - ([Measures].[Store Sales], [Scenario].[Budget])", S.CA, SC.Actual)).toBe(-20);
    expect(calc("([Measures].[Store Sales], [Store].[USA].[WA]) / [Measures].[Store Sales]", S.CA, SC.Actual)).toBe(3);
  });

  test("precedence and unary minus", () => {
    expect(calc("1 + 2 * 3 - 4 / 2", S.CA, SC.Actual)).toBe(5);
    expect(calc("-(1 + 2) * 3", S.CA, SC.Actual)).toBe(-9);
    expect(calc("-[Measures].[Store Cost] + [Measures].[Store Sales]", S.CA, SC.Actual)).toBe(40);
  });

  test("IF, comparisons, MIN, MAX, ABS", () => {
    const big = "IF([Measures].[Store Sales] > 200, 1, 2)";
    expect(calc(big, S.CA, SC.Actual)).toBe(2);
    expect(calc(big, S.WA, SC.Actual)).toBe(1);
    expect(calc("[Measures].[Store Sales] >= 100", S.CA, SC.Actual)).toBe(1);
    expect(calc("[Measures].[Store Sales] <> 100", S.CA, SC.Actual)).toBe(0);
    expect(calc("[Measures].[Store Sales] = 100", S.CA, SC.Actual)).toBe(1);
    expect(calc("[Measures].[Store Sales] < [Measures].[Store Cost]", S.CA, SC.Actual)).toBe(0);
    expect(calc("[Measures].[Store Cost] <= 60", S.CA, SC.Actual)).toBe(1);
    expect(calc("MIN([Measures].[Store Sales], [Measures].[Store Cost], 80)", S.CA, SC.Actual)).toBe(60);
    expect(calc("MAX([Measures].[Store Sales], [Measures].[Store Cost], 80)", S.CA, SC.Actual)).toBe(100);
    expect(calc("ABS([Measures].[Store Cost] - [Measures].[Store Sales])", S.WA, SC.Actual)).toBe(60);
    expect(calc("IF(0, 1, IF(2, 3, 4))", S.CA, SC.Actual)).toBe(3);
  });

  test("IF evaluates only the branch taken", () => {
    const reads: number[] = [];
    const spy: CellValue = (c) => {
      reads.push(c[0]);
      return baseValue(c);
    };
    expect(calc("IF(1, [Measures].[Store Sales], [Measures].[Store Cost])", S.CA, SC.Actual, spy)).toBe(100);
    expect(reads).toEqual([M.StoreSales]);
  });

  describe("empty cells", () => {
    test("arithmetic treats one empty operand as 0", () => {
      // WA Budget has sales 50 and no cost; CA Budget has sales 120 and no units.
      expect(value(at(M.Profit, S.WA, SC.Budget))).toBe(50);
      expect(calc("[Measures].[Unit Sales] + [Measures].[Store Sales]", S.CA, SC.Budget)).toBe(120);
      expect(calc("[Measures].[Store Sales] * [Measures].[Unit Sales]", S.CA, SC.Budget)).toBe(0);
      expect(calc("[Measures].[Unit Sales] / [Measures].[Store Sales] + 1", S.CA, SC.Budget)).toBe(1);
    });

    test("a formula whose every read is empty is empty, constants notwithstanding", () => {
      expect(value(at(M.Profit, S.All, SC.Total))).not.toBeNull();
      expect(calc("[Measures].[Unit Sales] + 1", S.CA, SC.Budget)).toBeNull();
      expect(calc("[Measures].[Unit Sales] * 1.1", S.CA, SC.Budget)).toBeNull();
      expect(calc("IF([Measures].[Unit Sales] > 0, 1, 0)", S.CA, SC.Budget)).toBeNull();
      expect(calc("IF([Measures].[Store Sales] > 0, 1, 0)", S.CA, SC.Budget)).toBe(1);
      expect(calc("42", S.CA, SC.Budget)).toBe(42);
      // Margin of a cell with no operands at all: Profit is empty, so Margin is too.
      const g = buildFormulaGraph(
        [f("Profit", "[Measures].[Unit Sales] - [Measures].[Unit Sales]"), f("Margin %", "[Measures].[Profit] / [Measures].[Unit Sales]")],
        resolve,
      );
      expect(cellValue(g)(at(M.Margin, S.CA, SC.Budget))).toBeNull();
    });

    test("an operation over two empty operands is empty even when the formula reads other cells", () => {
      const s = "[Measures].[Store Sales]";
      const u = "[Measures].[Unit Sales]";
      expect(calc(`MAX(${u} - ${u}, -${s})`, S.CA, SC.Budget)).toBe(-120);
      expect(calc(`MIN(-${u}, ${s})`, S.CA, SC.Budget)).toBe(120);
      expect(calc(`MIN(ABS(${u}), ${s})`, S.CA, SC.Budget)).toBe(120);
      expect(calc(`MAX(${u} > ${u}, -1) + 0 * ${s}`, S.CA, SC.Budget)).toBe(-1);
    });

    test("division by zero or by empty is empty", () => {
      expect(calc("[Measures].[Store Sales] / 0", S.CA, SC.Actual)).toBeNull();
      expect(calc("0 / 0", S.CA, SC.Actual)).toBeNull();
      expect(calc("[Measures].[Store Sales] / [Measures].[Unit Sales]", S.CA, SC.Budget)).toBeNull();
      expect(calc("[Measures].[Store Sales] / ([Measures].[Store Cost] - 60)", S.CA, SC.Actual)).toBeNull();
      expect(calc("0 / [Measures].[Store Sales]", S.CA, SC.Actual)).toBe(0);
    });

    test("a result beyond the range of a double is empty, never Infinity or NaN", () => {
      expect(calc("[Measures].[Store Sales] / 1e-307", S.CA, SC.Actual)).toBeNull();
      expect(calc("-[Measures].[Store Sales] * 1e307", S.CA, SC.Actual)).toBeNull();
      expect(calc("[Measures].[Store Sales] * 1e307 - [Measures].[Store Sales] * 1e307", S.CA, SC.Actual)).toBeNull();
      expect(calc("[Measures].[Store Sales] * 1e300", S.CA, SC.Actual)).toBeGreaterThan(1e300);
    });

    test("comparisons treat one empty operand as 0; IF takes an empty condition as false", () => {
      expect(calc("[Measures].[Unit Sales] = [Measures].[Store Sales] - 120", S.CA, SC.Budget)).toBe(1);
      expect(calc("[Measures].[Unit Sales] < [Measures].[Store Sales]", S.CA, SC.Budget)).toBe(1);
      expect(calc("IF([Measures].[Unit Sales], 1, [Measures].[Store Sales])", S.CA, SC.Budget)).toBe(120);
      expect(calc("IF([Measures].[Unit Sales], 1, [Measures].[Unit Sales])", S.CA, SC.Budget)).toBeNull();
    });

    test("MIN and MAX skip empty arguments; all empty is empty", () => {
      expect(calc("MIN([Measures].[Unit Sales], [Measures].[Store Sales])", S.CA, SC.Budget)).toBe(120);
      expect(calc("MAX([Measures].[Unit Sales], -[Measures].[Store Sales])", S.CA, SC.Budget)).toBe(-120);
      expect(calc("MAX([Measures].[Unit Sales], ([Measures].[Unit Sales], [Store].[USA].[WA]))", S.CA, SC.Budget)).toBeNull();
    });
  });
});

describe("formulaBaseReads / formulaLeafReads", () => {
  const name = (tuple: { dim: number; id: number }[]) =>
    tuple.map((m) => dims[m.dim].uniqueName(m.id)).join(", ");
  const reads = (g: FormulaGraph, member: string) =>
    formulaBaseReads(g, g.byMember.get(`0:${dims[0].names.indexOf(member)}`)!).map(name);

  test("follows formula members down to base members, once each", () => {
    expect(reads(model, "Margin %")).toEqual(["[Measures].[Store Sales]", "[Measures].[Store Cost]"]);
    expect(reads(model, "Profit")).toEqual(["[Measures].[Store Sales]", "[Measures].[Store Cost]"]);
  });

  test("a tuple's other coordinates carry into the formulas it names; inner members override outer", () => {
    const g = buildFormulaGraph(
      [
        f("Profit", "[Measures].[Store Sales] - [Measures].[Store Cost]"),
        f("A", "([Measures].[Profit], [Scenario].[Actual]) + 1"),
        f("B", "([Measures].[C], [Scenario].[Actual], [Store].[USA])"),
        f("C", "([Measures].[Store Sales], [Scenario].[Budget]) + [Measures].[Unit Sales]"),
      ],
      resolve,
    );
    expect(reads(g, "A")).toEqual([
      "[Measures].[Store Sales], [Scenario].[Actual]",
      "[Measures].[Store Cost], [Scenario].[Actual]",
    ]);
    expect(reads(g, "B")).toEqual([
      "[Measures].[Store Sales], [Store].[USA], [Scenario].[Budget]",
      "[Measures].[Unit Sales], [Store].[USA], [Scenario].[Actual]",
    ]);
  });

  test("leaf reads expand consolidated members to the leaves under them", () => {
    const g = buildFormulaGraph(
      [f("D", "([Measures].[Unit Sales], [Scenario].[Total], [Store].[USA].[CA]) + ([Measures].[Store Sales], [Store].[All Stores])")],
      resolve,
    );
    const leafReads = formulaLeafReads(g, 0, dims).map((t) => t.map((r) => ({ dim: r.dim, leaves: Array.from(r.leaves) })));
    expect(leafReads).toEqual([
      [
        { dim: 0, leaves: [M.UnitSales] },
        { dim: 1, leaves: [S.CA] },
        { dim: 2, leaves: [SC.Actual, SC.Budget] },
      ],
      [
        { dim: 0, leaves: [M.StoreSales] },
        { dim: 1, leaves: [S.CA, S.WA] },
      ],
    ]);
  });
});
