/**
 * The thread-pool executor against the serial kernel: on a leaf store large enough to live in
 * shared memory and be split, the pooled sums and counts equal the kernel's in one thread (values
 * are integers, so the order of additions cannot change a sum).
 */
import { LeafStore } from "../lattice/leaf-store";
import { Cube, type DimensionDef, type MemberColumn, PARALLEL_MIN_ROWS, SHARED_MIN_ROWS, scanRows, serialExecutor } from "../lattice";
import { ThreadPoolExecutor } from "./thread-pool";

/** Key contribution of a member no requested member covers (as the engine's REJECT). */
const REJECT = -(2 ** 26);
const ROWS = PARALLEL_MIN_ROWS + 75_001;
const SIZES = [100, 300, 40];

/** A store of ROWS distinct leaves over dimensions of SIZES members, integer values, some empty (NaN). */
function bigStore(): LeafStore {
  const coords = SIZES.map(() => new Int32Array(ROWS));
  const values = new Float64Array(ROWS);
  for (let r = 0; r < ROWS; r++) {
    coords[0][r] = r % 100;
    coords[1][r] = Math.floor(r / 100) % 300;
    coords[2][r] = Math.floor(r / 30_000);
    values[r] = r % 97 === 0 ? Number.NaN : ((r * 7919) % 1000) - 300;
  }
  return LeafStore.from({ count: ROWS, coords, values }, SIZES);
}

/** Tables over 2 axes (dimensions 1 and 0): 6 x 5 slots, some members rejected. */
function tables(): { cols: (s: LeafStore) => MemberColumn[]; tables: Int32Array[]; slots: number } {
  const t1 = new Int32Array(SIZES[1]).map((_, m) => (m % 11 === 0 ? REJECT : (m % 6) * 5));
  const t0 = new Int32Array(SIZES[0]).map((_, m) => (m % 13 === 0 ? REJECT : m % 5));
  return { cols: (s) => [s.cols[1], s.cols[0]], tables: [t1, t0], slots: 30 };
}

