/**
 * Builds the Excel add-in into static files the backend serves (`npm run build`):
 *
 * - `functions.js`: the QATOM custom functions (functions/src/functions.ts), bundled by esbuild
 *   (browser, es2020, minified, IIFE, source map). Every `@customfunction` is registered with
 *   `CustomFunctions.associate` as Microsoft's custom-functions-metadata-plugin does for webpack,
 *   unless the source registers its functions itself.
 * - `functions.json`: the custom functions' metadata, from the same file's JSDoc tags, by
 *   Microsoft's custom-functions-metadata, with each `helpUrl` on the development origin rewritten
 *   to the public URL (the help page, addin/public/help.html, is served there).
 * - `taskpane.js`: the React task pane (taskpane/src/index.tsx), bundled the same way.
 * - `signin-dialog.js`: the sign-in dialog's page script (addin/src/auth/dialog-main.ts), for
 *   Entra ID sign-in through the Office dialog where Office lacks nested app authentication.
 * - everything under addin/public/ (taskpane.html, the page of the shared runtime; signin-dialog.html;
 *   help.html, the functions' help page; shortcuts.json, the keyboard shortcuts the manifest's
 *   ExtendedOverrides names; index.html; icons).
 * - `manifest.xml`: manifest.xml with every development URL (https://localhost:3000) rewritten to
 *   the public URL (`QATOM_PUBLIC_URL`), for a production host and Microsoft 365 centralized deployment.
 * - `build.json`: what was built, for which URL, and when (used by `--if-missing`).
 *
 * The output is written to a sibling folder first and swapped in whole, so a failed build never
 * leaves a half-built add-in behind.
 *
 * CLI: `node bin/run-ts.cjs scripts/build.ts [--if-missing] [--out DIR] [--public-url URL]`; the
 * environment gives the defaults: QATOM_PUBLIC_URL (https://localhost:$PORT, port 3000 by
 * default) and QATOM_ADDIN_DIR (./dist/addin, the folder the backend serves). `--if-missing`
 * keeps an existing build only when it is up to date and was made for the URL the server will
 * serve (see servedUrlFromEnv: `http://` with QATOM_HTTP=1), so `npm start` on another port rebuilds.
 */
import fs from "node:fs";
import path from "node:path";

/** The origin the source manifest.xml names (the backend in development). */
export const DEV_ORIGIN = "https://localhost:3000";

/** The repository root. */
export const projectRoot = path.resolve(__dirname, "..");

/** Files every complete build holds. */
export const BUILD_OUTPUTS = ["manifest.xml", "functions.js", "functions.json", "taskpane.js", "taskpane.html", "signin-dialog.js", "signin-dialog.html", "help.html", "shortcuts.json", "build.json"] as const;

/** The bundles' entry files. */
export interface AddinEntries {
  /** The QATOM custom functions, with JSDoc `@customfunction` tags. */
  functions: string;
  /** The task pane (React). */
  taskpane: string;
  /** The sign-in dialog's page (Entra ID through the Office dialog, where nested app authentication is missing). */
  dialog: string;
}

/** The entry files in this repository. */
export function defaultEntries(root: string = projectRoot): AddinEntries {
  return {
    functions: path.join(root, "functions", "src", "functions.ts"),
    taskpane: path.join(root, "taskpane", "src", "index.tsx"),
    dialog: path.join(root, "addin", "src", "auth", "dialog-main.ts"),
  };
}

export interface BuildOptions {
  /** Folder to write (replaced as a whole). */
  outDir: string;
  /**
   * Base URL the add-in is served from: an absolute https URL, optionally with a path prefix.
   * Default https://localhost:3000. With `ifMissing`, leaving it out accepts an existing build
   * made for any URL.
   */
  publicUrl?: string;
  /**
   * Skip the build when `outDir` holds a complete build that is newer than every file it was
   * built from (and, when `publicUrl` is given, was made for that URL). For `npm start`.
   */
  ifMissing?: boolean;
  /** Entry files; default functions/src/functions.ts, taskpane/src/index.tsx and addin/src/auth/dialog-main.ts. */
  entries?: Partial<AddinEntries>;
  /** Folder of static files copied as they are; default addin/public. */
  publicDir?: string;
  /** The source manifest; default manifest.xml. */
  manifest?: string;
  /** Progress lines; default none. */
  log?: (line: string) => void;
}

