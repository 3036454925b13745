/**
 * The event contract on its own: the outbox rows of a transaction (verbose up to
 * COMPACT_MIN_CHANGES changes, else compact columns in parts of COMPACT_CHUNK), the checks of
 * parseWriteEvent (both forms), and the TransactionAssembler that puts the parts of a transaction back
 * together (any order, repeats, expiry, a cap on waiting transactions).
 */
import type { CommittedChange } from "../store/types";
import {
  COMPACT_CHUNK,
  COMPACT_MIN_CHANGES,
  type CompactAuditEvent,
  type CompactCalcEvent,
  type CompactWriteEvent,
  outboxRows,
  parseSecurityEvent,
  parseWriteEvent,
  type ReceivedWriteEvent,
  TOPICS,
  TransactionAssembler,
  type TransactionHeader,
  type VerboseAuditEvent,
  type VerboseCalcEvent,
  type VerboseWriteEvent,
} from "./contract";

const header: TransactionHeader = { cube: "Demo", tenant: "acme", cubeId: 3, loadedAt: 1000, txId: "tx-1", instanceId: "A", user: "ann", at: 2000 };

function changes(n: number, from = 0): (CommittedChange & { members: string[] })[] {
  return Array.from({ length: n }, (_, i) => ({
    coords: [from + i, 0],
    members: [`[Item].[I${from + i}]`, "[Measures].[Units]"],
    oldValue: i % 3 === 0 ? null : i,
    value: i % 5 === 0 ? null : from + i + 0.5,
    version: 10 + from + i,
  }));
}

/** The WriteEvent of part `part` of `parts`, with `n` changes starting at `from`. */
function part(part: number, parts: number, n: number, from: number, h: Partial<TransactionHeader> = {}): VerboseWriteEvent {
  return {
    ...header,
    ...h,
    part,
    parts,
    changes: changes(n, from).map(({ oldValue: _o, ...c }) => c),
  };
}

describe("outboxRows", () => {
  it("writes one row per topic (write, calc, audit) for a transaction within one chunk, keyed by tenant and cube", () => {
    const rows = outboxRows(header, changes(3));
    expect(rows.map((r) => [r.topic, r.key])).toEqual([
      [TOPICS.write, "acme/Demo"],
      [TOPICS.calc, "acme/Demo"],
      [TOPICS.audit, "acme/Demo"],
    ]);
    const { tenant: _t, ...untenanted } = header;
    expect(outboxRows(untenanted, changes(1)).map((r) => r.key)).toEqual(["default/Demo", "default/Demo", "default/Demo"]);
    const write = parseWriteEvent(rows[0].payload);
    expect(write).toMatchObject({ ...header, part: 0, parts: 1 });
    expect(write.changes).toEqual(changes(3).map(({ oldValue: _o, ...c }) => c));
    const calc = JSON.parse(rows[1].payload) as VerboseCalcEvent;
    expect(calc.coords).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
    ]);
    const audit = JSON.parse(rows[2].payload) as VerboseAuditEvent;
    expect(audit.records[1]).toEqual({ members: ["[Item].[I1]", "[Measures].[Units]"], oldValue: 1, newValue: 1.5, version: 11 });
  });

  it("writes a transaction of up to COMPACT_MIN_CHANGES changes in the verbose form, in one part", () => {
    const rows = outboxRows(header, changes(COMPACT_MIN_CHANGES));
    expect(rows.map((r) => r.topic)).toEqual([TOPICS.write, TOPICS.calc, TOPICS.audit]);
    const write = JSON.parse(rows[0].payload) as VerboseWriteEvent;
    expect(write).not.toHaveProperty("columns");
    expect([write.part, write.parts, write.changes.length]).toEqual([0, 1, COMPACT_MIN_CHANGES]);
    expect(write.changes[7].members).toEqual(["[Item].[I7]", "[Measures].[Units]"]);
    expect((JSON.parse(rows[2].payload) as VerboseAuditEvent).records).toHaveLength(COMPACT_MIN_CHANGES);
  });
});

