/**
 * The ribbon as manifest.xml and shortcuts.json declare it, read as Office reads them: the custom
 * tab, its groups and buttons (labels and supertips from the resources, icons as the PNG files the
 * icon URLs name in addin/public), each button's action, whether it starts enabled, and the keyboard
 * shortcuts. Node only (it reads files); the browser stand-in (./ribbon-stand-in.ts) gets the result
 * as JSON.
 */
import fs from "node:fs";
import path from "node:path";
import { DEV_ORIGIN } from "../../scripts/build";
import type { RibbonModel } from "./ribbon-stand-in";

const root = path.resolve(__dirname, "..", "..");
const converterDir = path.dirname(require.resolve("office-addin-manifest-converter/package.json"));
const { DOMParser } = require(require.resolve("@xmldom/xmldom", { paths: [converterDir] })) as typeof import("@xmldom/xmldom");

const NS = {
  ov: "http://schemas.microsoft.com/office/taskpaneappversionoverrides",
  bt: "http://schemas.microsoft.com/office/officeappbasictypes/1.0",
  xsi: "http://www.w3.org/2001/XMLSchema-instance",
};

function children(el: Element, ns: string, name: string): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === name) out.push(n as Element);
  }
  return out;
}

function only(el: Element, ns: string, name: string): Element {
  const found = children(el, ns, name);
  if (found.length !== 1) throw new Error(`<${el.localName} id="${el.getAttribute("id")}"> has ${found.length} <${name}>, expected 1`);
  return found[0];
}

/** The shortcuts file the manifest's ExtendedOverrides names, in addin/public. */
export function shortcutsFile(xml: string): string {
  const url = /<ExtendedOverrides\s+Url="([^"]+)"/.exec(xml)?.[1];
  if (!url?.startsWith(`${DEV_ORIGIN}/`)) throw new Error(`the manifest's ExtendedOverrides Url is ${url}, not on ${DEV_ORIGIN}`);
  return path.join(root, "addin", "public", url.slice(DEV_ORIGIN.length + 1));
}

/**
 * Reads the manifest's CustomTab (manifest.xml by default) and its shortcuts file.
 * @throws Error when a resid or an icon file is missing, as Office would refuse the manifest.
 */
export function readRibbonModel(manifest = path.join(root, "manifest.xml")): RibbonModel {
  const xml = fs.readFileSync(manifest, "utf8");
  const doc = new DOMParser().parseFromString(xml, "text/xml") as unknown as Document;
  const resources = new Map<string, string>();
  for (const kind of ["Image", "Url", "String"]) {
    for (const el of Array.from(doc.getElementsByTagNameNS(NS.bt, kind) as unknown as ArrayLike<Element>)) {
      const id = el.getAttribute("id");
      if (id) resources.set(id, el.getAttribute("DefaultValue") ?? "");
    }
  }
  const res = (el: Element, name: string) => {
    const id = only(el, NS.ov, name).getAttribute("resid") ?? "";
    const value = resources.get(id);
    if (value === undefined) throw new Error(`resid ${id} is not among the manifest's resources`);
    return value;
  };
  const icon = (el: Element, size: number) => {
    const image = children(only(el, NS.ov, "Icon"), NS.bt, "Image").find((i) => i.getAttribute("size") === String(size));
    const url = resources.get(image?.getAttribute("resid") ?? "") ?? "";
    if (!url.startsWith(`${DEV_ORIGIN}/`)) throw new Error(`<${el.localName} id="${el.getAttribute("id")}"> has no ${size} px icon on ${DEV_ORIGIN}`);
    const png = fs.readFileSync(path.join(root, "addin", "public", url.slice(DEV_ORIGIN.length + 1)));
    return `data:image/png;base64,${png.toString("base64")}`;
  };

  const tabs = Array.from(doc.getElementsByTagNameNS(NS.ov, "CustomTab") as unknown as ArrayLike<Element>);
  if (tabs.length !== 1) throw new Error(`the manifest has ${tabs.length} CustomTab elements; an add-in has one`);
  const tab = tabs[0];
  const groups = children(tab, NS.ov, "Group").map((g) => ({
    id: g.getAttribute("id") ?? "",
    label: res(g, "Label"),
    controls: children(g, NS.ov, "Control").map((c) => {
      const action = only(c, NS.ov, "Action");
      const type = action.getAttributeNS(NS.xsi, "type");
      const enabled = children(c, NS.ov, "Enabled")[0]?.textContent?.trim() !== "false";
      const supertip = only(c, NS.ov, "Supertip");
      return {
        id: c.getAttribute("id") ?? "",
        label: res(c, "Label"),
        tip: { title: res(supertip, "Title"), description: res(supertip, "Description") },
        icon16: icon(c, 16),
        icon32: icon(c, 32),
        action: type === "ExecuteFunction" ? { type: "ExecuteFunction" as const, functionName: only(action, NS.ov, "FunctionName").textContent?.trim() ?? "" } : { type: "ShowTaskpane" as const },
        enabled,
      };
    }),
  }));
  const shortcuts = JSON.parse(fs.readFileSync(shortcutsFile(xml), "utf8")) as RibbonModel["shortcuts"];
  return { tab: { id: tab.getAttribute("id") ?? "", label: res(tab, "Label") }, groups, shortcuts };
}
