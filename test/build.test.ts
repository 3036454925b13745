/**
 * `npm run build` (scripts/build.ts): the add-in built into a temporary folder, once from a
 * stand-in functions file (the build on its own) and once from the real entry files
 * (functions/src/functions.ts and taskpane/src/index.tsx); then a backend started with that folder
 * (QATOM_ADDIN_DIR) serves every URL the built manifest names. Also: clear failures (missing entry
 * file, non-https public URL), `--if-missing` (what `npm start` runs), and `npm run sideload`'s plans.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { readConfig } from "../backend/src/config";
import { startServer } from "../backend/src/server/main";
import { BUILD_OUTPUTS, type BuildInfo, buildAddin, buildOptionsFromArgs, DEV_ORIGIN, defaultEntries, manifestUrls, publicUrlFromEnv, servedUrlFromEnv } from "../scripts/build";
import { macSideloadDir, manifestId, planSideload, runSideload, WINDOWS_DEVELOPER_KEY } from "../scripts/sideload";

const root = path.resolve(__dirname, "..");
const fixtureFunctions = path.join(__dirname, "fixtures", "addin-functions.ts");
const fixtureTaskpane = path.join(__dirname, "fixtures", "addin-taskpane.tsx");
const fixtures = { functions: fixtureFunctions, taskpane: fixtureTaskpane };
const PRODUCTION_URL = "https://planning.example.com";

let tmp: string;
let dataDir: string;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-build-"));
  dataDir = path.join(tmp, "data");
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function read(dir: string, file: string): string {
  return fs.readFileSync(path.join(dir, file), "utf8");
}

/** Starts a backend serving `addinDir`, fetches every URL the built manifest names, and checks each. */
async function expectServed(addinDir: string, publicUrl: string): Promise<string[]> {
  const config = readConfig({
    PORT: "0",
    QATOM_HTTP: "1",
    QATOM_HOST: "127.0.0.1",
    QATOM_DATA_DIR: dataDir,
    QATOM_MODEL: path.join(root, "backend", "src", "loader", "fixtures", "shop", "model.yaml"),
    QATOM_ADDIN_DIR: addinDir,
  });
  const server = await startServer(config, { banner: false, progress: false, log: pino({ level: "silent" }) });
  const checked: string[] = [];
  try {
    const get = async (p: string) => {
      const res = await fetch(`${server.url}${p}`);
      return { status: res.status, type: res.headers.get("content-type") ?? "", cors: res.headers.get("access-control-allow-origin"), body: Buffer.from(await res.arrayBuffer()) };
    };

    const manifest = await get("/manifest.xml");
    expect(manifest.status).toBe(200);
    expect(manifest.type).toMatch(/xml/);
    expect(manifest.body.toString("utf8")).toBe(read(addinDir, "manifest.xml"));

    const urls = [...new Set(manifestUrls(read(addinDir, "manifest.xml")))];
    expect(urls.length).toBeGreaterThanOrEqual(8);
    for (const url of urls) {
      expect(url.startsWith(`${publicUrl}/`)).toBe(true);
      const rel = url.slice(publicUrl.length);
      const res = await get(rel);
      expect({ url, status: res.status }).toEqual({ url, status: 200 });
      expect(res.body.equals(fs.readFileSync(path.join(addinDir, rel)))).toBe(true);
      const ext = path.extname(rel);
      const type = { ".html": /text\/html/, ".js": /javascript/, ".json": /json/, ".png": /image\/png/ }[ext];
      expect(type).toBeDefined();
      expect(res.type).toMatch(type!);
      expect(res.cors).toBe("*");
      checked.push(rel);
    }

    // Every function's help URL in functions.json is served too (Excel opens it from the function's help link).
    const meta = JSON.parse(read(addinDir, "functions.json")) as { functions: { helpUrl?: string }[] };
    for (const url of new Set(meta.functions.flatMap((f) => (f.helpUrl ? [f.helpUrl.replace(/#.*$/, "")] : [])))) {
      expect(url.startsWith(`${publicUrl}/`)).toBe(true);
      const res = await get(url.slice(publicUrl.length));
      expect({ url, status: res.status, html: /text\/html/.test(res.type) }).toEqual({ url, status: 200, html: true });
      checked.push(url.slice(publicUrl.length));
    }

    // The page of the shared runtime loads Office.js from Microsoft's CDN, then both bundles, which are served too.
    const page = (await get("/taskpane.html")).body.toString("utf8");
    const scripts = [...page.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]);
    expect(scripts).toEqual(["https://appsforoffice.microsoft.com/lib/1/hosted/office.js", "functions.js", "taskpane.js"]);
    expect(page).toContain('<div id="root">');
    for (const s of ["/functions.js", "/taskpane.js", "/functions.js.map", "/taskpane.js.map"]) expect((await get(s)).status).toBe(200);

    // The sign-in dialog's page (Office's dialog API, where nested app authentication is missing)
    // is served from the same origin, as displayDialogAsync requires, with Office.js and its bundle.
    const dialog = (await get("/signin-dialog.html")).body.toString("utf8");
    expect([...dialog.matchAll(/<script[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1])).toEqual(["https://appsforoffice.microsoft.com/lib/1/hosted/office.js", "signin-dialog.js"]);
    for (const s of ["/signin-dialog.js", "/signin-dialog.js.map"]) expect((await get(s)).status).toBe(200);
  } finally {
    await server.close();
  }
  return checked;
}

describe("buildAddin", () => {
  it("fails with a clear message when an entry file is missing, leaving the output alone", async () => {
    const outDir = path.join(tmp, "missing");
    fs.mkdirSync(outDir);
    fs.writeFileSync(path.join(outDir, "keep.txt"), "old build");
    await expect(
      buildAddin({ outDir, publicUrl: DEV_ORIGIN, entries: { functions: path.join(tmp, "nope", "functions.ts"), taskpane: path.join(tmp, "nope", "index.tsx") } }),
    ).rejects.toThrow(/entry files are missing:\n.*functions\.ts: the QATOM custom functions.*\n.*index\.tsx: the React task pane/);
    expect(fs.readdirSync(outDir)).toEqual(["keep.txt"]);
    expect(fs.readdirSync(tmp).filter((f) => f.includes(".building-"))).toEqual([]);
  });

  it("rejects a public URL that is not an absolute https URL", async () => {
    for (const bad of ["http://planning.example.com", "planning.example.com", "https://planning.example.com/?x=1"]) {
      await expect(buildAddin({ outDir: path.join(tmp, "bad-url"), publicUrl: bad, entries: fixtures })).rejects.toThrow(
        /QATOM_PUBLIC_URL must be the absolute https URL/,
      );
    }
    expect(fs.existsSync(path.join(tmp, "bad-url"))).toBe(false);
  });

  it("reports what custom-functions-metadata rejects", async () => {
    const bad = path.join(tmp, "bad-functions.ts");
    fs.writeFileSync(bad, "/**\n * Bad.\n * @customfunction\n * @param x A thing.\n */\nexport function bad(x: Map<string, string>): number {\n  return x.size;\n}\n");
    await expect(buildAddin({ outDir: path.join(tmp, "bad-meta"), entries: { functions: bad, taskpane: fixtureTaskpane } })).rejects.toThrow(
      /custom-functions-metadata rejected .*bad-functions\.ts:\n {2}\S/,
    );
  });

  describe("from stand-in entry files, for a production URL", () => {
    const outDir = () => path.join(tmp, "fixture");

    beforeAll(async () => {
      const result = await buildAddin({ outDir: outDir(), publicUrl: `${PRODUCTION_URL}/`, entries: fixtures });
      expect(result).toMatchObject({ built: true, publicUrl: PRODUCTION_URL, functionIds: ["PLUSONE", "HELLO"] });
    });

    it("writes the manifest, functions.json, both bundles with source maps, and the static files", () => {
      for (const f of [...BUILD_OUTPUTS, "functions.js.map", "taskpane.js.map", "index.html", "assets/icon-16.png", "assets/icon-80.png"]) {
        expect(fs.existsSync(path.join(outDir(), f))).toBe(true);
      }
      const meta = JSON.parse(read(outDir(), "functions.json")) as { functions: { id: string; name: string; helpUrl?: string; parameters: { name: string; type: string }[] }[] };
      expect(meta.functions.map((f) => f.id)).toEqual(["PLUSONE", "HELLO"]);
      // @helpurl on the development origin, rewritten to the production URL; none where the source has none
      expect(meta.functions.map((f) => f.helpUrl)).toEqual([`${PRODUCTION_URL}/help.html#plusone`, undefined]);
      expect(read(outDir(), "functions.json")).not.toContain("localhost");
      expect(meta.functions[0].parameters).toEqual([expect.objectContaining({ name: "x", type: "number" })]);
      expect(JSON.parse(read(outDir(), "build.json"))).toMatchObject({ publicUrl: PRODUCTION_URL, functionIds: ["PLUSONE", "HELLO"] } satisfies Partial<BuildInfo>);
    });

    it("registers every custom function in the bundle, as Microsoft's webpack plugin does", () => {
      const js = read(outDir(), "functions.js");
      expect(js).toMatch(/typeof CustomFunctions\s*<\s*"u"/);
      expect(js).toMatch(/CustomFunctions\.associate\("PLUSONE",\w+\)/);
      expect(js).toMatch(/CustomFunctions\.associate\("HELLO",\w+\)/);
      expect(js).toMatch(/\/\/# sourceMappingURL=functions\.js\.map\s*$/);
      // The bundle runs (as in a browser without Office.js) and the registration calls the right functions.
      const registered = new Map<string, (...a: unknown[]) => unknown>();
      new Function("CustomFunctions", js)({ associate: (id: string, fn: (...a: unknown[]) => unknown) => registered.set(id, fn) });
      expect(registered.get("PLUSONE")?.(41)).toBe(42);
      expect(registered.get("HELLO")?.("Ann")).toBe("hello, Ann");
      expect(() => new Function(js)()).not.toThrow();
    });

    it("writes a manifest that points only at the production URL", () => {
      const xml = read(outDir(), "manifest.xml");
      expect(xml).not.toContain("localhost");
      expect(xml).toContain(`<AppDomain>${PRODUCTION_URL}</AppDomain>`);
      expect(manifestUrls(xml)).toContain(`${PRODUCTION_URL}/functions.json`);
      expect(manifestId(xml)).toBe("6f1f5c34-3b8e-4c8e-9a57-6b0c2f0a7d21");
    });

    it("is served by the backend at every URL the manifest names", async () => {
      const served = await expectServed(outDir(), PRODUCTION_URL);
      expect(served).toEqual(expect.arrayContaining(["/taskpane.html", "/functions.js", "/functions.json", "/assets/icon-32.png", "/help.html"]));
    });

    it("with ifMissing, skips an up-to-date build and rebuilds an incomplete one or one for another URL", async () => {
      const opts = { outDir: outDir(), entries: fixtures, ifMissing: true };
      const t0 = Date.now();
      expect(await buildAddin(opts)).toMatchObject({ built: false, publicUrl: PRODUCTION_URL });
      expect(await buildAddin({ ...opts, publicUrl: PRODUCTION_URL })).toMatchObject({ built: false });
      expect(Date.now() - t0).toBeLessThan(2000);

      fs.rmSync(path.join(outDir(), "functions.json"));
      const lines: string[] = [];
      expect(await buildAddin({ ...opts, log: (l) => lines.push(l) })).toMatchObject({ built: true, publicUrl: DEV_ORIGIN });
      expect(lines[0]).toMatch(/lacks functions\.json/);
      expect(fs.existsSync(path.join(outDir(), "functions.json"))).toBe(true);

      expect(await buildAddin({ ...opts, publicUrl: PRODUCTION_URL, log: (l) => lines.push(l) })).toMatchObject({ built: true, publicUrl: PRODUCTION_URL });
      expect(lines[2]).toMatch(/the existing build is for https:\/\/localhost:3000, not https:\/\/planning\.example\.com/);

      // build.json lists what the build read; a newer one of those means a rebuild.
      const info = JSON.parse(read(outDir(), "build.json")) as BuildInfo;
      expect(info.sources).toEqual(
        expect.arrayContaining(["addin/public", "manifest.xml", "scripts/build.ts", "test/fixtures/addin-functions.ts", "test/fixtures/addin-taskpane.tsx"]),
      );
      expect(info.sources.filter((f) => f.includes("node_modules"))).toEqual([]);
      expect(await buildAddin(opts)).toMatchObject({ built: false });
      // Make the build older than a source (by ageing build.json, not by touching the source).
      const sourceTime = Math.max(...["addin-functions.ts", "addin-taskpane.tsx"].map((f) => fs.statSync(path.join(__dirname, "fixtures", f)).mtimeMs));
      const before = new Date(sourceTime - 1000);
      fs.utimesSync(path.join(outDir(), "build.json"), before, before);
      expect(await buildAddin({ ...opts, log: (l) => lines.push(l) })).toMatchObject({ built: true });
      expect(lines[4]).toMatch(/changed since the last build/);
    });
  });

  describe("from the real entry files (the QATOM functions and the task pane)", () => {
    const outDir = () => path.join(tmp, "real");

    it("builds, lists QATOM.CELL, COMMENT and MEMBERS, and is served at every URL the manifest names", async () => {
      const result = await buildAddin({ outDir: outDir(), publicUrl: DEV_ORIGIN });
      expect(result.functionIds).toEqual(expect.arrayContaining(["CELL", "COMMENT", "MEMBERS"]));
      for (const f of BUILD_OUTPUTS) expect(fs.existsSync(path.join(outDir(), f))).toBe(true);
      const js = read(outDir(), "functions.js");
      for (const id of ["CELL", "COMMENT", "MEMBERS"]) expect(js).toContain(`"${id}"`);
      expect(read(outDir(), "manifest.xml")).toContain(`${DEV_ORIGIN}/functions.json`);
      // Each function's help is a section of the served help page; CELL may return formatted numbers.
      const meta = JSON.parse(read(outDir(), "functions.json")) as { allowCustomDataForDataTypeAny?: boolean; functions: { id: string; helpUrl?: string; result: { type: string } }[] };
      expect(meta.allowCustomDataForDataTypeAny).toBe(true);
      expect(Object.fromEntries(meta.functions.map((f) => [f.id, f.helpUrl]))).toEqual({
        CELL: `${DEV_ORIGIN}/help.html#cell`,
        COMMENT: `${DEV_ORIGIN}/help.html#comment`,
        MEMBERS: `${DEV_ORIGIN}/help.html#members`,
      });
      // (a result without a type is "any": numbers and formatted numbers)
      expect([undefined, "any"]).toContain(meta.functions.find((f) => f.id === "CELL")?.result.type);
      const served = await expectServed(outDir(), DEV_ORIGIN);
      expect(served).toContain("/help.html");
      const help = read(outDir(), "help.html");
      for (const id of ["cell", "comment", "members"]) expect(help).toContain(`<section id="${id}">`);
    });

    it("names the entry files the build expects", () => {
      expect(defaultEntries()).toEqual({
        functions: path.join(root, "functions", "src", "functions.ts"),
        taskpane: path.join(root, "taskpane", "src", "index.tsx"),
        dialog: path.join(root, "addin", "src", "auth", "dialog-main.ts"),
      });
    });
  });
});

describe("publicUrlFromEnv", () => {
  it("takes QATOM_PUBLIC_URL, else https://localhost:$PORT, else nothing", () => {
    expect(publicUrlFromEnv({ QATOM_PUBLIC_URL: PRODUCTION_URL, PORT: "4000" })).toBe(PRODUCTION_URL);
    expect(publicUrlFromEnv({ PORT: "4000" })).toBe("https://localhost:4000");
    expect(publicUrlFromEnv({ PORT: "0" })).toBeUndefined();
    expect(publicUrlFromEnv({})).toBeUndefined();
  });
});

describe("--if-missing (npm start) and the URL the server will serve", () => {
  it("takes QATOM_PUBLIC_URL, else https://localhost:$PORT (3000 when unset; http:// with QATOM_HTTP=1), else nothing for an ephemeral port", () => {
    expect(servedUrlFromEnv({})).toBe("https://localhost:3000");
    expect(servedUrlFromEnv({ PORT: "4000" })).toBe("https://localhost:4000");
    expect(servedUrlFromEnv({ PORT: "4000", QATOM_HTTP: "1" })).toBe("http://localhost:4000");
    expect(servedUrlFromEnv({ QATOM_HTTP: "true" })).toBe("http://localhost:3000");
    expect(servedUrlFromEnv({ PORT: "4000", QATOM_HTTP: "1", QATOM_PUBLIC_URL: PRODUCTION_URL })).toBe(PRODUCTION_URL);
    expect(servedUrlFromEnv({ PORT: "0" })).toBeUndefined();
    expect(servedUrlFromEnv({ PORT: "abc" })).toBeUndefined();

    expect(buildOptionsFromArgs(["--if-missing"], {})).toMatchObject({ ifMissing: true, publicUrl: "https://localhost:3000" });
    expect(buildOptionsFromArgs(["--if-missing"], { PORT: "4000" })?.publicUrl).toBe("https://localhost:4000");
    expect(buildOptionsFromArgs(["--if-missing", "--public-url", PRODUCTION_URL], { PORT: "4000" })?.publicUrl).toBe(PRODUCTION_URL);
    expect(buildOptionsFromArgs(["--if-missing", "--out", "x"], { QATOM_ADDIN_DIR: "y" })?.outDir).toBe("x");
    // npm run build (no --if-missing) is unchanged: the development origin unless told otherwise
    expect(buildOptionsFromArgs([], {})).toMatchObject({ ifMissing: false, publicUrl: undefined });
    expect(buildOptionsFromArgs([], { PORT: "4000" })?.publicUrl).toBe("https://localhost:4000");
    expect(buildOptionsFromArgs(["--help"], {})).toBeNull();
    expect(() => buildOptionsFromArgs(["--nope"], {})).toThrow(/unknown argument "--nope"/);
  });

  it("redoes a build made for port A when the server starts on port B, keeps it while the port stays, and redoes it for port A again", async () => {
    const outDir = path.join(tmp, "ports");
    const lines: string[] = [];
    const startOn = (env: NodeJS.ProcessEnv) =>
      buildAddin({ ...buildOptionsFromArgs(["--if-missing", "--out", outDir], env)!, entries: fixtures, log: (l) => lines.push(l) });
    const manifest = () => read(outDir, "manifest.xml");

    expect(await startOn({ PORT: "4100" })).toMatchObject({ built: true, publicUrl: "https://localhost:4100" });
    expect(manifest()).toContain("https://localhost:4100/functions.json");
    expect(await startOn({ PORT: "4100" })).toMatchObject({ built: false, publicUrl: "https://localhost:4100" });

    lines.length = 0;
    expect(await startOn({ PORT: "4200" })).toMatchObject({ built: true, publicUrl: "https://localhost:4200" });
    expect(lines[0]).toMatch(/the existing build is for https:\/\/localhost:4100, not https:\/\/localhost:4200/);
    expect(manifest()).toContain("https://localhost:4200/functions.json");
    expect(manifest()).not.toContain("localhost:4100");
    expect(await startOn({ PORT: "4200" })).toMatchObject({ built: false });

    expect(await startOn({ PORT: "4100" })).toMatchObject({ built: true, publicUrl: "https://localhost:4100" });
    expect(manifest()).not.toContain("localhost:4200");
    expect(await startOn({ PORT: "4100" })).toMatchObject({ built: false });

    // the same port over plain HTTP is another URL; QATOM_PUBLIC_URL wins over the port
    expect(await startOn({ PORT: "4100", QATOM_HTTP: "1" })).toMatchObject({ built: true, publicUrl: "http://localhost:4100" });
    expect(manifest()).toContain("http://localhost:4100/functions.json");
    expect(await startOn({ PORT: "4100", QATOM_PUBLIC_URL: PRODUCTION_URL })).toMatchObject({ built: true, publicUrl: PRODUCTION_URL });
    expect(await startOn({ PORT: "4200", QATOM_PUBLIC_URL: PRODUCTION_URL })).toMatchObject({ built: false });
    // an ephemeral port cannot be known before the server starts: any up-to-date build is kept
    expect(await startOn({ PORT: "0" })).toMatchObject({ built: false, publicUrl: PRODUCTION_URL });
  });
});

describe("sideload plans", () => {
  const base = { home: "/home/ann", manifestPath: "/repo/dist/addin/manifest.xml", addinId: "6f1f5c34-3b8e-4c8e-9a57-6b0c2f0a7d21", caPath: "/repo/certs/ca.crt", publicUrl: DEV_ORIGIN };

  it("Windows: registers the manifest under WEF\\Developer, named by the add-in's Id", () => {
    const plan = planSideload({ ...base, platform: "win32" });
    expect(plan.actions).toEqual([{ kind: "exec", file: "reg", args: ["add", WINDOWS_DEVELOPER_KEY, "/v", base.addinId, "/t", "REG_SZ", "/d", base.manifestPath, "/f"] }]);
    expect(plan.instructions.join("\n")).toMatch(/certutil -user -addstore Root/);
    const calls: string[][] = [];
    runSideload(plan.actions, (file, args) => calls.push([file, ...args]));
    expect(calls[0].slice(0, 3)).toEqual(["reg", "add", "HKCU\\Software\\Microsoft\\Office\\16.0\\WEF\\Developer"]);
    expect(planSideload({ ...base, platform: "win32", remove: true }).actions).toEqual([
      { kind: "exec", file: "reg", args: ["delete", WINDOWS_DEVELOPER_KEY, "/v", base.addinId, "/f"] },
    ]);
  });

  it("macOS: copies the manifest into Excel's wef folder, and removes it again", () => {
    const home = path.join(tmp, "home");
    const manifestPath = path.join(root, "manifest.xml");
    const plan = planSideload({ ...base, home, manifestPath, platform: "darwin" });
    runSideload(plan.actions);
    const copied = path.join(macSideloadDir(home), `${base.addinId}.manifest.xml`);
    expect(copied).toContain(path.join("Library", "Containers", "com.microsoft.Excel", "Data", "Documents", "wef"));
    expect(fs.readFileSync(copied, "utf8")).toBe(fs.readFileSync(manifestPath, "utf8"));
    runSideload(planSideload({ ...base, home, manifestPath, platform: "darwin", remove: true }).actions);
    expect(fs.existsSync(copied)).toBe(false);
  });

  it("elsewhere: no actions, the steps for Excel on the web", () => {
    const plan = planSideload({ ...base, platform: "linux" });
    expect(plan.actions).toEqual([]);
    expect(plan.instructions.join("\n")).toMatch(/Upload My Add-in/);
  });
});