describe("outboxRows, compact form", () => {
  /** What parseWriteEvent makes of the verbose form of these changes, less the member names. */
  const unnamed = (cs: CommittedChange[]) => cs.map(({ coords, value, version }) => ({ coords, value, version }));

  it("writes a larger transaction as columns without member names, in parts of COMPACT_CHUNK, each part on every topic", () => {
    const n = 2 * COMPACT_CHUNK + 7;
    const all = changes(n);
    const rows = outboxRows(header, all);
    expect(rows.map((r) => r.topic)).toEqual([0, 1, 2].flatMap(() => [TOPICS.write, TOPICS.calc, TOPICS.audit]));
    expect(rows.every((r) => r.key === "acme/Demo")).toBe(true);
    for (const r of rows) {
      expect(r.payload).not.toContain("[Item]");
      expect(r.payload).not.toContain("members");
    }
    const raw = rows.filter((r) => r.topic === TOPICS.write).map((r) => JSON.parse(r.payload) as CompactWriteEvent);
    expect(raw.map((w) => [w.part, w.parts, w.columns.dims, w.columns.values.length, w.columns.coords.length, "changes" in w])).toEqual([
      [0, 3, 2, COMPACT_CHUNK, 2 * COMPACT_CHUNK, false],
      [1, 3, 2, COMPACT_CHUNK, 2 * COMPACT_CHUNK, false],
      [2, 3, 2, 7, 14, false],
    ]);
    expect(raw[0]).toMatchObject({ ...header, part: 0, parts: 3 });
    expect(raw[2].columns).toEqual({
      dims: 2,
      coords: all.slice(2 * COMPACT_CHUNK).flatMap((c) => c.coords),
      values: all.slice(2 * COMPACT_CHUNK).map((c) => c.value),
      versions: all.slice(2 * COMPACT_CHUNK).map((c) => c.version),
    });
    const calc = rows.filter((r) => r.topic === TOPICS.calc).map((r) => JSON.parse(r.payload) as CompactCalcEvent);
    expect(calc.map((c) => [c.part, c.parts, c.txId, c.columns.dims, c.columns.coords.length, "coords" in c])).toEqual([
      [0, 3, "tx-1", 2, 2 * COMPACT_CHUNK, false],
      [1, 3, "tx-1", 2, 2 * COMPACT_CHUNK, false],
      [2, 3, "tx-1", 2, 14, false],
    ]);
    expect(calc.flatMap((c) => c.columns.coords)).toEqual(all.flatMap((c) => c.coords));

    // Through parseWriteEvent and the assembler, in any order: the changes the verbose form carries, less the names.
    const asm = new TransactionAssembler();
    const parsed = rows.filter((r) => r.topic === TOPICS.write).map((r) => parseWriteEvent(r.payload));
    expect(asm.add(parsed[2])).toBeNull();
    expect(asm.add(parsed[0])).toBeNull();
    const tx = asm.add(parsed[1]) as ReceivedWriteEvent;
    expect(tx).toMatchObject(header);
    expect(tx).not.toHaveProperty("columns");
    expect(tx.changes).toEqual(unnamed(all));
  });

  it("starts above COMPACT_MIN_CHANGES, in one part when it fits", () => {
    const rows = outboxRows(header, changes(COMPACT_MIN_CHANGES + 1));
    expect(rows).toHaveLength(3);
    const write = JSON.parse(rows[0].payload) as CompactWriteEvent;
    expect([write.part, write.parts, write.columns.values.length]).toEqual([0, 1, COMPACT_MIN_CHANGES + 1]);
    expect(parseWriteEvent(rows[0].payload).changes).toEqual(unnamed(changes(COMPACT_MIN_CHANGES + 1)));
  });

  it("holds the old and new values (null: empty) and versions in the audit columns", () => {
    const all = changes(COMPACT_MIN_CHANGES + 5);
    const audit = JSON.parse(outboxRows(header, all)[2].payload) as CompactAuditEvent;
    expect(audit).toMatchObject({ cube: "Demo", tenant: "acme", cubeId: 3, txId: "tx-1", instanceId: "A", user: "ann", at: 2000, part: 0, parts: 1 });
    expect(audit).not.toHaveProperty("records");
    expect(audit.columns).toEqual({
      dims: 2,
      coords: all.flatMap((c) => c.coords),
      oldValues: all.map((c) => c.oldValue),
      newValues: all.map((c) => c.value),
      versions: all.map((c) => c.version),
    });
    expect(audit.columns.oldValues.slice(0, 4)).toEqual([null, 1, 2, null]);
    expect(audit.columns.newValues.slice(0, 6)).toEqual([null, 1.5, 2.5, 3.5, 4.5, null]);
  });

  it("keeps each message of a COMPACT_CHUNK part of a 6-dimension cube under 1,000,000 bytes", () => {
    // Member ids up to 4 digits, spread values with 16 or 17 significant digits, versions near 10^9.
    const big: CommittedChange[] = Array.from({ length: COMPACT_CHUNK }, (_, i) => ({
      coords: [1000 + (i % 8000), 9000 + (i % 997), 4321 + (i % 13), 7777, 1024 + (i % 5000), 9999 - (i % 9)],
      members: [],
      oldValue: (i * 1234.5) / 7,
      value: (i * 98765.4321) / 13,
      version: 987_654_321 + i,
    }));
    const rows = outboxRows(header, [...big, ...big.slice(0, 1)]);
    const first = rows.slice(0, 3).map((r) => Buffer.byteLength(r.payload));
    expect(JSON.parse(rows[0].payload).columns.values).toHaveLength(COMPACT_CHUNK);
    for (const bytes of first) expect(bytes).toBeLessThan(1_000_000);
    // The write message: about 60 bytes a change (the audit one, with two values, more).
    expect(first[0] / COMPACT_CHUNK).toBeLessThan(70);
  });
});

