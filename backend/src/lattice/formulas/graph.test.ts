import { buildFormulaGraph, type FormulaDef, FormulaGraphError, type FormulaIssue, formulaRefs, topoSort } from "./graph";
import { M, SC, testResolve } from "./test-fixture";

const resolve = testResolve();

function issuesOf(defs: FormulaDef[]): FormulaIssue[] {
  try {
    buildFormulaGraph(defs, resolve);
  } catch (e) {
    if (e instanceof FormulaGraphError) return e.issues;
    throw e;
  }
  throw new Error("built without error");
}

const f = (member: string, expression: string): FormulaDef => ({ member: `[Measures].[${member}]`, expression });

describe("buildFormulaGraph", () => {
  test("resolves references and orders formulas after what they read", () => {
    const g = buildFormulaGraph(
      [
        f("Margin %", "[Measures].[Profit] / [Measures].[Store Sales]"),
        f("Profit", "[Measures].[Store Sales] - [Measures].[Store Cost]"),
        f("A", "([Measures].[Unit Sales], [Scenario].[Actual]) * 2"),
      ],
      resolve,
    );
    expect(g.formulas.map((x) => x.member)).toEqual(["[Measures].[Margin %]", "[Measures].[Profit]", "[Measures].[A]"]);
    expect(g.formulas[0].target).toEqual({ dim: 0, id: M.Margin });
    expect(g.formulas[0].dependsOn).toEqual([1]);
    expect(g.formulas[1].dependsOn).toEqual([]);
    expect(g.order).toEqual([1, 0, 2]);
    expect(formulaRefs(g.formulas[2])).toEqual([
      [
        { dim: 0, id: M.UnitSales },
        { dim: 2, id: SC.Actual },
      ],
    ]);
    expect(g.byMember.get(`0:${M.Profit}`)).toBe(1);
  });

  test("a chain is ordered dependencies first whatever the declaration order", () => {
    const g = buildFormulaGraph(
      [f("A", "[Measures].[B] + 1"), f("B", "[Measures].[C] * 2"), f("C", "[Measures].[D] - [Measures].[E]"), f("D", "1")],
      resolve,
    );
    expect(g.order.map((i) => g.formulas[i].member)).toEqual([
      "[Measures].[D]",
      "[Measures].[C]",
      "[Measures].[B]",
      "[Measures].[A]",
    ]);
  });

  test("names case-insensitively, bare names and aliases through the resolver", () => {
    const g = buildFormulaGraph([{ member: "[measures].[profit]", expression: "[Store Sales] - [MEASURES].[store cost]" }], resolve);
    expect(formulaRefs(g.formulas[0])).toEqual([[{ dim: 0, id: M.StoreSales }], [{ dim: 0, id: M.StoreCost }]]);
  });

  test("an unknown reference names the formula, the reference and its column", () => {
    const issues = issuesOf([f("Profit", "[Measures].[Store Sales] - [Measures].[Store Costs]")]);
    expect(issues).toHaveLength(1);
    expect(issues[0].kind).toBe("reference");
    expect(issues[0].member).toBe("[Measures].[Profit]");
    expect(issues[0].column).toBe(28);
    expect(issues[0].message).toMatch(
      /^formula for \[Measures\]\.\[Profit\]: bad reference \[Measures\]\.\[Store Costs\] at column 28: unknown member .*closest: \[Measures\]\.\[Store Cost\]/,
    );
  });

  test("every problem is reported at once, in declaration order", () => {
    const issues = issuesOf([
      f("A", "[Measures].[Nope] + [Measures].[Nada]"),
      f("B", "1 +"),
      { member: "[Measures].[Missing]", expression: "1" },
      f("C", "1"),
      { member: "[measures].[c]", expression: "2" },
      f("D", "([Measures].[Unit Sales], [Measures].[Store Sales])"),
    ]);
    expect(issues.map((i) => [i.kind, i.member])).toEqual([
      ["reference", "[Measures].[A]"],
      ["reference", "[Measures].[A]"],
      ["syntax", "[Measures].[B]"],
      ["member", "[Measures].[Missing]"],
      ["duplicate", "[measures].[c]"],
      ["reference", "[Measures].[D]"],
    ]);
    expect(issues[2].message).toBe(
      'formula for [Measures].[B]: column 4: expected an operand (a number, a [member], a function or "("), found the end of the formula in "1 +"',
    );
    expect(issues[2].column).toBe(4);
    expect(issues[4].message).toBe("formula for [measures].[c]: the member already has a formula (declared as [Measures].[C])");
    expect(issues[5].message).toContain("names two members of the same dimension");
    try {
      buildFormulaGraph([f("B", "1 +"), f("A", "[Measures].[Nope]")], resolve);
    } catch (e) {
      expect((e as Error).message.split("\n")).toHaveLength(2);
    }
  });

  test("a cycle is reported with its members in order", () => {
    const issues = issuesOf([f("A", "[Measures].[B] + 1"), f("B", "[Measures].[C] * 2"), f("C", "[Measures].[A] - 1"), f("D", "1")]);
    expect(issues).toEqual([
      {
        kind: "cycle",
        member: "[Measures].[A]",
        cycle: ["[Measures].[A]", "[Measures].[B]", "[Measures].[C]", "[Measures].[A]"],
        message: "formula cycle: [Measures].[A] -> [Measures].[B] -> [Measures].[C] -> [Measures].[A]",
      },
    ]);
  });

  test("a two-member cycle, entered from outside it", () => {
    const issues = issuesOf([f("E", "[Measures].[A]"), f("A", "[Measures].[B]"), f("B", "MAX([Measures].[A], 0)")]);
    expect(issues.map((i) => i.message)).toEqual(["formula cycle: [Measures].[A] -> [Measures].[B] -> [Measures].[A]"]);
  });

  test("self-reference", () => {
    const issues = issuesOf([f("A", "IF([Measures].[A] > 0, 1, 0)")]);
    expect(issues.map((i) => i.message)).toEqual(["formula cycle: [Measures].[A] -> [Measures].[A]"]);
  });

  test("a reference that leaves out the formula's own dimension reads the formula itself", () => {
    const issues = issuesOf([f("A", "[Scenario].[Actual] * 2")]);
    expect(issues).toHaveLength(1);
    expect(issues[0].kind).toBe("cycle");
    expect(issues[0].cycle).toEqual(["[Measures].[A]", "[Measures].[A]"]);
    expect(issues[0].message).toMatch(/^formula cycle: \[Measures\]\.\[A\] -> \[Measures\]\.\[A\] \(reference \[Scenario\]\.\[Actual\] at column 1/);
  });
});

describe("topoSort", () => {
  test("orders a DAG dependencies first", () => {
    // 0 -> 1, 0 -> 2, 1 -> 3, 2 -> 3
    const { order, cycles } = topoSort([[1, 2], [3], [3], []]);
    expect(cycles).toEqual([]);
    expect(order).toEqual([3, 1, 2, 0]);
  });

  test("reports each back edge's cycle", () => {
    const { cycles } = topoSort([[1], [0, 2], [2]]);
    expect(cycles).toEqual([[0, 1, 0], [2, 2]]);
  });

  test("deep chains do not overflow the stack", () => {
    const n = 100_000;
    const edges = Array.from({ length: n }, (_, i) => (i + 1 < n ? [i + 1] : []));
    const { order, cycles } = topoSort(edges);
    expect(cycles).toEqual([]);
    expect(order[0]).toBe(n - 1);
    expect(order[n - 1]).toBe(0);
  });
});
