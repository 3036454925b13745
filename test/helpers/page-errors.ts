/**
 * Errors a browser page reports (uncaught exceptions and `console.error`), collected from before
 * the page loads, and the check that there were none. Tested against pages that do log errors in
 * test/page-errors.test.ts, so a passing check means something.
 */
import type { Page } from "playwright-core";

/** What {@link watchPageErrors} has seen so far. */
export interface PageErrors {
  /** Uncaught exceptions and console errors, in order, each with where it came from. */
  readonly errors: string[];
  /** Pages loaded (`load` events) since the watch began: 0 means there was nothing to watch. */
  readonly loads: number;
}

/** Starts collecting `page`'s errors; call it before `page.goto`, so that errors during loading count. */
export function watchPageErrors(page: Page): PageErrors {
  const seen = { errors: [] as string[], loads: 0 };
  page.on("pageerror", (err) => seen.errors.push(err.message));
  page.on("console", (msg) => {
    if (msg.type() === "error") seen.errors.push(`${msg.text()} (${msg.location().url})`);
  });
  page.on("load", () => {
    seen.loads++;
  });
  return seen;
}

/**
 * Fails unless a page was loaded while watched and reported no error. Exercise the page before
 * calling it: errors of code that never ran are not caught.
 * @throws the failed expectation, listing the errors.
 */
export function expectNoPageErrors(seen: PageErrors): void {
  expect(seen.loads).toBeGreaterThan(0);
  expect(seen.errors).toEqual([]);
}
