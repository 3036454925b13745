/**
 * Progress bars for a load on a terminal (cli-progress): one bar per phase, on stderr so that
 * stdout stays clean for the summary. Nothing is drawn when the stream is not a TTY.
 */
import cliProgress from "cli-progress";
import type { LoadProgressFn } from "./load";

/** Human labels of the load phases, and whether the phase counts bytes (else rows). */
const PHASES: Record<string, { label: string; bytes: boolean }> = {
  read: { label: "Reading CSVs", bytes: true },
  aggregate: { label: "Aggregating facts", bytes: true },
  build: { label: "Building cells", bytes: false },
  save: { label: "Saving to the store", bytes: false },
};

/** A progress display: feed it to loadModel/loadModelIntoStore, then stop it. */
export interface ProgressBars {
  onProgress: LoadProgressFn;
  /** Ends the current bar (call also on failure, before printing the error). */
  stop(): void;
}

function formatAmount(n: number, bytes: boolean): string {
  if (!bytes) return n.toLocaleString("en-US");
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * Creates progress bars writing to `stream` (default process.stderr): a new bar each time the phase
 * changes. Phases are those of LoadProgressFn plus `save` (rows written by store.saveCube).
 */
export function createProgressBars(stream: NodeJS.WriteStream = process.stderr): ProgressBars {
  let bar: cliProgress.SingleBar | undefined;
  let phase = "";
  let lastUpdate = 0;
  const stop = () => {
    bar?.stop();
    bar = undefined;
    phase = "";
  };
  const onProgress: LoadProgressFn = (p, done, total) => {
    const info = PHASES[p] ?? { label: p, bytes: false };
    const payload = { label: info.label.padEnd(20), amount: `${formatAmount(done, info.bytes)} / ${formatAmount(total, info.bytes)}` };
    if (p !== phase) {
      stop();
      phase = p;
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: "{label} {bar} {percentage}% | {amount}",
          hideCursor: true,
          clearOnComplete: false,
          barsize: 30,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(Math.max(total, 1), done, payload);
      lastUpdate = Date.now();
      return;
    }
    const now = Date.now();
    if (done < total && now - lastUpdate < 50) return;
    lastUpdate = now;
    bar?.setTotal(Math.max(total, 1));
    bar?.update(done, payload);
  };
  return { onProgress, stop };
}