describe("ThreadPoolExecutor", () => {
  const pool = new ThreadPoolExecutor({ helpers: 2 });
  afterAll(() => pool.close());

  it("sums like the serial kernel on a shared-memory store split over helper threads", async () => {
    const store = bigStore();
    expect(store.count).toBeGreaterThanOrEqual(Math.max(PARALLEL_MIN_ROWS, SHARED_MIN_ROWS));
    expect(store.values.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(store.cols.every((c) => c.buffer instanceof SharedArrayBuffer)).toBe(true);
    const { cols, tables: t, slots } = tables();
    const want = new Float64Array(2 * slots);
    scanRows(0, store.count, cols(store), t, store.values, null, want);
    const viaSerial = new Float64Array(2 * slots);
    serialExecutor.scan(store.count, cols(store), t, store.values, viaSerial);
    expect(Array.from(viaSerial)).toEqual(Array.from(want));
    expect(want[1]).toBeGreaterThan(0);

    pool.warm(store.count);
    expect(pool.helperCount()).toBe(2);
    // Helpers take tens of milliseconds to start: scan until they have summed ranges themselves.
    const deadline = Date.now() + 20_000;
    let scans = 0;
    while (pool.stats.helperRanges < 4 && Date.now() < deadline) {
      const got = new Float64Array(2 * slots);
      pool.scan(store.count, cols(store), t, store.values, got);
      expect(Array.from(got)).toEqual(Array.from(want));
      scans++;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(pool.stats.helperRanges).toBeGreaterThanOrEqual(4);
    expect(pool.stats.helperRanges + pool.stats.reclaimedRanges).toBe(2 * scans);
  });

  it("gives a Cube the same consolidated cells as the serial default", () => {
    // All -> 10 groups -> leaves (every third one subtracts), per dimension; leaf i is member 11 + i.
    const dim = (name: string, leaves: number): DimensionDef => ({
      name,
      levels: ["(All)", "Group", "Leaf"],
      hasAll: true,
      members: [
        { name: "All", parent: -1, level: 0 },
        ...Array.from({ length: 10 }, (_, g) => ({ name: `G${g}`, parent: 0, level: 1 })),
        ...Array.from({ length: leaves }, (_, i) => ({ name: `L${i}`, parent: 1 + (i % 10), level: 2, weight: i % 3 === 0 ? -1 : 1 })),
      ],
    });
    const def = { name: "Big", dimensions: SIZES.map((n, d) => dim(`D${d}`, n)) };
    const store = bigStore();
    const cells = () => ({
      count: store.count,
      coords: store.cols.map((c) => Int32Array.from(c.subarray(0, store.count), (m) => 11 + m)),
      values: store.values.slice(0, store.count),
    });
    const serial = new Cube(def, cells());
    const pooled = new Cube(def, cells(), undefined, { executor: pool });
    const before = pool.stats.helperRanges + pool.stats.reclaimedRanges;
    const grid: Int32Array[] = [];
    for (let a = 0; a <= 10; a++) for (let b = 0; b <= 10; b++) grid.push(Int32Array.from([a, b, b % 2 === 0 ? 0 : 1 + (a % 10)]));
    expect(pooled.getCells(grid)).toEqual(serial.getCells(grid));
    expect(pool.stats.helperRanges + pool.stats.reclaimedRanges).toBeGreaterThan(before);

    // Scattered cells, most of them under one leaf of some dimension: the narrow pass, split too.
    let seed = 7;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const member = (d: number) => {
      const kind = next(3);
      return kind === 0 ? 0 : kind === 1 ? 1 + next(10) : 11 + next(SIZES[d]);
    };
    const scattered: Int32Array[] = [];
    while (scattered.length < 300) {
      const c = Int32Array.from(SIZES, (_, d) => member(d));
      if (c.some((m) => m <= 10)) scattered.push(c);
    }
    const split = pool.stats.helperRanges + pool.stats.reclaimedRanges;
    const want = serial.getCells(scattered);
    expect(want.filter((c) => c.value !== null).length).toBeGreaterThan(200);
    expect(pooled.getCells(scattered)).toEqual(want);
    expect(pool.stats.helperRanges + pool.stats.reclaimedRanges).toBeGreaterThan(split);
  });

  it("runs in the calling thread when the columns are not in shared memory", () => {
    const cols: MemberColumn[] = [Uint8Array.from([0, 1, 2, 1])];
    const values = Float64Array.from([1, 2, Number.NaN, 4]);
    const acc = new Float64Array(6);
    const before = { ...pool.stats };
    pool.scan(4, cols, [Int32Array.from([0, 1, 2])], values, acc);
    expect(Array.from(acc)).toEqual([1, 1, 6, 2, 0, 0]);
    expect(pool.stats).toEqual(before);
  });

  it("answers a scan right when a helper dies, within seconds, and replaces the dead helper", async () => {
    const store = bigStore();
    const { cols, tables: t, slots } = tables();
    const want = new Float64Array(2 * slots);
    scanRows(0, store.count, cols(store), t, store.values, null, want);
    pool.warm(store.count);
    expect(pool.helperCount()).toBe(2);
    const replaced = pool.stats.replacedHelpers;
    // Killed between scans, and killed while the next scan may already have posted it a range.
    await pool.killHelper(0);
    expect(pool.helperCount()).toBe(1);
    const dying = pool.killHelper(0);
    const t0 = Date.now();
    const got = new Float64Array(2 * slots);
    pool.scan(store.count, cols(store), t, store.values, got);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(Array.from(got)).toEqual(Array.from(want));
    await dying;
    // The next scans start replacements, which go on to sum ranges themselves.
    const helperRanges = pool.stats.helperRanges;
    const deadline = Date.now() + 20_000;
    while (pool.stats.helperRanges < helperRanges + 2 && Date.now() < deadline) {
      const again = new Float64Array(2 * slots);
      pool.scan(store.count, cols(store), t, store.values, again);
      expect(Array.from(again)).toEqual(Array.from(want));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(pool.helperCount()).toBe(2);
    expect(pool.stats.replacedHelpers).toBe(replaced + 2);
    expect(pool.stats.helperRanges).toBeGreaterThanOrEqual(helperRanges + 2);
  });
});
