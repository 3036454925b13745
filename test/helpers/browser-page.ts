/**
 * One browser test page served by a real backend: a temporary folder, the page bundled into it
 * (./browser.ts `bundlePage`), the server started on it as the add-in's files (`QATOM_ADDIN_DIR`,
 * so the page and the API share one origin, as in Excel) and headless Chromium, all three in
 * parallel; then the page opened with its errors watched (./page-errors.ts) and its Connect calls
 * counted.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { bundlePage, launchChromium } from "./browser";
import { type PageErrors, watchPageErrors } from "./page-errors";

/** A server a page test talks to. */
export interface PageServer {
  url: string;
  close(): Promise<void>;
}

/** What {@link openTestPage} needs. */
export interface TestPageOptions<S extends PageServer> {
  /** The temporary folder's name prefix (`qatom-ribbon-`). */
  name: string;
  /** The page's entry (TSX or TS), bundled to `<page>.js` beside `<page>`. */
  entry: string;
  /** The page's file name (`ribbon-test.html`) and title. */
  page: string;
  title: string;
  viewport?: { width: number; height: number };
  /** Starts the server with the page's folder as its add-in folder; `tmp` is the test's folder. */
  startServer(pageDir: string, tmp: string): Promise<S>;
  /** Runs before the page is opened (init scripts, routes, request counters). */
  beforeOpen?(page: Page, server: S): Promise<void> | void;
}

/** An open test page; `close` ends the browser and the server and removes the folder. */
export interface TestPage<S extends PageServer> {
  server: S;
  page: Page;
  pageErrors: PageErrors;
  browser: Awaited<ReturnType<typeof launchChromium>>;
  /** Connect calls of `method` (`WriteCells`) the page has sent since it opened. */
  rpcCount(method: string): number;
  close(): Promise<void>;
}

/** Bundles, serves and opens a test page; see the module comment. */
export async function openTestPage<S extends PageServer>(o: TestPageOptions<S>): Promise<TestPage<S>> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), o.name));
  const pageDir = path.join(tmp, "page");
  fs.mkdirSync(pageDir);
  let server: S | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  const close = async () => {
    await browser?.close();
    await server?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  const started = await Promise.allSettled([
    o.startServer(pageDir, tmp).then((s) => {
      server = s;
    }),
    bundlePage(o.entry, pageDir, o.page, o.title),
    launchChromium(o.viewport).then((b) => {
      browser = b;
    }),
  ]);
  const failed = started.find((r) => r.status === "rejected");
  if (failed) {
    await close();
    throw failed.reason;
  }
  const page = browser!.context.pages()[0] ?? (await browser!.context.newPage());
  page.setDefaultTimeout(10_000);
  await o.beforeOpen?.(page, server!);
  const calls = new Map<string, number>();
  page.on("request", (r) => {
    const method = /\/quantatom\.v1\.\w+\/(\w+)$/.exec(r.url())?.[1];
    if (method) calls.set(method, (calls.get(method) ?? 0) + 1);
  });
  const pageErrors = watchPageErrors(page);
  await page.goto(`${server!.url}/${o.page}`);
  return { server: server!, page, pageErrors, browser: browser!, rpcCount: (method) => calls.get(method) ?? 0, close };
}
