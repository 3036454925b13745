import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LOCK_FILE, lockDataDir } from "./dir-lock";
import { openStore } from "./index";

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-lock-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("lockDataDir", () => {
  it("refuses a directory held by another running process, naming its pid", async () => {
    const other = spawn("sleep", ["30"]);
    try {
      fs.writeFileSync(path.join(dir, LOCK_FILE), String(other.pid));
      expect(() => lockDataDir(dir)).toThrow(new RegExp(`in use by another QuantatomAI process \\(pid ${other.pid}\\)`));
      await expect(openStore({ dataDir: dir })).rejects.toThrow(/in use by another QuantatomAI process/);
    } finally {
      other.kill();
    }
  });

  it("takes over a lock left by a process that is gone, and releases it", () => {
    const gone = spawnSync("true").pid;
    fs.writeFileSync(path.join(dir, LOCK_FILE), String(gone));
    const release = lockDataDir(dir);
    expect(fs.readFileSync(path.join(dir, LOCK_FILE), "utf8")).toBe(String(process.pid));
    release();
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it("is released when the store closes", async () => {
    const store = await openStore({ dataDir: dir });
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(true);
    await store.close();
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });
});
