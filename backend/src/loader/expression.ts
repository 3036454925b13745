/**
 * Member name and caption expressions of the model file: a concatenation of column references and
 * string literals, the subset of SQL that Mondrian's FoodMart.xml uses in its `NameExpression`
 * (`"fname" || ' ' || "lname"`), written with `+` as in its Access/SQL Server dialect.
 */

/** One term of an expression: the value of a column, or literal text. */
export type ExprTerm = { kind: "column"; ref: string } | { kind: "literal"; text: string };

/**
 * Parses an expression such as `fname + ' ' + lname`.
 *
 * Grammar: `term ('+' term)*`, where a term is
 * - a column reference: a bare identifier made of letters, digits, `_`, `$` and `.` (a `.` qualifies
 *   the column with its table, e.g. `product_class.product_family`), or a double-quoted identifier
 *   (`"Store Name"`, `""` for a quote inside), or
 * - a string literal in single quotes (`' '`, `''` for a quote inside).
 *
 * Whitespace around terms is ignored. A single column reference is a valid expression.
 * @throws Error whose message gives the 1-based character offset of the problem.
 */
export function parseExpression(src: string): ExprTerm[] {
  const terms: ExprTerm[] = [];
  let i = 0;
  const n = src.length;
  const skipSpace = () => {
    while (i < n && /\s/.test(src[i])) i++;
  };
  const quoted = (q: string): string => {
    const start = i;
    i++;
    let text = "";
    for (;;) {
      if (i >= n) throw new Error(`unterminated ${q} at character ${start + 1}`);
      if (src[i] === q) {
        if (src[i + 1] === q) {
          text += q;
          i += 2;
          continue;
        }
        i++;
        return text;
      }
      text += src[i++];
    }
  };
  for (;;) {
    skipSpace();
    if (i >= n) throw new Error(`expected a column or a 'literal' at character ${i + 1}`);
    const c = src[i];
    if (c === "'") {
      terms.push({ kind: "literal", text: quoted("'") });
    } else if (c === '"') {
      const ref = quoted('"');
      if (ref === "") throw new Error(`empty column name at character ${i}`);
      terms.push({ kind: "column", ref });
    } else if (/[\w$]/.test(c)) {
      const start = i;
      while (i < n && /[\w$.]/.test(src[i])) i++;
      terms.push({ kind: "column", ref: src.slice(start, i) });
    } else {
      throw new Error(`unexpected ${JSON.stringify(c)} at character ${i + 1}`);
    }
    skipSpace();
    if (i >= n) return terms;
    if (src[i] !== "+") throw new Error(`expected '+' at character ${i + 1}, found ${JSON.stringify(src[i])}`);
    i++;
  }
}
