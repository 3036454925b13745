/**
 * When PGlite's thread dies, every statement waiting on it and every later one rejects with a
 * message saying so; none hangs. A statement that cannot be sent fails alone.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PgliteThread } from "./pglite-thread";

describe("PgliteThread", () => {
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-pglite-thread-"));
  });

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("rejects waiting and later statements when its thread dies", async () => {
    const thread = await PgliteThread.open(path.join(dir, "db"));
    expect(await thread.query("SELECT 1 + 1 AS two", [])).toEqual([{ two: 2 }]);
    const waiting = thread.query("SELECT pg_sleep(2)", []);
    // The thread killed from outside, as a crash of its WebAssembly would end it.
    await (thread as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await expect(waiting).rejects.toThrow(/^the embedded database \(PGlite\) stopped: its thread exited with code 1$/);
    await expect(thread.query("SELECT 1", [])).rejects.toThrow(/stopped/);
    await thread.close();
  });

  it("fails a statement whose parameters cannot be sent, and runs the next", async () => {
    const thread = await PgliteThread.open(path.join(dir, "db-params"));
    try {
      await expect(thread.query("SELECT $1::text AS x", [() => 1])).rejects.toThrow(/^the statement cannot be sent to the embedded database: /);
      expect(await thread.query("SELECT $1::int + 1 AS y", [41])).toEqual([{ y: 42 }]);
    } finally {
      await thread.close();
    }
  });

  it("names a directory that holds no database it can open", async () => {
    const file = path.join(dir, "not-a-dir");
    fs.writeFileSync(file, "x");
    await expect(PgliteThread.open(file)).rejects.toThrow(`the embedded database (PGlite) in ${file} could not be opened: ErrnoError (errno 54)`);
  });
});