describe("parseWriteEvent", () => {
  it("accepts an event and rejects one with a missing field or an impossible part number, naming it", () => {
    const ok = JSON.stringify(part(1, 2, 1, 0));
    expect(parseWriteEvent(ok).part).toBe(1);
    expect(() => parseWriteEvent(JSON.stringify({ ...part(0, 1, 1, 0), cubeId: "3" }))).toThrow(/needs cube, cubeId/);
    expect(() => parseWriteEvent(JSON.stringify({ ...part(0, 1, 1, 0), tenant: "acme/../globex" }))).toThrow(/tenant "acme\/..\/globex" is not a tenant id/);
    expect(() => parseSecurityEvent(JSON.stringify({ cube: "Demo", cubeId: 3, loadedAt: 1, version: 2 }))).toThrow(/not a security event: needs cube, cubeId, loadedAt, version, instanceId/);
    expect(() => parseWriteEvent(JSON.stringify(part(2, 2, 1, 0)))).toThrow(/part 2 of 2/);
    expect(() => parseWriteEvent(JSON.stringify(part(-1, 2, 1, 0)))).toThrow(/part -1 of 2/);
    const { txId: _t, ...noTx } = part(0, 2, 1, 0);
    expect(() => parseWriteEvent(JSON.stringify(noTx))).toThrow(/needs its txId/);
    expect(() => parseWriteEvent(JSON.stringify({ ...part(0, 1, 0, 0), changes: [{ coords: [1], value: "7", version: 1 }] }))).toThrow(/coords, value and version/);
  });

  it("accepts a compact event, expanding its columns into changes, and rejects bad columns, naming the field", () => {
    const { changes: _c, ...head } = part(1, 2, 0, 0);
    const columns = { dims: 3, coords: [1, 2, 3, 4, 5, 6], values: [1.5, null], versions: [7, 8] };
    const compact = (c: Record<string, unknown>) => JSON.stringify({ ...head, columns: { ...columns, ...c } });
    const ev = parseWriteEvent(compact({}));
    expect(ev).toMatchObject({ ...header, part: 1, parts: 2 });
    expect(ev).not.toHaveProperty("columns");
    expect(ev.changes).toEqual([
      { coords: [1, 2, 3], value: 1.5, version: 7 },
      { coords: [4, 5, 6], value: null, version: 8 },
    ]);
    expect(parseWriteEvent(compact({ coords: [], values: [], versions: [] })).changes).toEqual([]);
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ dims: 0 }, /columns\.dims 0 is not a positive integer/],
      [{ dims: 1.5 }, /columns\.dims 1\.5 is not a positive integer/],
      [{ dims: "3" }, /columns\.dims "3" is not a positive integer/],
      [{ values: "1.5" }, /columns\.values is not an array/],
      [{ coords: [1, 2, 3, 4, 5] }, /columns\.coords needs dims × values \(6\) member ids/],
      [{ coords: undefined }, /columns\.coords needs/],
      [{ versions: [7] }, /columns\.versions needs one version per value \(2\)/],
      [{ versions: undefined }, /columns\.versions needs/],
      [{ coords: [1, 2, 3, 4, -5, 6] }, /columns\.coords\[4\] -5 is not a non-negative integer/],
      [{ coords: [1, 2, 3, 4, 5, 6.5] }, /columns\.coords\[5\] 6\.5 is not a non-negative integer/],
      [{ coords: [1, "2", 3, 4, 5, 6] }, /columns\.coords\[1\] "2" is not a non-negative integer/],
      [{ values: [1.5, "7"] }, /columns\.values\[1\] "7" is not a finite number or null/],
      [{ values: [{}, null] }, /columns\.values\[0\] \{\} is not a finite number or null/],
      [{ versions: [7, null] }, /columns\.versions\[1\] null is not a number/],
    ];
    for (const [c, message] of bad) expect(() => parseWriteEvent(compact(c))).toThrow(message);
    expect(() => parseWriteEvent(JSON.stringify({ ...head, columns: [] }))).toThrow(/columns is not an object/);
    expect(() => parseWriteEvent(JSON.stringify({ ...head, columns: null }))).toThrow(/columns is not an object/);
    expect(() => parseWriteEvent(JSON.stringify({ ...head, columns, changes: [] }))).toThrow(/both changes and columns/);
    expect(() => parseWriteEvent(JSON.stringify(head))).toThrow(/needs changes or columns/);
  });
});

