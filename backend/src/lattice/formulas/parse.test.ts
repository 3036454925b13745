import { type Expr, FormulaSyntaxError, forEachRef, parseFormula } from "./parse";

/** A compact, fully parenthesized rendering of a tree, to check its shape. */
function show(e: Expr<string>): string {
  switch (e.kind) {
    case "number":
      return String(e.value);
    case "ref":
      return e.members.length === 1 ? e.members[0] : `(${e.members.join(", ")})`;
    case "neg":
      return `(-${show(e.operand)})`;
    case "binary":
      return `(${show(e.left)} ${e.op} ${show(e.right)})`;
    case "call":
      return `${e.fn}(${e.args.map(show).join(", ")})`;
  }
}

function syntaxError(src: string): FormulaSyntaxError {
  try {
    parseFormula(src);
  } catch (e) {
    if (e instanceof FormulaSyntaxError) return e;
    throw e;
  }
  throw new Error(`parsed without error: ${src}`);
}

describe("parseFormula", () => {
  test("numbers", () => {
    expect(show(parseFormula("42"))).toBe("42");
    expect(show(parseFormula("1.5"))).toBe("1.5");
    expect(show(parseFormula(".25"))).toBe("0.25");
    expect(show(parseFormula("1e3"))).toBe("1000");
    expect(show(parseFormula("2.5E-1"))).toBe("0.25");
  });

  test("* and / bind tighter than + and -, all left-associative", () => {
    expect(show(parseFormula("1 + 2 * 3"))).toBe("(1 + (2 * 3))");
    expect(show(parseFormula("1 * 2 + 3"))).toBe("((1 * 2) + 3)");
    expect(show(parseFormula("8 - 4 - 2"))).toBe("((8 - 4) - 2)");
    expect(show(parseFormula("8 / 4 / 2"))).toBe("((8 / 4) / 2)");
    expect(show(parseFormula("1 - 6 / 3 * 2"))).toBe("(1 - ((6 / 3) * 2))");
  });

  test("parentheses override precedence", () => {
    expect(show(parseFormula("(1 + 2) * 3"))).toBe("((1 + 2) * 3)");
    expect(show(parseFormula("((1))"))).toBe("1");
  });

  test("unary minus binds tighter than * and may repeat; unary plus is a no-op", () => {
    expect(show(parseFormula("-2 * 3"))).toBe("((-2) * 3)");
    expect(show(parseFormula("2 * -3"))).toBe("(2 * (-3))");
    expect(show(parseFormula("--2"))).toBe("(-(-2))");
    expect(show(parseFormula("1 - -[A]"))).toBe("(1 - (-[A]))");
    expect(show(parseFormula("+2"))).toBe("2");
  });

  test("comparisons bind loosest", () => {
    expect(show(parseFormula("1 + 2 > 2 * 1"))).toBe("((1 + 2) > (2 * 1))");
    for (const op of ["=", "<>", "<", "<=", ">", ">="]) {
      expect(show(parseFormula(`[A]${op}[B]`))).toBe(`([A] ${op} [B])`);
    }
  });

  test("member references and tuples", () => {
    const e = parseFormula("[Measures].[Store Sales] - [Measures].[Store Cost]");
    expect(show(e)).toBe("([Measures].[Store Sales] - [Measures].[Store Cost])");
    const t = parseFormula("([Measures].[Unit Sales], [Scenario].[Actual]) * 2");
    expect(show(t)).toBe("(([Measures].[Unit Sales], [Scenario].[Actual]) * 2)");
    expect(t.kind === "binary" && t.left.kind === "ref" && t.left.text).toBe("([Measures].[Unit Sales], [Scenario].[Actual])");
    // A parenthesized single member is just the member.
    expect(show(parseFormula("([Measures].[A])"))).toBe("[Measures].[A]");
    // "]]" escapes "]" and is kept as written, for the resolver.
    expect(show(parseFormula("[Product].[A]]B]"))).toBe("[Product].[A]]B]");
  });

  test("functions, case-insensitive, nested", () => {
    expect(show(parseFormula("if([A] > 0, [A], -[A])"))).toBe("IF(([A] > 0), [A], (-[A]))");
    expect(show(parseFormula("MIN([A], [B], 3)"))).toBe("MIN([A], [B], 3)");
    expect(show(parseFormula("Max(1)"))).toBe("MAX(1)");
    expect(show(parseFormula("ABS(MIN([A], 0)) * 2"))).toBe("(ABS(MIN([A], 0)) * 2)");
    // A function's parentheses are not a tuple.
    expect(show(parseFormula("MAX([A], [B])"))).toBe("MAX([A], [B])");
  });

  test("positions are 1-based columns", () => {
    const e = parseFormula("  1 +  [M].[A]");
    expect(e.pos).toBe(3);
    expect(e.kind === "binary" && e.right.pos).toBe(8);
  });

  test("forEachRef visits references in source order", () => {
    const seen: string[] = [];
    forEachRef(parseFormula("IF([A] > 1, ([B], [C]), -ABS([D]))"), (r) => seen.push(r.text));
    expect(seen).toEqual(["[A]", "([B], [C])", "[D]"]);
  });

  test("deep nesting is a syntax error, not a stack overflow", () => {
    expect(show(parseFormula(`${"(".repeat(150)}1${")".repeat(150)}`))).toBe("1");
    const e = syntaxError(`${"(".repeat(5000)}1${")".repeat(5000)}`);
    expect(e.expected).toBe("at most 200 levels of nesting");
    expect(syntaxError(`${"-".repeat(500)}1`).column).toBe(201);
  });

  test.each([
    ["1 + * 2", 5, "an operand", '"*"'],
    ["1 +", 4, "an operand", "the end of the formula"],
    ["", 1, "an operand", "the end of the formula"],
    ["1 2", 3, "an operator or the end of the formula", '"2"'],
    ["(1 + 2", 7, '")" to close the "(" at column 1', "the end of the formula"],
    ["1 + 2)", 6, 'an operator or the end of the formula (unbalanced ")")', '")"'],
    ["[Measures].[A", 14, '"]" to close the "[" at column 12', "the end of the formula"],
    ["[Measures].", 12, '"[" after "."', "the end of the formula"],
    ["[Measures].x", 12, '"[" after "."', '"x"'],
    ["[ ] + 1", 2, "a member name inside the brackets", '"[ ]"'],
    ["1 $ 2", 3, "an operand or an operator", '"$"'],
    ["Sales + 1", 1, "a function (IF, MIN, MAX or ABS) or a [member]; member names go in brackets", '"Sales"'],
    ["IF(1, 2)", 8, "3 arguments for IF", "2"],
    ["IF(1, 2, 3, 4)", 11, '")": IF takes 3 arguments', '","'],
    ["ABS(1, 2)", 6, '")": ABS takes 1 argument', '","'],
    ["MIN()", 5, "at least 1 argument for MIN", "0"],
    ["MAX(1; 2)", 6, "an operand or an operator", '";"'],
    ["MAX(1 2)", 7, '"," or ")" in the arguments of MAX', '"2"'],
    ["ABS 1", 5, '"(" after ABS', '"1"'],
    ["([A], 1)", 7, "a [member] in the tuple", '"1"'],
    ["([A], [B] + 1)", 11, '"," or ")" in the tuple opened at column 1', '"+"'],
    ["1 < 2 < 3", 7, "an arithmetic operator or the end of the comparison (comparisons do not chain; use parentheses)", '"<"'],
    ["2x", 2, "an operator after the number", '"x"'],
  ])("error in %j at column %i", (src, column, expected, found) => {
    const e = syntaxError(src);
    expect({ column: e.column, found: e.found }).toEqual({ column, found });
    expect(e.expected.startsWith(expected)).toBe(true);
    expect(e.message).toBe(`column ${e.column}: expected ${e.expected}, found ${e.found}`);
  });
});
