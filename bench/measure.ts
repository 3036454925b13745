/** Timing and memory helpers of the benchmark. */

/** Milliseconds since an arbitrary origin, sub-millisecond resolution. */
export function now(): number {
  return performance.now();
}

/** Runs `fn` and returns its result with the elapsed milliseconds. */
export async function timed<T>(fn: () => Promise<T> | T): Promise<{ value: T; ms: number }> {
  const t0 = now();
  const value = await fn();
  return { value, ms: now() - t0 };
}

/** The q-quantile (0..1) of a list of numbers, by linear interpolation; NaN for an empty list. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** Summary of repeated timings. */
export interface Timings {
  n: number;
  p50: number;
  p95: number;
  min: number;
  max: number;
}

/** Summarizes a list of milliseconds. */
export function summarize(xs: readonly number[]): Timings {
  return { n: xs.length, p50: quantile(xs, 0.5), p95: quantile(xs, 0.95), min: Math.min(...xs), max: Math.max(...xs) };
}

/** Process memory, in bytes. */
export interface MemorySnapshot {
  rss: number;
  heapUsed: number;
  arrayBuffers: number;
  external: number;
}

/** Collects garbage when node runs with --expose-gc (twice, to finalize), then reads memory. */
export function memory(): MemorySnapshot {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) {
    gc();
    gc();
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, external: m.external };
}

/** True when node runs with --expose-gc (memory deltas are then exact after collection). */
export function canCollect(): boolean {
  return typeof (globalThis as { gc?: unknown }).gc === "function";
}

/** Bytes as megabytes with one decimal. */
export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Waits for `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
