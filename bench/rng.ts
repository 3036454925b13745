/** Deterministic pseudo-random numbers for the benchmark and the randomized tests (no Math.random in either). */

/** A seeded generator of uniform numbers in [0, 1) with 32 bits of resolution (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded source of random integers and 53-bit uniforms. */
export class Rng {
  private readonly next32: () => number;

  /** @param seed any 32-bit integer; the same seed gives the same sequence. */
  constructor(seed: number) {
    this.next32 = mulberry32(seed);
  }

  /** A uniform number in [0, 1) with 32 bits of resolution. */
  float(): number {
    return this.next32();
  }

  /** A uniform number in [0, 1) with 53 bits of resolution (two draws). */
  float53(): number {
    const hi = Math.floor(this.next32() * 2 ** 26);
    const lo = Math.floor(this.next32() * 2 ** 27);
    return (hi * 2 ** 27 + lo) / 2 ** 53;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor((n > 2 ** 32 ? this.float53() : this.next32()) * n);
  }

  /** A uniformly chosen element of a non-empty list. */
  pick<T>(list: ArrayLike<T>): T {
    return list[this.int(list.length)];
  }
}