export interface BuildResult {
  outDir: string;
  /** The normalized public URL the manifest names. */
  publicUrl: string;
  /** False when `ifMissing` found an up-to-date build and did nothing. */
  built: boolean;
  /** Why it built or skipped. */
  reason: string;
  /** The custom functions' ids in functions.json (e.g. CELL), without the namespace. */
  functionIds: string[];
}

/** What build.json records. */
export interface BuildInfo {
  publicUrl: string;
  builtAt: string;
  functionIds: string[];
  /**
   * What the build read, relative to the repository root: every source file esbuild bundled
   * (outside node_modules), the functions file, the static folder, the source manifest, this
   * script and package-lock.json. A later `ifMissing` build compares their times with build.json's.
   */
  sources: string[];
}

/** Hosts for which a plain-http public URL is accepted (a local server with QATOM_HTTP=1). */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Checks and normalizes a public URL: absolute, https (Office loads add-ins only over HTTPS), no
 * credentials, query or fragment; returns it without a trailing slash. Plain http is accepted only
 * for a loopback host (`http://localhost:$PORT`, a local server run with `QATOM_HTTP=1`), so that
 * the manifest names the URL that server actually serves.
 * @throws Error naming QATOM_PUBLIC_URL and the value when it is not such a URL.
 */
export function normalizePublicUrl(raw: string): string {
  const value = raw.trim();
  const hint = "QATOM_PUBLIC_URL must be the absolute https URL the add-in is served from, e.g. https://planning.example.com";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${hint}; got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))) {
    throw new Error(`${hint} (Office loads add-ins only over HTTPS); got ${JSON.stringify(raw)}`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new Error(`${hint}, without credentials, query or fragment; got ${JSON.stringify(raw)}`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

/**
 * The manifest for `publicUrl`: every development URL (https://localhost:3000/...) rewritten, the
 * AppDomain set to the public origin, and the source's header comment replaced by a note that the
 * file is generated. Pure text rewriting, as Office's own templates do, so the markup stays as
 * written.
 */
export function renderManifest(sourceXml: string, publicUrl: string): string {
  const base = normalizePublicUrl(publicUrl);
  const origin = new URL(base).origin;
  // ("--" may not appear in an XML comment, and punycode host names have it: xn--...)
  const note = `<!-- Generated by \`npm run build\` from manifest.xml for ${base.replace(/-(?=-)/g, "- ")}; edit manifest.xml, not this file. -->\n`;
  // The note replaces the source's header comment (the one right after the XML declaration).
  let xml = sourceXml.replace(/^(<\?xml[^>]*\?>\s*)(<!--[\s\S]*?-->\s*)?/, (_m, decl: string) => `${decl}${note}`);
  xml = xml.replace(new RegExp(`<AppDomain>${DEV_ORIGIN}/?</AppDomain>`, "g"), `<AppDomain>${escapeXml(origin)}</AppDomain>`);
  xml = xml.replace(new RegExp(`${DEV_ORIGIN}(?=[/"<])`, "g"), escapeXml(base));
  return xml;
}

/**
 * functions.json for `publicUrl`: each function's `helpUrl` on the development origin (the
 * `@helpurl` tags name https://localhost:3000) rewritten to the public URL, as the manifest's URLs
 * are, so that Excel's "Help on this function" opens the page this server serves. Other help URLs
 * are kept.
 */
export function renderFunctionsMetadata(json: string, publicUrl: string): string {
  const base = normalizePublicUrl(publicUrl);
  const meta = JSON.parse(json) as { functions: { helpUrl?: string }[] };
  for (const f of meta.functions) {
    if (f.helpUrl === DEV_ORIGIN || f.helpUrl?.startsWith(`${DEV_ORIGIN}/`)) f.helpUrl = base + f.helpUrl.slice(DEV_ORIGIN.length);
  }
  return JSON.stringify(meta, null, 4);
}

/**
 * Every URL a manifest names in a `DefaultValue` (icons, pages, scripts, metadata, support) or a
 * `Url` (ExtendedOverrides: the keyboard shortcuts), in order.
 */
export function manifestUrls(xml: string): string[] {
  return [...xml.matchAll(/\b(?:DefaultValue|Url)="(https?:\/\/[^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, "&"));
}

/**
 * The newest modification time at or under `p` (a file, or a folder and everything in it:
 * a file added or removed changes its folder's time); Infinity when `p` is gone.
 */
function newestMtime(p: string): { mtimeMs: number; file: string } {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    return { mtimeMs: Number.POSITIVE_INFINITY, file: p };
  }
  let best = { mtimeMs: st.mtimeMs, file: p };
  if (!st.isDirectory()) return best;
  for (const name of fs.readdirSync(p)) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const sub = newestMtime(path.join(p, name));
    if (sub.mtimeMs > best.mtimeMs) best = sub;
  }
  return best;
}

/** Why `outDir` needs a build, or null when it holds an up-to-date one. */
function staleReason(outDir: string, publicUrl: string | undefined): string | null {
  const missing = BUILD_OUTPUTS.filter((f) => !fs.existsSync(path.join(outDir, f)));
  if (missing.length) return `${path.relative(projectRoot, outDir) || outDir} lacks ${missing.join(", ")}`;
  const infoFile = path.join(outDir, "build.json");
  let info: BuildInfo;
  try {
    info = JSON.parse(fs.readFileSync(infoFile, "utf8")) as BuildInfo;
  } catch {
    return "build.json is unreadable";
  }
  if (publicUrl !== undefined && info.publicUrl !== publicUrl) return `the existing build is for ${info.publicUrl}, not ${publicUrl}`;
  if (!Array.isArray(info.sources)) return "build.json does not list its sources";
  const builtAt = fs.statSync(infoFile).mtimeMs;
  for (const src of info.sources) {
    const newest = newestMtime(path.resolve(projectRoot, src));
    if (newest.mtimeMs > builtAt) {
      const what = path.relative(projectRoot, newest.file);
      return newest.mtimeMs === Number.POSITIVE_INFINITY ? `${what} is gone` : `${what} changed since the last build`;
    }
  }
  return null;
}

/** Turns esbuild's failure into one readable error. */
function esbuildError(err: unknown): Error {
  const e = err as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] };
  if (!e.errors?.length) return err instanceof Error ? err : new Error(String(err));
  const lines = e.errors.map((m) => (m.location ? `  ${m.location.file}:${m.location.line}:${m.location.column}: ${m.text}` : `  ${m.text}`));
  return new Error(`bundling the add-in failed:\n${lines.join("\n")}`);
}

interface Metadata {
  json: string;
  associate: { id: string; functionName: string }[];
  ids: string[];
}

/** functions.json from the entry's JSDoc tags (custom-functions-metadata). */
async function functionsMetadata(entry: string): Promise<Metadata> {
  const { generateCustomFunctionsMetadata } = require("custom-functions-metadata") as typeof import("custom-functions-metadata");
  const result = await generateCustomFunctionsMetadata(entry, false);
  const rel = path.relative(projectRoot, entry);
  if (result.errors.length) {
    throw new Error(`custom-functions-metadata rejected ${rel}:\n${result.errors.map((e) => `  ${e}`).join("\n")}`);
  }
  if (!result.metadataJson) {
    throw new Error(`${rel} declares no custom function: tag each exported QATOM function with a JSDoc @customfunction`);
  }
  const parsed = JSON.parse(result.metadataJson) as { functions: { id: string }[] };
  return {
    json: result.metadataJson,
    associate: result.associate.map((a) => ({ id: a.id, functionName: a.functionName })),
    ids: parsed.functions.map((f) => f.id),
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Builds the add-in into `opts.outDir` (see the file comment).
 * @throws Error with a clear message when an entry file is missing, the public URL is not https,
 *   the metadata has errors, or bundling fails; `outDir` is then left as it was.
 */
export async function buildAddin(opts: BuildOptions): Promise<BuildResult> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const outDir = path.resolve(opts.outDir);
  const entries = { ...defaultEntries(), ...opts.entries };
  const publicDir = path.resolve(opts.publicDir ?? path.join(projectRoot, "addin", "public"));
  const manifestSrc = path.resolve(opts.manifest ?? path.join(projectRoot, "manifest.xml"));
  const requested = opts.publicUrl === undefined ? undefined : normalizePublicUrl(opts.publicUrl);

  if (opts.ifMissing) {
    const reason = staleReason(outDir, requested);
    if (reason === null) {
      const info = JSON.parse(fs.readFileSync(path.join(outDir, "build.json"), "utf8")) as BuildInfo;
      return { outDir, publicUrl: info.publicUrl, built: false, reason: "up to date", functionIds: info.functionIds };
    }
    log(`building the add-in: ${reason}`);
  }
  const publicUrl = requested ?? DEV_ORIGIN;

  const missing = [
    [entries.functions, "the QATOM custom functions (JSDoc @customfunction tags), from the functions work"],
    [entries.taskpane, "the React task pane, from the task pane work"],
    [entries.dialog, "the sign-in dialog's page, from the sign-in work"],
  ].filter(([file]) => !fs.existsSync(file));
  if (missing.length) {
    const list = missing.map(([file, what]) => `  ${path.relative(projectRoot, file)}: ${what}`).join("\n");
    throw new Error(`cannot build the add-in: its entry file${missing.length > 1 ? "s are" : " is"} missing:\n${list}`);
  }
  for (const page of ["taskpane.html", "signin-dialog.html", "help.html", "shortcuts.json"]) {
    if (!fs.existsSync(path.join(publicDir, page))) throw new Error(`cannot build the add-in: ${publicDir} has no ${page}`);
  }
  if (!fs.existsSync(manifestSrc)) throw new Error(`cannot build the add-in: ${manifestSrc} is missing`);

  const manifest = renderManifest(fs.readFileSync(manifestSrc, "utf8"), publicUrl);
  const metadata = await functionsMetadata(entries.functions);

  const tmp = `${outDir}.building-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    fs.cpSync(publicDir, tmp, { recursive: true });
    const esbuild = require("esbuild") as typeof import("esbuild");
    const functionsEntry = path.resolve(entries.functions);
    const registration = metadata.associate.map((a) => `  CustomFunctions.associate(${JSON.stringify(a.id)}, ${a.functionName});`).join("\n");
    let bundled: string[];
    try {
      const result = await esbuild.build({
        entryPoints: { functions: functionsEntry, taskpane: path.resolve(entries.taskpane), "signin-dialog": path.resolve(entries.dialog) },
        outdir: tmp,
        bundle: true,
        platform: "browser",
        format: "iife",
        target: "es2020",
        minify: true,
        sourcemap: true,
        jsx: "automatic",
        define: { "process.env.NODE_ENV": '"production"' },
        loader: { ".png": "dataurl", ".svg": "dataurl" },
        absWorkingDir: projectRoot,
        logLevel: "silent",
        metafile: true,
        plugins: [
          {
            // Registers every @customfunction, as custom-functions-metadata-plugin does for webpack,
            // unless the file calls CustomFunctions.associate itself.
            name: "quantatom-associate",
            setup(b) {
              b.onLoad({ filter: new RegExp(`^${escapeRegExp(functionsEntry)}$`) }, (args) => {
                let contents = fs.readFileSync(args.path, "utf8");
                if (!/CustomFunctions\s*\.\s*associate\s*\(/.test(contents)) {
                  contents += `\n;if (typeof CustomFunctions !== "undefined") {\n${registration}\n}\n`;
                }
                return { contents, loader: args.path.endsWith(".tsx") ? "tsx" : "ts", resolveDir: path.dirname(args.path) };
              });
            },
          },
        ],
      });
      bundled = Object.keys(result.metafile.inputs).filter(
        (f) => !/(^|[/\\])node_modules[/\\]/.test(f) && fs.existsSync(path.resolve(projectRoot, f)), // not "(disabled):fs" and such
      );
    } catch (err) {
      throw esbuildError(err);
    }
    fs.writeFileSync(path.join(tmp, "functions.json"), `${renderFunctionsMetadata(metadata.json, publicUrl)}\n`);
    fs.writeFileSync(path.join(tmp, "manifest.xml"), manifest);
    const read = [...bundled.map((f) => path.resolve(projectRoot, f)), entries.functions, publicDir, manifestSrc, __filename, path.join(projectRoot, "package-lock.json")];
    const sources = [...new Set(read.map((f) => path.relative(projectRoot, path.resolve(f)).split(path.sep).join("/")))].sort();
    const info: BuildInfo = { publicUrl, builtAt: new Date().toISOString(), functionIds: metadata.ids, sources };
    fs.writeFileSync(path.join(tmp, "build.json"), `${JSON.stringify(info, null, 2)}\n`);

    const old = `${outDir}.old-${process.pid}`;
    fs.rmSync(old, { recursive: true, force: true });
    if (fs.existsSync(outDir)) fs.renameSync(outDir, old);
    fs.renameSync(tmp, outDir);
    fs.rmSync(old, { recursive: true, force: true });
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  log(`built ${path.relative(process.cwd(), outDir) || outDir} for ${publicUrl} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { outDir, publicUrl, built: true, reason: opts.ifMissing ? "out of date" : "requested", functionIds: metadata.ids };
}

/** The public URL from the environment: QATOM_PUBLIC_URL, else https://localhost:$PORT when PORT is set. */
export function publicUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.QATOM_PUBLIC_URL) return env.QATOM_PUBLIC_URL;
  const port = Number(env.PORT);
  if (env.PORT && Number.isInteger(port) && port > 0 && port < 65536) return `https://localhost:${port}`;
  return undefined;
}

