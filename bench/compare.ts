/**
 * Compares a bench run with the previous one (issue 12, item 7): `npm run bench` keeps the last
 * run's figures in bench-results/previous.json and prints, for every timing both runs measured
 * (a number under a key ending in `Ms`, or a `p50` / `p95` / `p99`), the previous figure, the new
 * one and the change. Runs with other options (cube size, seed, what ran) are not compared.
 */

/** One timing measured by both runs. */
export interface FigureChange {
  /** Where it sits in the results, e.g. `planning.copy.totalMs` or `planning.spreads.0.planApplyMs.p95`. */
  path: string;
  before: number;
  after: number;
  /** (after − before) / before, e.g. −0.4 for 40 % faster; Infinity when before was 0. */
  change: number;
}

/** Options that must be equal for two runs to be comparable. */
const SAME_OPTIONS = ["leaves", "seed", "only", "shuffle", "copyRows", "csvRows", "cacheLeaves", "instanceLeaves"] as const;

const isTiming = (key: string) => /Ms$/.test(key) || key === "p50" || key === "p95" || key === "p99";

/** Collects `path -> number` for the timings under `node`. */
function timings(node: unknown, path: string, out: Map<string, number>): void {
  if (node === null || typeof node !== "object") return;
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    const here = path ? `${path}.${key}` : key;
    if (typeof value === "number" && Number.isFinite(value) && isTiming(key)) out.set(here, value);
    else if (typeof value === "object") timings(value, here, out);
  }
}

/**
 * The timings two runs share, in the order of the new run, or null when the runs are not
 * comparable (different options; a missing previous run).
 * @param skip top-level keys that hold no figures (`machine`, `options`, `targets`, `lines`).
 */
export function compareRuns(previous: Record<string, unknown> | null, current: Record<string, unknown>, skip = ["machine", "options", "targets", "lines"]): FigureChange[] | null {
  if (!previous) return null;
  const po = (previous.options ?? {}) as Record<string, unknown>;
  const co = (current.options ?? {}) as Record<string, unknown>;
  if (SAME_OPTIONS.some((k) => po[k] !== co[k])) return null;
  const strip = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).filter(([k]) => !skip.includes(k)));
  const before = new Map<string, number>();
  const after = new Map<string, number>();
  timings(strip(previous), "", before);
  timings(strip(current), "", after);
  const out: FigureChange[] = [];
  for (const [path, a] of after) {
    const b = before.get(path);
    if (b === undefined) continue;
    out.push({ path, before: b, after: a, change: b === 0 ? (a === 0 ? 0 : Number.POSITIVE_INFINITY) : (a - b) / b });
  }
  return out;
}

/** Printed lines: `path: before -> after ms (+12 %)`, or why nothing is compared. */
export function formatComparison(changes: FigureChange[] | null, previousStartedAt: string | undefined): string[] {
  if (changes === null) return ["No comparable previous run (bench-results/previous.json missing, or run with other options)."];
  const pct = (c: number) => (Number.isFinite(c) ? `${c >= 0 ? "+" : ""}${(c * 100).toFixed(0)} %` : "new");
  return [
    `Compared with the previous run (${previousStartedAt ?? "unknown time"}):`,
    ...changes.map((c) => `  ${c.path}: ${c.before.toFixed(1)} -> ${c.after.toFixed(1)} ms (${pct(c.change)})`),
  ];
}
