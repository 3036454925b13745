/**
 * One queue of writes per cube: a write's commit and its application to the lattice never
 * interleave with another write's, so the lattice applies commits in version order and a version
 * check against the lattice sees every earlier local write.
 */
export class WriteQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  /**
   * Runs `fn` after every earlier task queued under `key` (a cube's lowercase name) finished,
   * whether it succeeded or failed; resolves or rejects as `fn` does.
   */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const run = prev.then(fn);
    const tail = run.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
