/**
 * The GPU executor's number format: WGSL has no 64-bit floats or integers, and f32 sums of 10M
 * money values lose cents (TECH-NOTES), so leaf values travel to the device as 128-bit two's
 * complement fixed-point integers in four 32-bit words (least significant first) with a scale of
 * 2^-F chosen per column from its largest magnitude, and sums are exact integer additions (word by
 * word, with carry: kernels.ts).
 *
 * Error bound: a value `v` with |v| < 2^E is stored as round(v * 2^F) with F = 94 - E, so it is
 * off by at most 2^(E - 95), a relative 2^-95 of the column's largest magnitude; |q| < 2^94 leaves
 * 33 bits of headroom, so a sum over fewer than 2^32 rows cannot overflow. A sum is exact up to
 * those quantisations, then rounded once to a double: for money (values in cents up to 2^53
 * cents) every quantisation is exact, so the sum is the exact sum rounded to the nearest double,
 * which is what the CPU path's f64 additions approach (within 1e-9 relative, and to the cent).
 */

/** Word marking an empty (NaN) value in the most significant position: never a stored value's top word. */
export const EMPTY_TOP = 0x8000_0000;

/** Largest binary exponent E considered: values up to 2^E in magnitude. */
const MAX_E = 1023;
/** Smallest E: columns of tiny values keep F within what a double's scaling can express. */
const MIN_E = -900;

const TWO32 = 2 ** 32;
const TWO64 = 2 ** 64;
const TWO96 = 2 ** 96;

/**
 * The exponent E with |v| < 2^E for every finite value of `values[0..count)` (at least MIN_E).
 * Non-finite values other than NaN (±Infinity) cannot be represented: returns null.
 */
export function magnitudeExponent(values: Float64Array, count: number): number | null {
  let max = 0;
  for (let r = 0; r < count; r++) {
    const v = values[r];
    if (v !== v) continue;
    const a = v < 0 ? -v : v;
    if (a > max) max = a;
  }
  if (max === Number.POSITIVE_INFINITY) return null;
  return exponentAbove(max);
}

/** The smallest E (at least MIN_E) with |v| < 2^E; v finite. */
export function exponentAbove(absValue: number): number {
  if (absValue === 0) return MIN_E;
  let e = Math.max(MIN_E, Math.ceil(Math.log2(absValue)));
  while (e <= MAX_E && 2 ** e <= absValue) e++;
  return e;
}

/** The scale F (values are stored as v * 2^F) for a column whose values are below 2^E. */
export function scaleFor(e: number): number {
  return 94 - e;
}

/** v * 2^f without overflowing an intermediate power of two. */
function scaled(v: number, f: number): number {
  const h = Math.trunc(f / 2);
  return v * 2 ** h * 2 ** (f - h);
}

/**
 * Writes value `v` (NaN: empty) as four words at `out[at..at+4)`, scaled by 2^f.
 * @throws RangeError when |v| * 2^f is 2^94 or more (the column's scale must be chosen again).
 */
export function encodeValue(v: number, f: number, out: Uint32Array, at: number): void {
  if (v !== v) {
    out[at] = 0;
    out[at + 1] = 0;
    out[at + 2] = 0;
    out[at + 3] = EMPTY_TOP;
    return;
  }
  const x = Math.round(scaled(v < 0 ? -v : v, f));
  if (!(x < 2 ** 94)) throw new RangeError(`value ${v} does not fit the column's scale 2^-${f}`);
  const w2 = Math.floor(x / TWO64);
  const rest = x - w2 * TWO64;
  const w1 = Math.floor(rest / TWO32);
  out[at] = rest - w1 * TWO32;
  out[at + 1] = w1;
  out[at + 2] = w2;
  out[at + 3] = 0;
  if (v < 0) negate(out, at);
}

/** Negates the 128-bit two's complement integer in `w[at..at+4)` in place: every word inverted, then one added with carry. */
function negate(w: Uint32Array, at: number): void {
  let carry = 1;
  for (let k = at; k < at + 4; k++) {
    const x = (~w[k] >>> 0) + carry;
    w[k] = x; // a Uint32Array keeps the low 32 bits
    carry = x === TWO32 ? 1 : 0;
  }
}

/** Words of a sum being decoded (decodeSum leaves its input as it is). */
const scratch = new Uint32Array(4);

/**
 * The double nearest (within two roundings) to the 128-bit two's complement integer in
 * `words[at..at+4)`, divided by 2^f.
 */
export function decodeSum(words: Uint32Array, at: number, f: number): number {
  const negative = words[at + 3] >= 0x8000_0000;
  const w = scratch;
  for (let k = 0; k < 4; k++) w[k] = words[at + k];
  if (negative) negate(w, 0);
  const magnitude = w[3] * TWO96 + w[2] * TWO64 + (w[1] * TWO32 + w[0]);
  const v = scaled(magnitude, -f);
  return negative ? -v : v;
}
