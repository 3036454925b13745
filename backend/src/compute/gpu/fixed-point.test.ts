import { decodeSum, EMPTY_TOP, encodeValue, exponentAbove, magnitudeExponent, scaleFor } from "./fixed-point";

/** Adds four-word two's complement integers as the kernel does (word by word with carry). */
function addWords(acc: Uint32Array, q: Uint32Array, at: number): void {
  for (let w = 0; w < 4; w++) {
    let k = w;
    let add = q[at + w];
    while (add !== 0 && k < 4) {
      const old = acc[k];
      acc[k] = (old + add) >>> 0;
      if (old <= 0xffff_ffff - add) break;
      k++;
      add = 1;
    }
  }
}

describe("GPU fixed-point format", () => {
  test("values round-trip through encode and decode, signs and magnitudes included", () => {
    const samples = [0, 1, -1, 0.01, -0.01, 1234.56, -98765.43, 2 ** 52, -(2 ** 52) + 1, 1e-12, 3.14159e7];
    const e = magnitudeExponent(Float64Array.from(samples), samples.length) as number;
    const f = scaleFor(e);
    const words = new Uint32Array(4);
    for (const v of samples) {
      encodeValue(v, f, words, 0);
      const back = decodeSum(words, 0, f);
      expect(Math.abs(back - v)).toBeLessThanOrEqual(2 ** (e - 94));
    }
  });

  test("a sum of a million money values in cents is exact, where f32 accumulation is not", () => {
    let seed = 7;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const n = 1_000_000;
    const values = new Float64Array(n);
    let exactCents = 0n;
    for (let i = 0; i < n; i++) {
      const cents = Math.round((rand() - 0.3) * 10_000_000);
      exactCents += BigInt(cents);
      values[i] = cents / 100;
    }
    const f = scaleFor(magnitudeExponent(values, n) as number);
    const q = new Uint32Array(4);
    const acc = new Uint32Array(4);
    let f32 = Math.fround(0);
    for (let i = 0; i < n; i++) {
      encodeValue(values[i], f, q, 0);
      addWords(acc, q, 0);
      f32 = Math.fround(f32 + Math.fround(values[i]));
    }
    const sum = decodeSum(acc, 0, f);
    expect(BigInt(Math.round(sum * 100))).toBe(exactCents);
    expect(BigInt(Math.round(f32 * 100))).not.toBe(exactCents);
  });

  test("empty values carry the marker word and the exponent ignores them", () => {
    const q = new Uint32Array(4);
    encodeValue(Number.NaN, 60, q, 0);
    expect(q[3]).toBe(EMPTY_TOP);
    expect(magnitudeExponent(Float64Array.of(Number.NaN, 3, -5), 3)).toBe(3);
    expect(magnitudeExponent(Float64Array.of(1, Number.POSITIVE_INFINITY), 2)).toBeNull();
    expect(exponentAbove(4)).toBe(3);
    expect(exponentAbove(3.99)).toBe(2);
  });

  test("a value beyond the column's scale is refused, not wrapped", () => {
    const f = scaleFor(10);
    expect(() => encodeValue(2 ** 11, f, new Uint32Array(4), 0)).toThrow(RangeError);
  });
});
