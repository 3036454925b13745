/**
 * Exact decimal input: measure values are parsed into integers scaled by 10^decimals, summed as
 * integers (exact in float64 up to 2^53), and divided by 10^decimals only at the end, so that money
 * totals come out to the cent (FoodMart's measures have 4 decimal places, e.g. `0.6318`).
 */

const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * Parses a plain decimal number (`12`, `-0.6318`, `+3.`, `.5`; surrounding spaces allowed) into
 * the integer `value * 10^decimals`.
 * @param decimals number of decimal places kept, 0 to 9. Further decimal places must be zeros.
 * @returns the scaled integer, or NaN when the text is not a plain decimal, has more non-zero
 *   decimal places than `decimals`, or its scaled value is beyond 2^53 (see {@link describeBadDecimal}).
 */
export function parseScaled(text: string, decimals: number): number {
  const n = text.length;
  let i = 0;
  while (i < n && text.charCodeAt(i) === 32) i++;
  let end = n;
  while (end > i && text.charCodeAt(end - 1) === 32) end--;
  let negative = false;
  const sign = text.charCodeAt(i);
  if (sign === 45 /* - */ || sign === 43 /* + */) {
    negative = sign === 45;
    i++;
  }
  let intPart = 0;
  let digits = 0;
  while (i < end) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    intPart = intPart * 10 + c;
    digits++;
    i++;
  }
  let frac = 0;
  let fracDigits = 0;
  if (i < end && text.charCodeAt(i) === 46 /* . */) {
    i++;
    while (i < end) {
      const c = text.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      if (fracDigits < decimals) {
        frac = frac * 10 + c;
        fracDigits++;
      } else if (c !== 0) {
        return Number.NaN;
      }
      digits++;
      i++;
    }
  }
  if (i !== end || digits === 0) return Number.NaN;
  const value = intPart * POW10[decimals] + frac * POW10[decimals - fracDigits];
  if (!Number.isSafeInteger(value) || intPart > Number.MAX_SAFE_INTEGER) return Number.NaN;
  return negative ? -value : value;
}

/** Why {@link parseScaled} returned NaN for `text`, for an error message. */
export function describeBadDecimal(text: string, decimals: number): string {
  const t = text.trim();
  if (/^[+-]?(\d+\.?\d*|\.\d+)$/.test(t)) {
    const dot = t.indexOf(".");
    if (dot >= 0 && t.slice(dot + 1).replace(/0+$/, "").length > decimals) {
      return `${JSON.stringify(text)} has more than ${decimals} decimal places (set the measure's decimals to keep them exactly)`;
    }
    return `${JSON.stringify(text)} is too large to sum exactly`;
  }
  return `${JSON.stringify(text)} is not a number (expected a plain decimal such as 12 or -0.6318)`;
}

/** 10^decimals, for converting a scaled sum back: `sum / scaleOf(decimals)`. */
export function scaleOf(decimals: number): number {
  return POW10[decimals];
}
