/**
 * The event contract on its own: the outbox rows of a transaction (chunked by OUTBOX_CHUNK), the
 * checks of parseWriteEvent, and the TransactionAssembler that puts the parts of a transaction back
 * together (any order, repeats, expiry, a cap on waiting transactions).
 */
import type { CommittedChange } from "../store/types";
import { type AuditEvent, type CalcEvent, OUTBOX_CHUNK, outboxRows, parseSecurityEvent, parseWriteEvent, TOPICS, TransactionAssembler, type TransactionHeader, type WriteEvent } from "./contract";

const header: TransactionHeader = { cube: "Demo", tenant: "acme", cubeId: 3, loadedAt: 1000, txId: "tx-1", instanceId: "A", user: "ann", at: 2000 };

function changes(n: number, from = 0): CommittedChange[] {
  return Array.from({ length: n }, (_, i) => ({
    coords: [from + i, 0],
    members: [`[Item].[I${from + i}]`, "[Measures].[Units]"],
    oldValue: i % 3 === 0 ? null : i,
    value: i % 5 === 0 ? null : from + i + 0.5,
    version: 10 + from + i,
  }));
}

/** The WriteEvent of part `part` of `parts`, with `n` changes starting at `from`. */
function part(part: number, parts: number, n: number, from: number, h: Partial<TransactionHeader> = {}): WriteEvent {
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
    const calc = JSON.parse(rows[1].payload) as CalcEvent;
    expect(calc.coords).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
    ]);
    const audit = JSON.parse(rows[2].payload) as AuditEvent;
    expect(audit.records[1]).toEqual({ members: ["[Item].[I1]", "[Measures].[Units]"], oldValue: 1, newValue: 1.5, version: 11 });
  });

  it("splits a larger transaction into parts of OUTBOX_CHUNK changes, each part on every topic", () => {
    const n = 2 * OUTBOX_CHUNK + 7;
    const rows = outboxRows(header, changes(n));
    expect(rows).toHaveLength(9);
    const writes = rows.filter((r) => r.topic === TOPICS.write).map((r) => parseWriteEvent(r.payload));
    expect(writes.map((w) => [w.part, w.parts, w.changes.length])).toEqual([
      [0, 3, OUTBOX_CHUNK],
      [1, 3, OUTBOX_CHUNK],
      [2, 3, 7],
    ]);
    expect(writes.flatMap((w) => w.changes.map((c) => c.version))).toEqual(changes(n).map((c) => c.version));
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
