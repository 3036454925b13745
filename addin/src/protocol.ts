/**
 * Which protocol the browser speaks to the server: `h2` (every request and stream of the origin
 * multiplexed on one connection) or `http/1.1` (each WatchCells stream holds one of the six
 * connections a browser opens per host, and GetCells / WriteCells wait behind them). The pane's
 * connection line says which.
 *
 * Read from Resource Timing (`PerformanceResourceTiming.nextHopProtocol`) through a
 * PerformanceObserver, which sees every fetch even after the performance buffer is full. A server
 * on another origin must send `Timing-Allow-Origin` for the browser to say; the add-in's own server
 * serves the add-in, so its answers are same-origin.
 *
 * @see https://developer.mozilla.org/docs/Web/API/PerformanceResourceTiming/nextHopProtocol
 */

/**
 * Calls `onProtocol` with the protocol of each answer from a URL under `base()` (`h2`,
 * `http/1.1`), as the browser reports it. Does nothing outside a browser or where the browser has no
 * Resource Timing observer.
 * @returns the function that stops watching.
 */
export function watchProtocol(base: () => string, onProtocol: (protocol: string) => void): () => void {
  const g = globalThis as { PerformanceObserver?: typeof PerformanceObserver; window?: unknown };
  const Observer = g.PerformanceObserver;
  if (g.window === undefined || !Observer || !Observer.supportedEntryTypes?.includes("resource")) return () => undefined;
  const observer = new Observer((list) => {
    const b = base();
    if (!b) return;
    for (const e of list.getEntries() as PerformanceResourceTiming[]) {
      if (e.name.startsWith(`${b}/`) && e.nextHopProtocol) onProtocol(e.nextHopProtocol);
    }
  });
  observer.observe({ type: "resource" });
  return () => observer.disconnect();
}
