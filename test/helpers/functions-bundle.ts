/**
 * Loads the functions bundle as Excel would: functions/src/functions.ts bundled by esbuild with the
 * build's options (browser platform, IIFE, es2020; see scripts/build.ts) into a temporary file, and
 * evaluated in a fresh `vm` context whose globals are the Office stand-ins, a counting `fetch`, and
 * the web APIs a browser page has. Each load is a separate runtime (its own shared context).
 *
 * Sign-in: by default the runtime's storage remembers a development sign-in as `tester` (as after a
 * sign-in in the task pane), so the runtime signs in silently when it starts; `signIn: null` starts
 * with nobody signed in.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import vm from "node:vm";
import { fromBinary } from "@bufbuild/protobuf";
import { readClaims } from "../../addin/src/auth/claims";
import type { AddinOptions, AddinRuntime } from "../../addin/src/context";
import { GetCellsRequestSchema, WatchCellsRequestSchema } from "../../proto/gen/quantatom/v1/lattice_pb";
import { customFunctionsStandIn, FakeWorkbook, officeStandIn, storageStandIn } from "./office-stand-ins";

const ENTRY = path.join(__dirname, "..", "..", "functions", "src", "functions.ts");

/** One request the bundle sent. */
export interface SentRequest {
  /** `GetCells`, `WatchCells`, ... */
  method: string;
  /** Member lists of a GetCells or WatchCells request. */
  cells?: string[][];
  /** Whom the request's bearer token names (its `sub`), null without one. */
  user: string | null;
}

let bundled: { file: string; code: string } | null = null;

/** Bundles functions/src/functions.ts once per test file; returns the bundle's text. */
export async function bundleFunctions(): Promise<string> {
  if (bundled) return bundled.code;
  const esbuild = await import("esbuild");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-functions-"));
  const file = path.join(dir, "functions.js");
  await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    platform: "browser",
    format: "iife",
    target: "es2020",
    outfile: file,
    logLevel: "silent",
  });
  bundled = { file, code: fs.readFileSync(file, "utf8") };
  return bundled.code;
}

/** A loaded functions runtime. */
export interface LoadedFunctions {
  /** The associated functions by id (CELL, COMMENT, MEMBERS). */
  functions: Map<string, (...args: unknown[]) => unknown>;
  /** The runtime's shared context (what the task pane would use). */
  context: AddinRuntime;
  workbook: FakeWorkbook;
  /** Every request sent, in order. */
  requests: SentRequest[];
  storage: ReturnType<typeof storageStandIn>;
  /** Stops the runtime's streams and timers. */
  dispose(): void;
}

/** What `load` may set up. */
export interface LoadOptions {
  serverUrl: string;
  /** The development user remembered as signed in (default `tester`); null: nobody. */
  signIn?: string | null;
  /** Answers the runtime's `POST /auth/dev-token` instead of the server (e.g. with short-lived tokens of the same issuer). */
  devToken?: (user: string) => Promise<{ accessToken: string; expiresIn: number }>;
  /** Tuning passed to the shared context (see AddinOptions); functions only. */
  tuning?: Omit<AddinOptions, "host" | "fetch">;
  /** Leave `Office` and `Excel` out (a runtime without a workbook). */
  noOffice?: boolean;
  /** Requirement sets the stand-in `Office` supports, e.g. `{ ExcelApi: "1.20" }` (default none). */
  requirementSets?: Record<string, string>;
}

function decodeCells(method: string, body: unknown): string[][] | undefined {
  if (!(body instanceof Uint8Array) && !ArrayBuffer.isView(body)) return undefined;
  const view = body as ArrayBufferView;
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  if (method === "GetCells") return fromBinary(GetCellsRequestSchema, bytes).cells.map((c) => c.members);
  if (method === "WatchCells") {
    // The Connect streaming envelope: 1 flag byte, 4 length bytes, then the message.
    const len = new DataView(bytes.buffer, bytes.byteOffset).getUint32(1);
    return fromBinary(WatchCellsRequestSchema, bytes.subarray(5, 5 + len)).cells.map((c) => c.members);
  }
  return undefined;
}

/** Loads a fresh copy of the functions bundle in its own context. */
export async function loadFunctions(opts: LoadOptions): Promise<LoadedFunctions> {
  const code = await bundleFunctions();
  const cf = customFunctionsStandIn();
  const workbook = new FakeWorkbook(cf.functions);
  const signIn = opts.signIn === undefined ? "tester" : opts.signIn;
  const storage = storageStandIn({
    "quantatom.connection": JSON.stringify({ serverUrl: opts.serverUrl }),
    ...(signIn ? { "quantatom.signin": JSON.stringify({ serverUrl: opts.serverUrl, user: signIn }) } : {}),
  });
  const requests: SentRequest[] = [];
  const countingFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input);
    const method = url.slice(url.lastIndexOf("/") + 1);
    const headers = new Headers(init?.headers);
    const bearer = /^Bearer (\S+)$/.exec(headers.get("authorization") ?? "")?.[1];
    requests.push({ method, cells: decodeCells(method, init?.body), user: bearer ? (readClaims(bearer)?.userId ?? null) : null });
    if (opts.devToken && method === "dev-token") {
      const { user } = JSON.parse(String(init?.body)) as { user: string };
      return new Response(JSON.stringify(await opts.devToken(user)), { status: 200, headers: { "content-type": "application/json" } });
    }
    return fetch(input, init);
  };
  const sandbox: Record<string | symbol, unknown> = {
    fetch: countingFetch,
    Headers,
    Request,
    Response,
    AbortController,
    AbortSignal,
    DOMException,
    Event,
    EventTarget,
    TextEncoder,
    TextDecoder,
    ReadableStream,
    WritableStream,
    TransformStream,
    URL,
    URLSearchParams,
    Blob,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    queueMicrotask,
    structuredClone,
    console,
    btoa,
    atob,
    CustomFunctions: cf.global,
    OfficeRuntime: { storage },
  };
  if (!opts.noOffice) {
    sandbox.Office = officeStandIn({ pageOrigin: opts.serverUrl, requirementSets: opts.requirementSets }).office;
    sandbox.Excel = workbook.excel;
  }
  sandbox.__qatomOptions = {
    batchWindowMs: 16,
    streams: { debounceMs: 30, backoffBaseMs: 100, backoffMaxMs: 400 },
    comments: { pollMs: 250 },
    formulaCells: { graceMs: 2000, readDelayMs: 20 },
    ...opts.tuning,
  } satisfies AddinOptions;
  const context = vm.createContext(sandbox);
  // Symbol-keyed globals do not cross the vm boundary through the sandbox object: set and get them inside.
  vm.runInContext('globalThis[Symbol.for("quantatom.addin.options")] = globalThis.__qatomOptions;', context);
  vm.runInContext(code, context, { filename: bundled!.file });
  const runtime = vm.runInContext('globalThis[Symbol.for("quantatom.addin.context")]', context) as AddinRuntime;
  if (!runtime) throw new Error("the bundle did not create the shared context");
  return { functions: cf.functions, context: runtime, workbook, requests, storage, dispose: () => runtime.dispose() };
}
