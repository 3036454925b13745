import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fingerprintOf, readSnapshot, sameFingerprint, snapshotPath, writeSnapshot } from "./snapshot";

describe("cube snapshots", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-snap-unit-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("write then read gives the same rows: member ids of 1, 2 and 4 bytes, values with empties, versions, writers", async () => {
    const n = 5;
    const file = snapshotPath(dir, "acme corp", 7);
    const ann = { user: "ann", at: 1_700_000_000_000 };
    const bob = { user: "bob", at: 1_700_000_000_500 };
    await writeSnapshot(file, {
      cubeId: 7,
      name: "Sales",
      tenant: "acme corp",
      loadedAt: 123,
      source: "test|2026-12-03 19:00:00.123456+00",
      count: n,
      // Longer than `count`, as a store's columns are: only `count` rows are written.
      cols: [Uint8Array.from([1, 2, 3, 4, 5, 9]), Uint16Array.from([300, 301, 302, 303, 304, 0]), Int32Array.from([70_000, 1, 2, 3, 4, 0])],
      values: Float64Array.from([1.5, Number.NaN, 3, 4.25, 5, 0]),
      versions: Float64Array.from([0, 12, 13, 0, 2 ** 40, 0]),
      writerIds: Int32Array.from([0, 1, 2, 0, 2]),
      writers: [ann, bob],
    });
    expect(path.basename(path.dirname(file))).toBe("acme%20corp");
    const snap = readSnapshot(file)!;
    expect(snap.header).toMatchObject({ cubeId: 7, name: "Sales", tenant: "acme corp", loadedAt: 123, count: n, idBytes: [1, 2, 4] });
    expect(snap.cells.coords.map((c) => [...c])).toEqual([
      [1, 2, 3, 4, 5],
      [300, 301, 302, 303, 304],
      [70_000, 1, 2, 3, 4],
    ]);
    expect([...snap.cells.values]).toEqual([1.5, Number.NaN, 3, 4.25, 5]);
    expect([...snap.cells.versions!]).toEqual([0, 12, 13, 0, 2 ** 40]);
    expect([...snap.writers]).toEqual([
      [1, ann],
      [2, bob],
      [4, bob],
    ]);
    // Rows with a value or a version: all five; the sum of the versions exactly.
    expect(snap.header.fingerprint).toEqual({ rows: "5", versionSum: String(12 + 13 + 2 ** 40), maxVersion: String(2 ** 40) });
  });

  it("fingerprints count rows with a value or a version and sum versions beyond 2^53 exactly", () => {
    const big = 2 ** 52;
    const f = fingerprintOf(4, Float64Array.from([Number.NaN, Number.NaN, 1, Number.NaN]), Float64Array.from([big, big, big + 2, 0]));
    expect(f).toEqual({ rows: "3", versionSum: String(3n * BigInt(big) + 2n), maxVersion: String(big + 2) });
    expect(sameFingerprint(f, { rows: "3", versionSum: f.versionSum, maxVersion: f.maxVersion })).toBe(true);
    expect(sameFingerprint(f, { ...f, versionSum: String(BigInt(f.versionSum) + 1n) })).toBe(false);
  });

  it("names what is wrong with a file that is not a whole snapshot; none is null", () => {
    expect(readSnapshot(path.join(dir, "none.qsnap"))).toBeNull();
    const bad = path.join(dir, "bad.qsnap");
    fs.writeFileSync(bad, "not a snapshot");
    expect(() => readSnapshot(bad)).toThrow("is not a cube snapshot");
  });
});
