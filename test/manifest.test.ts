/**
 * The add-in manifest (manifest.xml, and the production manifest `npm run build` writes for a
 * QATOM_PUBLIC_URL), validated offline with Microsoft's own tooling:
 *
 * 1. office-addin-manifest's `validate` of an XML manifest posts it to an online service, so the
 *    XML is converted to the unified JSON manifest with office-addin-manifest-converter, its
 *    `getStartedMessages` key removed (the converter emits it, the schema rejects it), and the JSON
 *    validated by office-addin-manifest's `validateManifest` (which uses the schemas bundled in
 *    @microsoft/app-manifest) and directly against the bundled schema file. Network access is
 *    blocked while this runs, so a fallback to an online schema fails the test.
 * 2. What the conversion drops or cannot express is checked on the XML itself: the SharedRuntime
 *    requirement, the one long-lived runtime shared by the functions and the task pane, the QATOM
 *    namespace and the functions.js / functions.json / taskpane.html URLs, the QuantatomAI ribbon
 *    tab (its ExecuteFunction buttons, starting disabled), the keyboard shortcuts file
 *    (ExtendedOverrides, shortcuts.json), the icons (real PNGs of the declared sizes), resource ids
 *    and lengths, and the element order that Office's XML schema requires (there is no XSD offline).
 */
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { DEV_ORIGIN, manifestUrls, renderFunctionsMetadata, renderManifest } from "../scripts/build";
import { RIBBON_CONTROLS, RIBBON_TAB } from "../addin/src/ribbon";

const root = path.resolve(__dirname, "..");
const converterDir = path.dirname(require.resolve("office-addin-manifest-converter/package.json"));
const manifestToolDir = path.dirname(require.resolve("office-addin-manifest/package.json"));

// Microsoft's tooling, and the packages it brings (resolved from where it is installed).
const { convert } = require("office-addin-manifest-converter") as { convert(xml: string, outDir: string): Promise<void> };
const { validateManifest } = require("office-addin-manifest") as typeof import("office-addin-manifest");
const appManifestDir = path.dirname(require.resolve("@microsoft/app-manifest/package.json", { paths: [manifestToolDir] }));
const { AppManifestUtils } = require(appManifestDir) as typeof import("@microsoft/app-manifest");
const { DOMParser } = require(require.resolve("@xmldom/xmldom", { paths: [converterDir] })) as typeof import("@xmldom/xmldom");

const NS = {
  app: "http://schemas.microsoft.com/office/appforoffice/1.1",
  ov: "http://schemas.microsoft.com/office/taskpaneappversionoverrides",
  bt: "http://schemas.microsoft.com/office/officeappbasictypes/1.0",
  xsi: "http://www.w3.org/2001/XMLSchema-instance",
};

const PRODUCTION_URL = "https://planning.example.com/quantatom";

let tmp: string;
let restoreNetwork: () => void;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-manifest-"));
  // Offline means offline: any request fails loudly instead of reaching a Microsoft service.
  const blocked = () => {
    throw new Error("network access attempted during offline manifest validation");
  };
  const spies = [
    jest.spyOn(http, "request").mockImplementation(blocked),
    jest.spyOn(http, "get").mockImplementation(blocked),
    jest.spyOn(https, "request").mockImplementation(blocked),
    jest.spyOn(https, "get").mockImplementation(blocked),
    jest.spyOn(globalThis, "fetch").mockImplementation(blocked),
  ];
  restoreNetwork = () => {
    for (const s of spies) s.mockRestore();
  };
});

