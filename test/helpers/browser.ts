/**
 * Headless Chromium for browser tests: Debian's chromium driven by playwright-core (never a
 * downloaded browser), and esbuild bundles of test pages.
 * @see /work/shared/TECH-NOTES.md, "Browser tests"
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { build } from "esbuild";
import { type BrowserContext, chromium } from "playwright-core";

/** Where `.ci/run` installs Chromium (`apt-get install chromium`). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** More options of {@link launchChromium}. */
export interface ChromiumOptions {
  /**
   * Accept any server certificate (the development certificate of a test server over HTTPS, which
   * no test machine trusts). Default false.
   */
  ignoreHTTPSErrors?: boolean;
}

/** A browser with a fresh profile; `close` ends it and removes the profile. */
export async function launchChromium(viewport = { width: 320, height: 720 }, options: ChromiumOptions = {}): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (as .ci/run does)`);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    ignoreHTTPSErrors: options.ignoreHTTPSErrors ?? false,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Bundles a page's entry (TSX) into `dir` as `<page>.js` beside `<page>` (an html file that loads
 * it into `<div id="root">`).
 */
export async function bundlePage(entry: string, dir: string, page: string, title: string): Promise<void> {
  const script = `${page.replace(/\.html$/, "")}.js`;
  await build({
    entryPoints: [entry],
    bundle: true,
    outfile: path.join(dir, script),
    format: "iife",
    platform: "browser",
    target: "es2022",
    jsx: "automatic",
    minify: true,
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "silent",
  });
  fs.writeFileSync(
    path.join(dir, page),
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title><link rel="icon" href="data:,">` +
      `<style>html,body{margin:0}</style></head><body><div id="root"></div><script src="${script}"></script></body></html>`,
  );
}
