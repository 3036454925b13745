import fs from "node:fs";
import path from "node:path";

/** Name of the lock file inside a PGlite data directory. */
export const LOCK_FILE = "quantatom.lock";

/**
 * Takes the data directory for this process, so that a second backend on the same embedded database
 * (which would corrupt it) fails at start instead. The lock file holds the owner's pid; a lock left
 * by a process that no longer runs (killed, crashed) is taken over.
 * @returns a function that releases the lock.
 * @throws Error naming the directory and the pid that holds it.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: "wx" });
      return () => {
        try {
          if (fs.readFileSync(file, "utf8") === String(process.pid)) fs.unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const owner = Number(fs.readFileSync(file, "utf8").trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner)) {
        throw new Error(
          `the data directory ${dataDir} is in use by another QuantatomAI process (pid ${owner}); stop it, or set QATOM_DATA_DIR to another folder`,
        );
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new Error(`could not lock the data directory ${dataDir}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
