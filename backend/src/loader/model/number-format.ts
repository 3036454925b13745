/**
 * Excel number format codes as a model file gives them (a measure's `formatString`), checked for
 * what Excel would refuse: at most four sections (positive; negative; zero; text), closed quotes
 * and brackets, a character after `\`, `_` and `*`, known bracket codes (colours, conditions,
 * locales, elapsed time), and at most 255 characters. The code is not rewritten: Excel formats
 * the value with it (`numberFormat` of a formatted number; en-US separators).
 * @see https://support.microsoft.com/office/review-guidelines-for-customizing-a-number-format-c0a1d1fa-d3f4-4018-96b7-9c9354dd99f5
 * @see https://learn.microsoft.com/javascript/api/excel/excel.doublecellvalue#excel-excel-doublecellvalue-numberformat-member
 */

/** Excel's limit on a number format code's length. */
export const MAX_FORMAT_LENGTH = 255;

/** What may stand between `[` and `]`: a colour, a condition, a locale / currency, elapsed time, DBNum. */
const BRACKET = /^(black|blue|cyan|green|magenta|red|white|yellow|color\s*([1-9]|[1-4]\d|5[0-6])|(<|>|=|<=|>=|<>)\s*-?\d+(\.\d+)?|\$[^\]]*|h+|m+|s+|dbnum[1-4])$/i;

/**
 * The problem with an Excel number format code, or null when Excel would take it.
 * @returns a message naming the 1-based character where the problem is, e.g.
 *   `unclosed quote at character 5`.
 * @example numberFormatProblem("#,##0.00") // null
 * @example numberFormatProblem('0.0"%') // 'unclosed quote (") at character 4'
 */
export function numberFormatProblem(code: string): string | null {
  if (code.trim() === "") return "a number format must not be blank";
  if (code.length > MAX_FORMAT_LENGTH) return `a number format has at most ${MAX_FORMAT_LENGTH} characters; this one has ${code.length}`;
  let sections = 1;
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    const at = `at character ${i + 1}`;
    if (c < " " || c === "\u007f") return `control character ${at}`;
    if (c === '"') {
      const end = code.indexOf('"', i + 1);
      if (end < 0) return `unclosed quote (") ${at}`;
      i = end;
    } else if (c === "\\" || c === "_" || c === "*") {
      if (i + 1 >= code.length) return `"${c}" ${at} needs a character after it`;
      i++;
    } else if (c === "[") {
      const end = code.indexOf("]", i + 1);
      if (end < 0) return `unclosed "[" ${at}`;
      const inner = code.slice(i + 1, end);
      if (!BRACKET.test(inner)) return `unknown [${inner}] ${at}: a colour ([Red]), a condition ([<0]), a locale ([$€-x-euro2]) or elapsed time ([h])`;
      i = end;
    } else if (c === "]") {
      return `"]" ${at} closes no "["`;
    } else if (c === ";") {
      sections++;
      if (sections > 4) return `more than four sections (positive;negative;zero;text): the fifth starts ${at}`;
    }
  }
  return null;
}
