/**
 * The "no page errors" check of the browser tests (test/helpers/page-errors.ts), proved able to
 * fail: in real headless Chromium, a page that logs `console.error` or throws fails it, a quiet page
 * passes it, and a watch that saw no page load fails it too (nothing was checked).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { launchChromium } from "./helpers/browser";
import { expectNoPageErrors, watchPageErrors } from "./helpers/page-errors";

describe("the page-errors check in Chromium", () => {
  let tmp: string;
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  /** A page whose script is `script`, as a file URL. */
  function pageWith(name: string, script: string): string {
    const file = path.join(tmp, `${name}.html`);
    fs.writeFileSync(file, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${name}</title><link rel="icon" href="data:,"></head><body><p>${name}</p><script>${script}</script></body></html>`);
    return pathToFileURL(file).href;
  }

  /** Loads `url` in a new tab watched from the start; returns what the watch saw. */
  async function visit(url: string) {
    const page = await browser.context.newPage();
    try {
      const seen = watchPageErrors(page);
      await page.goto(url);
      await page.getByRole("paragraph").waitFor();
      await page.evaluate(() => new Promise((r) => setTimeout(r, 50)));
      return seen;
    } finally {
      await page.close();
    }
  }

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-page-errors-"));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("fails for a page that logs console.error", async () => {
    const seen = await visit(pageWith("logs", 'console.log("fine"); console.error("cannot reach the server");'));
    expect(seen.errors).toEqual([expect.stringMatching(/^cannot reach the server \(file:.*logs\.html\)$/)]);
    expect(() => expectNoPageErrors(seen)).toThrow(/cannot reach the server/);
  });

  test("fails for a page that throws", async () => {
    const seen = await visit(pageWith("throws", 'setTimeout(() => { throw new Error("render failed"); });'));
    expect(() => expectNoPageErrors(seen)).toThrow(/render failed/);
  });

  test("passes for a quiet page, and fails when no page was loaded while watched", async () => {
    const seen = await visit(pageWith("quiet", 'console.log("hello"); console.warn("only a warning");'));
    expect(seen.loads).toBe(1);
    expectNoPageErrors(seen);

    const page = await browser.context.newPage();
    try {
      const unwatched = watchPageErrors(page);
      expect(() => expectNoPageErrors(unwatched)).toThrow();
    } finally {
      await page.close();
    }
  });
});