describe("TransactionAssembler", () => {
  it("passes a transaction in one message straight through", () => {
    const asm = new TransactionAssembler();
    const ev = part(0, 1, 2, 0);
    expect(asm.add(ev)).toBe(ev);
    expect(asm.waiting).toBe(0);
  });

  it("returns the whole transaction, changes in part order, only when the last part arrives in any order", () => {
    const asm = new TransactionAssembler();
    expect(asm.add(part(2, 3, 1, 20))).toBeNull();
    expect(asm.add(part(0, 3, 2, 0))).toBeNull();
    expect(asm.waiting).toBe(1);
    const tx = asm.add(part(1, 3, 2, 10));
    expect(tx).not.toBeNull();
    expect(tx!.changes.map((c) => c.coords[0])).toEqual([0, 1, 10, 11, 20]);
    expect(tx).not.toHaveProperty("part");
    expect(tx).not.toHaveProperty("parts");
    expect(tx).toMatchObject({ cube: "Demo", txId: "tx-1", user: "ann" });
    expect(asm.waiting).toBe(0);
  });

  it("ignores a repeated part (at-least-once delivery) and keeps transactions of other cubes apart", () => {
    const asm = new TransactionAssembler();
    expect(asm.add(part(0, 2, 1, 0))).toBeNull();
    expect(asm.add(part(0, 2, 1, 0))).toBeNull();
    expect(asm.add(part(0, 2, 1, 5, { cube: "Other", cubeId: 4 }))).toBeNull();
    expect(asm.waiting).toBe(2);
    const tx = asm.add(part(1, 2, 1, 1));
    expect(tx!.changes.map((c) => c.coords[0])).toEqual([0, 1]);
    expect(asm.waiting).toBe(1);
  });

  it("drops a transaction whose parts did not all come within maxAgeMs, and tells onDrop", () => {
    let now = 0;
    const dropped: [string, number, number][] = [];
    const asm = new TransactionAssembler({ maxAgeMs: 1000, now: () => now, onDrop: (...a) => dropped.push(a) });
    expect(asm.add(part(0, 3, 1, 0, { txId: "late" }))).toBeNull();
    now = 500;
    expect(asm.add(part(1, 3, 1, 1, { txId: "late" }))).toBeNull();
    now = 1500;
    expect(asm.add(part(0, 2, 1, 0, { txId: "fresh" }))).toBeNull();
    expect(dropped).toEqual([["late", 2, 3]]);
    // The dropped transaction's last part now starts a new wait instead of completing half of it.
    expect(asm.add(part(2, 3, 1, 2, { txId: "late" }))).toBeNull();
    expect(asm.add(part(1, 2, 1, 1, { txId: "fresh" }))!.changes).toHaveLength(2);
  });

  it("keeps at most maxPending transactions waiting, dropping the oldest", () => {
    const dropped: string[] = [];
    const asm = new TransactionAssembler({ maxPending: 2, onDrop: (txId) => dropped.push(txId) });
    for (const txId of ["t1", "t2", "t3"]) asm.add(part(0, 2, 1, 0, { txId }));
    expect(asm.waiting).toBe(2);
    expect(dropped).toEqual(["t1"]);
    expect(asm.add(part(1, 2, 1, 1, { txId: "t3" }))).not.toBeNull();
  });
});