/**
 * The URL the backend will serve the add-in from, as `npm start` runs it (see backend/src/config.ts):
 * QATOM_PUBLIC_URL, else `https://localhost:$PORT` (`http://` with QATOM_HTTP=1; PORT 3000 when
 * unset). Undefined when that cannot be known before the server starts (PORT=0, an ephemeral port,
 * or a malformed PORT, which the server itself rejects).
 * @example servedUrlFromEnv({ PORT: "4000", QATOM_HTTP: "1" }) // "http://localhost:4000"
 */
export function servedUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.QATOM_PUBLIC_URL) return env.QATOM_PUBLIC_URL;
  const port = env.PORT === undefined || env.PORT === "" ? 3000 : Number(env.PORT);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  const http = env.QATOM_HTTP === "1" || env.QATOM_HTTP === "true";
  return `${http ? "http" : "https"}://localhost:${port}`;
}

/**
 * The build's options from the command line and the environment. With `--if-missing` (what
 * `npm start` runs first) and no `--public-url`, the URL is the one the server will serve
 * ({@link servedUrlFromEnv}), so a build made for another URL or port is redone rather than kept.
 * @returns null for `--help`.
 * @throws Error for an unknown argument.
 */
export function buildOptionsFromArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): BuildOptions | null {
  let ifMissing = false;
  let outDir = env.QATOM_ADDIN_DIR || path.join(projectRoot, "dist", "addin");
  let publicUrl: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--if-missing") ifMissing = true;
    else if (a === "--out" && argv[i + 1]) outDir = argv[++i];
    else if (a === "--public-url" && argv[i + 1]) publicUrl = argv[++i];
    else if (a === "--help" || a === "-h") return null;
    else throw new Error(`unknown argument ${JSON.stringify(a)} (see --help)`);
  }
  publicUrl ??= ifMissing ? servedUrlFromEnv(env) : publicUrlFromEnv(env);
  return { outDir, publicUrl, ifMissing };
}

