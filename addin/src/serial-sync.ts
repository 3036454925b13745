/**
 * An update of the sheet run soon after the changes that call for it, one at a time: the marks
 * (./pending-marks.ts, ./sandbox-marks.ts) bring the sheet in line with their state in one
 * Excel.run each, and a burst of changes makes one run.
 */
export class SerialSync {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> = Promise.resolve();

  /**
   * @param run the update; a failure is logged ("quantatom: <what> could not be updated") and the
   *   next change runs it again.
   * @param after called after each run, failed or not.
   */
  constructor(
    private readonly run: () => Promise<void>,
    private readonly what: string,
    private readonly after: () => void = () => undefined,
  ) {}

  /** Runs the update on the next turn, after any run in progress; calls until then make one run. */
  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.running
        .then(() => this.run())
        .catch((err: unknown) => console.warn(`quantatom: ${this.what} could not be updated`, err))
        .then(() => this.after());
    }, 0);
  }

  /** Resolves when no run is waiting or in progress (tests). */
  async settled(): Promise<void> {
    while (this.timer) await new Promise((r) => setTimeout(r, 5));
    await this.running;
  }

  /** Drops a run that has not started. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
