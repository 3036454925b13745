/**
 * The tile caches without servers: the in-process LRU, the cell encoding, readCells' version keys
 * (no stale read after a write), and the Redis cache's breaker against a port where nothing listens
 * (reads computed, the outage logged once). test/redis-cache.test.ts runs against a real Redis.
 */
import { smallCubeCells, smallCubeDef } from "../../../test/helpers/small-cube";
import { Cube } from "../lattice";
import { dataVersionOf, decodeCells, encodeCells, MemoryTileCache, RedisTileCache, readCells, type TileCache, tileKey } from "./index";

function demo() {
  return { id: 7, loadedAt: 1_700_000_000_000, cube: new Cube(smallCubeDef, smallCubeCells()) };
}

/** Coordinates by member names. */
function at(cube: Cube, ...members: string[]): Int32Array {
  const c = cube.resolve(members);
  if (!(c instanceof Int32Array)) throw new Error(c.message);
  return c;
}

describe("encodeCells / decodeCells", () => {
  it("round-trips values, empty cells and versions, and rejects other text", () => {
    const cells = [
      { value: 1.5, version: 0 },
      { value: null, version: 12 },
      { value: -0.25, version: 3 },
    ];
    expect(decodeCells(encodeCells(cells))).toEqual(cells);
    expect(decodeCells("not json")).toBeUndefined();
    expect(decodeCells("[1]")).toBeUndefined();
    expect(decodeCells('["a",1]')).toBeUndefined();
  });
});

describe("MemoryTileCache", () => {
  it("returns what was set, counts hits and misses, and drops least recently used tiles over its cell budget", async () => {
    const cache = new MemoryTileCache({ maxCells: 4 });
    const tile = (v: number) => [
      { value: v, version: 0 },
      { value: v + 1, version: 0 },
    ];
    await cache.set([{ key: "a", cells: tile(1) }]);
    await cache.set([{ key: "b", cells: tile(2) }]);
    expect(await cache.get(["a", "x"])).toEqual([tile(1), undefined]); // a is now most recent
    await cache.set([{ key: "c", cells: tile(3) }]); // over 4 cells: b goes
    expect(await cache.get(["a", "b", "c"])).toEqual([tile(1), undefined, tile(3)]);
    expect(cache.stats()).toMatchObject({ hits: 3, misses: 2, sets: 3 });
  });

  it("expires tiles after the TTL", async () => {
    let now = 0;
    const cache = new MemoryTileCache({ ttlSeconds: 10, now: () => now });
    await cache.set([{ key: "k", cells: [{ value: 1, version: 0 }] }]);
    now = 9_999;
    expect((await cache.get(["k"]))[0]).toBeDefined();
    now = 10_000;
    expect((await cache.get(["k"]))[0]).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});

describe("readCells", () => {
  it("serves a repeated batch from its tile and never a value older than the cube's data version", async () => {
    const served = demo();
    const { cube } = served;
    const cache = new MemoryTileCache();
    const north = at(cube, "[Region].[North]");
    const oslo = at(cube, "[Region].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]");
    const batch = [north, oslo];
    expect(await readCells(cache, served, batch)).toEqual([
      { value: 30, version: 0 },
      { value: 10, version: 0 },
    ]);
    await readCells(cache, served, batch);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, sets: 1 });

    cube.applyChanges([{ coords: oslo, value: 15, version: 5, writer: { user: "ann", at: 1 } }]);
    expect(await readCells(cache, served, batch)).toEqual([
      { value: 35, version: 5 },
      { value: 15, version: 5 },
    ]);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2, sets: 2 });
    expect(dataVersionOf(cube)).toMatch(/^5\.[0-9a-z]+$/);
    expect(tileKey(served, dataVersionOf(cube), batch)).toMatch(/^qatom:default:tile:demo:7\.1700000000000:v5\.[0-9a-z]+:/);
  });

  it("does not use a tile that arrives after a write applied while it was fetched", async () => {
    const served = demo();
    const { cube } = served;
    const oslo = at(cube, "[Region].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]");
    const inner = new MemoryTileCache();
    // A cache whose get lets a write apply before it answers.
    const racy: TileCache = {
      kind: "memory",
      get: async (keys) => {
        const res = await inner.get(keys);
        cube.applyChanges([{ coords: oslo, value: 99, version: 9, writer: { user: "bob", at: 2 } }]);
        return res;
      },
      set: (entries) => inner.set(entries),
      stats: () => inner.stats(),
      close: () => inner.close(),
    };
    await inner.set([{ key: tileKey(served, dataVersionOf(cube), [oslo]), cells: [{ value: 10, version: 0 }] }]);
    expect(await readCells(racy, served, [oslo])).toEqual([{ value: 99, version: 9 }]);
  });

  it("answers from the engine without a cache", async () => {
    const served = demo();
    expect(await readCells(undefined, served, [at(served.cube, "[Region].[South]")])).toEqual([{ value: 5, version: 0 }]);
  });
});

describe("dataVersionOf", () => {
  it("is the same for the same writes applied in any order, and differs while one is missing", () => {
    const a = demo().cube;
    const b = demo().cube;
    const oslo = at(a, "[Region].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]");
    const rome = at(a, "[Region].[South].[Rome]", "[Product].[Gadget]", "[Channel].[Alpha]");
    const w = (coords: Int32Array, value: number, version: number) => ({ coords, value, version, writer: { user: "u", at: 1 } });
    expect(dataVersionOf(a)).toBe("0.0");
    a.applyChanges([w(oslo, 1, 5)]);
    a.applyChanges([w(rome, 2, 7)]);
    b.applyChanges([w(rome, 2, 7)]);
    // Same highest version, but b has not applied version 5 yet.
    expect(b.store.maxVersion).toBe(a.store.maxVersion);
    expect(dataVersionOf(b)).not.toBe(dataVersionOf(a));
    b.applyChanges([w(oslo, 1, 5)]);
    expect(dataVersionOf(b)).toBe(dataVersionOf(a));
    a.applyChanges([w(oslo, 3, 9)]);
    b.applyChanges([w(oslo, 3, 9)]);
    expect(dataVersionOf(b)).toBe(dataVersionOf(a));
  });
});

describe("RedisTileCache with no server", () => {
  it("computes reads, logs the outage once rather than per request, and never rejects", async () => {
    const warnings: string[] = [];
    const cache = new RedisTileCache("redis://127.0.0.1:1", {
      connectTimeoutMs: 200,
      maxRetryDelayMs: 50,
      log: { warn: (_o, msg) => warnings.push(msg), info: () => {} },
    });
    try {
      const served = demo();
      const north = at(served.cube, "[Region].[North]");
      for (let i = 0; i < 20; i++) {
        expect(await readCells(cache, served, [north])).toEqual([{ value: 30, version: 0 }]);
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(cache.available).toBe(false);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/Redis tile cache unavailable/);
      expect(cache.stats().hits).toBe(0);
    } finally {
      await cache.close();
    }
  });
});