afterAll(() => {
  restoreNetwork();
  fs.rmSync(tmp, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// XML helpers

function parseXml(xml: string): Document {
  const problems: string[] = [];
  const doc = new DOMParser({
    errorHandler: {
      warning: (m: string) => problems.push(`warning: ${m}`),
      error: (m: string) => problems.push(`error: ${m}`),
      fatalError: (m: string) => problems.push(`fatal: ${m}`),
    },
  }).parseFromString(xml, "text/xml") as unknown as Document;
  expect(problems).toEqual([]);
  return doc;
}

/** Element children of `el` (no text or comments). */
function children(el: Element): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) if (n.nodeType === 1) out.push(n as Element);
  return out;
}

function child(el: Element, ns: string, name: string): Element {
  const found = children(el).filter((c) => c.namespaceURI === ns && c.localName === name);
  if (found.length !== 1) throw new Error(`<${el.localName}> has ${found.length} <${name}> children, expected 1`);
  return found[0];
}

function all(el: Element | Document, ns: string, name: string): Element[] {
  return Array.from(el.getElementsByTagNameNS(ns, name) as unknown as ArrayLike<Element>);
}

function xsiType(el: Element): string | null {
  return el.getAttributeNS(NS.xsi, "type");
}

/** The manifest's resources by id: images, urls, short and long strings. */
function resources(doc: Document) {
  const res = all(doc, NS.ov, "Resources")[0];
  const group = (name: string) => {
    const m = new Map<string, string>();
    const container = all(res, NS.bt, name)[0];
    for (const e of children(container)) m.set(e.getAttribute("id") ?? "", e.getAttribute("DefaultValue") ?? "");
    return m;
  };
  return { images: group("Images"), urls: group("Urls"), shortStrings: group("ShortStrings"), longStrings: group("LongStrings") };
}

function pngSize(file: string): { width: number; height: number } {
  const b = fs.readFileSync(file);
  expect(b.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
  expect(b.subarray(12, 16).toString("ascii")).toBe("IHDR");
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

// ---------------------------------------------------------------------------------------------
// Conversion and schema validation

async function convertToUnified(xml: string, name: string): Promise<{ manifest: Record<string, unknown>; file: string; removed: unknown[] }> {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  const xmlFile = path.join(dir, "manifest.xml");
  fs.writeFileSync(xmlFile, xml);
  await convert(xmlFile, path.join(dir, "unified"));
  const jsonFile = path.join(dir, "unified", "manifest.json");
  const manifest = JSON.parse(fs.readFileSync(jsonFile, "utf8")) as { extensions: Record<string, unknown>[] };
  // The converter adds getStartedMessages (from <GetStarted>), which the schema does not allow.
  const removed = manifest.extensions.map((e) => e.getStartedMessages);
  for (const e of manifest.extensions) delete e.getStartedMessages;
  const file = path.join(dir, "unified", "manifest.validated.json");
  fs.writeFileSync(file, JSON.stringify(manifest, null, 2));
  return { manifest, file, removed };
}

/** The bundled schema file that the manifest's $schema names. */
function bundledSchema(schemaUrl: string): object {
  const m = /\/json-schemas\/(teams\/v[^/]+\/MicrosoftTeams\.schema\.json)/.exec(schemaUrl);
  if (!m) throw new Error(`unexpected $schema ${schemaUrl}`);
  const file = path.join(appManifestDir, "build", "json-schemas", m[1]);
  expect(fs.existsSync(file)).toBe(true);
  return JSON.parse(fs.readFileSync(file, "utf8")) as object;
}

const cases: [string, () => string, string][] = [
  ["manifest.xml (development)", () => fs.readFileSync(path.join(root, "manifest.xml"), "utf8"), DEV_ORIGIN],
  ["the production manifest from npm run build", () => renderManifest(fs.readFileSync(path.join(root, "manifest.xml"), "utf8"), `${PRODUCTION_URL}/`), PRODUCTION_URL],
];

describe.each(cases)("%s", (name, load, base) => {
  let xml: string;
  let doc: Document;
  let app: Element;

  beforeAll(() => {
    xml = load();
    doc = parseXml(xml);
    app = doc.documentElement as unknown as Element;
  });

  it("converts to the unified manifest, which passes the schema bundled with Microsoft's tooling", async () => {
    const { manifest, file, removed } = await convertToUnified(xml, name.replace(/\W+/g, "-"));
    expect(removed[0]).toBeDefined(); // the key we had to remove was really there

    const viaTool = await validateManifest(file);
    expect(viaTool.report?.errors?.map((e) => e.content) ?? []).toEqual([]);
    expect(viaTool.isValid).toBe(true);

    const schema = bundledSchema(String(manifest.$schema));
    expect(await AppManifestUtils.validateAgainstSchema(manifest as never, schema as never)).toEqual([]);

    // What survives the conversion.
    type Ext = {
      requirements: { capabilities: { name: string; minVersion: string }[]; scopes: string[] };
      runtimes: { lifetime: string; code: { page: string }; actions?: { type: string; id: string }[] }[];
      ribbons: { tabs: { id?: string; builtInTabId?: string; groups: { controls: { actionId: string; icons: { size: number; url: string }[] }[] }[] }[] }[];
    };
    const m = manifest as { id: string; name: { short: string }; description: { short: string }; validDomains: string[]; extensions: Ext[] };
    expect(m.id).toBe("6f1f5c34-3b8e-4c8e-9a57-6b0c2f0a7d21");
    expect(m.name.short).toBe("QuantatomAI");
    expect(m.description.short).not.toContain("TRUNCATED"); // the converter cuts descriptions over 80 characters
    expect(m.validDomains).toEqual([new URL(base).origin]);
    const ext = m.extensions[0];
    expect(ext.requirements.scopes).toEqual(["workbook"]);
    expect(ext.requirements.capabilities).toEqual(
      expect.arrayContaining([
        { name: "SharedRuntime", minVersion: "1.1" },
        { name: "CustomFunctionsRuntime", minVersion: "1.1" },
      ]),
    );
    expect(ext.runtimes.some((r) => r.lifetime === "long" && r.code.page === `${base}/taskpane.html`)).toBe(true);
    const actions = new Map(ext.runtimes.flatMap((r) => r.actions ?? []).map((a) => [a.id, a.type]));
    const tab = ext.ribbons[0].tabs[0];
    expect(tab.builtInTabId).toBeUndefined(); // a tab of its own
    const types = tab.groups.flatMap((g) => g.controls).map((c) => actions.get(c.actionId));
    expect(types).toEqual(["executeFunction", "executeFunction", "executeFunction", "openPage", "executeFunction"]);
    for (const c of tab.groups.flatMap((g) => g.controls)) expect(c.icons.map((i) => i.size)).toEqual([16, 32, 80]);
  });

  it("is an Excel task pane add-in with the QuantatomAI identity, in the order Office's XML schema requires", () => {
    expect(app.namespaceURI).toBe(NS.app);
    expect(app.localName).toBe("OfficeApp");
    expect(xsiType(app)).toBe("TaskPaneApp");
    const order = [
      "Id",
      "AlternateId",
      "Version",
      "ProviderName",
      "DefaultLocale",
      "DisplayName",
      "Description",
      "IconUrl",
      "HighResolutionIconUrl",
      "SupportUrl",
      "AppDomains",
      "Hosts",
      "Requirements",
      "DefaultSettings",
      "Permissions",
      "AllowSnapshot",
      "VersionOverrides",
      "ExtendedOverrides",
    ];
    const names = children(app).map((c) => c.localName);
    const positions = names.map((n) => order.indexOf(n));
    expect(positions).not.toContain(-1);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);

    expect(child(app, NS.app, "Id").textContent).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(child(app, NS.app, "Version").textContent).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(child(app, NS.app, "ProviderName").textContent).toBe("QuantatomAI");
    expect(child(app, NS.app, "DefaultLocale").textContent).toBe("en-US");
    expect(child(app, NS.app, "DisplayName").getAttribute("DefaultValue")).toBe("QuantatomAI");
    const description = child(app, NS.app, "Description").getAttribute("DefaultValue") ?? "";
    expect(description.length).toBeGreaterThan(0);
    expect(description.length).toBeLessThanOrEqual(250);
    expect(all(child(app, NS.app, "Hosts"), NS.app, "Host").map((h) => h.getAttribute("Name"))).toEqual(["Workbook"]);
    expect(child(app, NS.app, "Permissions").textContent).toBe("ReadWriteDocument");
    expect(child(child(app, NS.app, "DefaultSettings"), NS.app, "SourceLocation").getAttribute("DefaultValue")).toBe(`${base}/taskpane.html`);
    expect(all(app, NS.app, "AppDomain").map((d) => d.textContent)).toEqual([new URL(base).origin]);
  });

  it("requires SharedRuntime 1.1 and CustomFunctionsRuntime 1.1", () => {
    const sets = child(child(app, NS.app, "Requirements"), NS.app, "Sets");
    const named = new Map(children(sets).map((s) => [s.getAttribute("Name"), s.getAttribute("MinVersion") ?? sets.getAttribute("DefaultMinVersion")]));
    expect(named.get("SharedRuntime")).toBe("1.1");
    expect(named.get("CustomFunctionsRuntime")).toBe("1.1");
  });

  // Sign-in (addin/src/auth/): nested app authentication is MSAL's business and needs nothing in an
  // add-in-only manifest; Microsoft's NAA sample (Samples/auth/Office-Add-in-SSO-NAA/manifest.xml)
  // has none. <WebApplicationInfo> belongs to the legacy Office SSO (getAccessToken, on-behalf-of),
  // which the add-in does not use. NestedAppAuth is checked at run time, with the Office dialog as
  // the fallback, so requiring it would hide the add-in where the fallback works.
  // https://learn.microsoft.com/office/dev/add-ins/develop/enable-nested-app-authentication-in-your-add-in
  it("needs no manifest entry for sign-in: no WebApplicationInfo, and NestedAppAuth is not required", () => {
    expect(app.getElementsByTagNameNS(NS.app, "WebApplicationInfo").length).toBe(0);
    expect(app.getElementsByTagNameNS(NS.ov, "WebApplicationInfo").length).toBe(0);
    const sets = child(child(app, NS.app, "Requirements"), NS.app, "Sets");
    expect(children(sets).map((s) => s.getAttribute("Name"))).not.toContain("NestedAppAuth");
    // The sign-in dialog opens on the add-in's own origin: no other AppDomain is needed.
    expect(all(app, NS.app, "AppDomain").map((d) => d.textContent)).toEqual([new URL(base).origin]);
  });

  it("runs the functions, the task pane and the ribbon in one long-lived shared runtime (taskpane.html)", () => {
    const vo = child(app, NS.ov, "VersionOverrides");
    expect(xsiType(vo)).toBe("VersionOverridesV1_0");
    const hosts = all(child(vo, NS.ov, "Hosts"), NS.ov, "Host");
    expect(hosts.map(xsiType)).toEqual(["Workbook"]);
    const host = hosts[0];
    expect(children(host).map((c) => c.localName)).toEqual(["Runtimes", "AllFormFactors", "DesktopFormFactor"]);

    const runtimes = all(child(host, NS.ov, "Runtimes"), NS.ov, "Runtime");
    expect(runtimes).toHaveLength(1);
    expect(runtimes[0].getAttribute("lifetime")).toBe("long");
    const runtimeRes = runtimes[0].getAttribute("resid") ?? "";

    const { urls } = resources(doc);
    expect(urls.get(runtimeRes)).toBe(`${base}/taskpane.html`);

    const cf = all(host, NS.ov, "ExtensionPoint").filter((e) => xsiType(e) === "CustomFunctions");
    expect(cf).toHaveLength(1);
    const src = (name: string) => child(child(cf[0], NS.ov, name), NS.ov, "SourceLocation").getAttribute("resid") ?? "";
    // The functions' page is the shared runtime's page: the same resource, not just the same URL.
    expect(src("Page")).toBe(runtimeRes);
    expect(urls.get(src("Script"))).toBe(`${base}/functions.js`);
    expect(urls.get(src("Metadata"))).toBe(`${base}/functions.json`);

    const desktop = child(host, NS.ov, "DesktopFormFactor");
    expect(child(desktop, NS.ov, "FunctionFile").getAttribute("resid")).toBe(runtimeRes);
    const actions = all(desktop, NS.ov, "Action");
    expect(actions.map(xsiType).sort()).toEqual(["ExecuteFunction", "ExecuteFunction", "ExecuteFunction", "ExecuteFunction", "ShowTaskpane"]);
    // The task pane opens on the runtime's page; the functions run in it (the FunctionFile above).
    for (const a of actions.filter((x) => xsiType(x) === "ShowTaskpane")) expect(child(a, NS.ov, "SourceLocation").getAttribute("resid")).toBe(runtimeRes);
  });

  it("puts the functions in the QATOM namespace", () => {
    const ns = all(doc, NS.ov, "Namespace")[0].getAttribute("resid") ?? "";
    const { shortStrings } = resources(doc);
    expect(shortStrings.get(ns)).toBe("QATOM");
  });

  // https://learn.microsoft.com/office/dev/add-ins/develop/create-addin-commands
  // https://learn.microsoft.com/office/dev/add-ins/design/disable-add-in-commands
  it("has a QuantatomAI tab: Submit, Discard, Refresh and Sign in run the runtime's functions and start disabled; Task pane opens the pane", () => {
    const surface = all(doc, NS.ov, "ExtensionPoint").find((e) => xsiType(e) === "PrimaryCommandSurface");
    expect(surface).toBeDefined();
    expect(all(surface!, NS.ov, "OfficeTab")).toHaveLength(0);
    const tab = child(surface!, NS.ov, "CustomTab");
    expect(tab.getAttribute("id")).toBe(RIBBON_TAB);
    // Groups first, then the tab's Label (the CustomTab element's order).
    expect(children(tab).map((c) => c.localName)).toEqual(["Group", "Group", "Label"]);
    const { images, shortStrings, longStrings } = resources(doc);
    expect(shortStrings.get(child(tab, NS.ov, "Label").getAttribute("resid") ?? "")).toBe("QuantatomAI");

    const controls = all(tab, NS.ov, "Control");
    const byId = new Map(controls.map((c) => [c.getAttribute("id"), c]));
    expect(controls.map((c) => shortStrings.get(child(c, NS.ov, "Label").getAttribute("resid") ?? ""))).toEqual(["Submit", "Discard", "Refresh", "Task pane", "Sign in"]);
    for (const c of controls) {
      expect(xsiType(c)).toBe("Button");
      // Label, Supertip, Icon, Action, then Enabled (the Button control's order).
      expect(children(c).map((e) => e.localName)).toEqual(xsiType(child(c, NS.ov, "Action")) === "ShowTaskpane" ? ["Label", "Supertip", "Icon", "Action"] : ["Label", "Supertip", "Icon", "Action", "Enabled"]);
      const tip = child(child(c, NS.ov, "Supertip"), NS.ov, "Description").getAttribute("resid") ?? "";
      expect(longStrings.get(tip)).toBeTruthy();
    }
    // What addin/src/ribbon.ts enables and disables: each control, in its group, runs the function of its own id.
    for (const { id, group } of Object.values(RIBBON_CONTROLS)) {
      const c = byId.get(id);
      expect(c).toBeDefined();
      expect((c!.parentNode as Element).getAttribute("id")).toBe(group);
      const action = child(c!, NS.ov, "Action");
      expect(xsiType(action)).toBe("ExecuteFunction");
      expect(child(action, NS.ov, "FunctionName").textContent).toBe(id);
      expect(child(c!, NS.ov, "Enabled").textContent).toBe("false");
    }
    const pane = byId.get("Quantatom.TaskpaneButton")!;
    expect(child(child(pane, NS.ov, "Action"), NS.ov, "TaskpaneId").textContent).toBe("Quantatom.Taskpane");

    for (const icon of [...controls, ...all(tab, NS.ov, "Group")].map((e) => child(e, NS.ov, "Icon"))) {
      const imgs = all(icon, NS.bt, "Image");
      expect(imgs.map((i) => i.getAttribute("size"))).toEqual(["16", "32", "80"]);
      for (const i of imgs) {
        const url = images.get(i.getAttribute("resid") ?? "") ?? "";
        expect(url.startsWith(`${base}/assets/`)).toBe(true);
        expect(url.slice(base.length)).toMatch(new RegExp(`^/assets/[a-z]+-${i.getAttribute("size")}\\.png$`));
      }
    }
  });

  // https://learn.microsoft.com/office/dev/add-ins/design/keyboard-shortcuts
  it("names the keyboard shortcuts file (ExtendedOverrides, after VersionOverrides), whose actions are the tab's functions", () => {
    const overrides = child(app, NS.app, "ExtendedOverrides");
    expect(children(app).map((c) => c.localName).slice(-2)).toEqual(["VersionOverrides", "ExtendedOverrides"]);
    expect(overrides.getAttribute("Url")).toBe(`${base}/shortcuts.json`);
    const shortcuts = JSON.parse(fs.readFileSync(path.join(root, "addin", "public", "shortcuts.json"), "utf8")) as {
      actions: { id: string; type: string; name: string }[];
      shortcuts: { action: string; key: { default: string } }[];
    };
    const functions = all(doc, NS.ov, "FunctionName").map((f) => f.textContent);
    for (const a of shortcuts.actions) {
      expect(functions).toContain(a.id);
      expect(a.type).toBe("ExecuteFunction");
      expect(a.name.length).toBeGreaterThan(0); // shown when two add-ins claim the same keys
    }
    expect(shortcuts.shortcuts).toEqual([{ action: RIBBON_CONTROLS.submit.id, key: { default: "Ctrl+Alt+Shift+S" } }]);
    for (const s of shortcuts.shortcuts) {
      expect(shortcuts.actions.map((a) => a.id)).toContain(s.action);
      // Microsoft's guidelines: modifiers and one key, not Shift alone; Ctrl+Shift+Alt+x avoids Office's own.
      expect(s.key.default).toMatch(/^(Ctrl\+)?(Alt\+)?(Shift\+)?[A-Z0-9]$/);
      expect(s.key.default).toMatch(/Ctrl\+Alt\+Shift\+/);
      // Browser shortcuts Office on the web cannot override.
      expect(["Ctrl+N", "Ctrl+Shift+N", "Ctrl+T", "Ctrl+Shift+T", "Ctrl+W", "Ctrl+Shift+W", "Ctrl+Shift+S", "Ctrl+Shift+X", "Alt+Shift+N", "Alt+Shift+S"]).not.toContain(s.key.default);
    }
  });

  it("names icons that exist in addin/public as PNGs of the declared sizes", () => {
    const declared: [string, number][] = [
      [child(app, NS.app, "IconUrl").getAttribute("DefaultValue") ?? "", 32],
      [child(app, NS.app, "HighResolutionIconUrl").getAttribute("DefaultValue") ?? "", 64],
    ];
    for (const [id, url] of resources(doc).images) declared.push([url, Number(/(\d+)x\1$/.exec(id)?.[1])]);
    for (const [url, size] of declared) {
      expect(url.startsWith(`${base}/assets/`)).toBe(true);
      const file = path.join(root, "addin", "public", url.slice(base.length + 1));
      expect(pngSize(file)).toEqual({ width: size, height: size });
    }
  });

  it("resolves every resid to a resource, within Office's length limits", () => {
    const res = resources(doc);
    const known = new Set([...res.images.keys(), ...res.urls.keys(), ...res.shortStrings.keys(), ...res.longStrings.keys()]);
    const used = [...xml.matchAll(/resid="([^"]+)"/g)].map((m) => m[1]);
    expect(used.length).toBeGreaterThan(10);
    for (const id of [...used, ...known]) expect(id.length).toBeLessThanOrEqual(32);
    expect(used.filter((id) => !known.has(id))).toEqual([]);
    for (const v of res.shortStrings.values()) expect(v.length).toBeLessThanOrEqual(125);
    for (const v of res.longStrings.values()) expect(v.length).toBeLessThanOrEqual(250);
    for (const v of [...res.urls.values(), ...res.images.values()]) expect(v.length).toBeLessThanOrEqual(2048);
  });

  it("points every URL at the server that serves the add-in, over https", () => {
    const urls = manifestUrls(xml);
    expect(urls.length).toBeGreaterThan(10);
    for (const u of urls) expect(u.startsWith(`${base}/`)).toBe(true);
    if (base !== DEV_ORIGIN) expect(xml).not.toContain("localhost");
    for (const m of xml.matchAll(/<!--([\s\S]*?)-->/g)) expect(m[1]).not.toContain("--"); // not well-formed XML
  });
});

describe("renderManifest", () => {
  const source = fs.readFileSync(path.join(root, "manifest.xml"), "utf8");

  it("keeps the development manifest's URLs for https://localhost:3000", () => {
    const dev = renderManifest(source, "https://localhost:3000/");
    expect(manifestUrls(dev)).toEqual(manifestUrls(source));
    expect(dev).toContain("Generated by `npm run build`");
  });

  it("rejects public URLs Office cannot load an add-in from", () => {
    for (const bad of ["http://planning.example.com", "planning.example.com", "", "ftp://x.example.com", "https://u:p@x.example.com", "https://x.example.com/?a=1"]) {
      expect(() => renderManifest(source, bad)).toThrow(/QATOM_PUBLIC_URL must be the absolute https URL/);
    }
  });

  it("escapes what XML needs escaped", () => {
    const out = renderManifest(source, "https://x.example.com/a&b");
    expect(out).toContain('DefaultValue="https://x.example.com/a&amp;b/taskpane.html"');
    parseXml(out);
    const punycode = renderManifest(source, "https://xn--bcher-kva.example/--x");
    expect(manifestUrls(punycode)).toContain("https://xn--bcher-kva.example/--x/functions.json");
    parseXml(punycode);
    // xmldom accepts "--" inside a comment; XML (and Office's parser) does not.
    for (const m of punycode.matchAll(/<!--([\s\S]*?)-->/g)) expect(m[1]).not.toContain("--");
  });
});

describe("help URLs of the functions (functions.json's helpUrl)", () => {
  const functionsSource = fs.readFileSync(path.join(root, "functions", "src", "functions.ts"), "utf8");
  const help = fs.readFileSync(path.join(root, "addin", "public", "help.html"), "utf8");

  it("every QATOM function's @helpurl names a section of addin/public/help.html on the development origin", () => {
    const ids = [...functionsSource.matchAll(/^ \* @customfunction (\w+)$/gm)].map((m) => m[1]);
    const urls = [...functionsSource.matchAll(/^ \* @helpurl (\S+)$/gm)].map((m) => m[1]);
    expect(ids).toEqual(["CELL", "COMMENT", "MEMBERS"]);
    expect(urls).toEqual(ids.map((id) => `${DEV_ORIGIN}/help.html#${id.toLowerCase()}`));
    for (const url of urls) expect(help).toContain(`id="${url.split("#")[1]}"`);
  });

  it("renderFunctionsMetadata rewrites help URLs on the development origin to the public URL, and keeps others", () => {
    const json = JSON.stringify({
      allowCustomDataForDataTypeAny: true,
      functions: [
        { id: "CELL", name: "CELL", helpUrl: `${DEV_ORIGIN}/help.html#cell` },
        { id: "X", name: "X", helpUrl: "https://docs.example.com/x" },
        { id: "Y", name: "Y" },
      ],
    });
    const out = JSON.parse(renderFunctionsMetadata(json, "https://planning.example.com/qatom/"));
    expect(out.allowCustomDataForDataTypeAny).toBe(true);
    expect(out.functions.map((f: { helpUrl?: string }) => f.helpUrl)).toEqual(["https://planning.example.com/qatom/help.html#cell", "https://docs.example.com/x", undefined]);
    expect(JSON.parse(renderFunctionsMetadata(json, DEV_ORIGIN))).toEqual(JSON.parse(json));
    expect(() => renderFunctionsMetadata(json, "http://planning.example.com")).toThrow(/QATOM_PUBLIC_URL/);
  });
});