async function main(argv: string[]): Promise<void> {
  const opts = buildOptionsFromArgs(argv);
  if (opts === null) {
    console.log("usage: node bin/run-ts.cjs scripts/build.ts [--if-missing] [--out DIR] [--public-url URL]");
    console.log("env: QATOM_PUBLIC_URL (default https://localhost:$PORT or https://localhost:3000), QATOM_ADDIN_DIR (default dist/addin)");
    console.log("--if-missing: keep an existing build only when it is up to date and was made for the URL the server will serve");
    console.log("  (QATOM_PUBLIC_URL, else https://localhost:$PORT, http:// with QATOM_HTTP=1)");
    return;
  }
  const result = await buildAddin({ ...opts, log: (l) => console.log(l) });
  const rel = path.relative(process.cwd(), result.outDir) || ".";
  if (!result.built) {
    console.log(`add-in in ${rel} is up to date (built for ${result.publicUrl}); \`npm run build\` rebuilds it`);
    return;
  }
  const files = ["manifest.xml", "functions.json", "functions.js", "taskpane.js", "taskpane.html", "signin-dialog.js"];
  for (const f of files) console.log(`  ${path.join(rel, f)}  ${(fs.statSync(path.join(result.outDir, f)).size / 1024).toFixed(1)} KB`);
  console.log(`  functions: ${result.functionIds.map((id) => `QATOM.${id}`).join(", ")}`);
  console.log(`  manifest:  ${result.publicUrl}/manifest.xml`);
}

if (path.resolve(process.argv[1] ?? "") === __filename) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
