/**
 * `npm run sideload`: registers the built add-in (dist/addin/manifest.xml) with desktop Excel on
 * this machine, the way Microsoft's office-addin-dev-settings does (office-addin-debugging, which
 * wraps it, cannot be installed from this project's registry):
 *
 * - Windows: a string value named after the add-in's Id, holding the manifest's path, under
 *   HKCU\Software\Microsoft\Office\16.0\WEF\Developer (`reg add`). Excel lists it under
 *   Insert > My Add-ins > Developer Add-ins.
 * - macOS: a copy of the manifest in Excel's sideload folder,
 *   ~/Library/Containers/com.microsoft.Excel/Data/Documents/wef/.
 * - Elsewhere (no desktop Excel): prints the steps for Excel on the web.
 *
 * It builds the add-in first when dist/addin is missing or stale, prints what it does and what to
 * do next (trust the development CA, start the backend, open the pane). Options: `--remove`
 * unregisters; `--dry-run` only prints; `--platform win32|darwin|linux` plans for another system.
 * The backend must be running (`npm start`) whenever Excel loads the add-in.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildAddin, projectRoot, publicUrlFromEnv } from "./build";

/** The registry key desktop Office on Windows reads developer (sideloaded) manifests from. */
export const WINDOWS_DEVELOPER_KEY = "HKCU\\Software\\Microsoft\\Office\\16.0\\WEF\\Developer";

/** Excel's sideload folder on macOS, under the user's home. */
export function macSideloadDir(home: string): string {
  return path.join(home, "Library", "Containers", "com.microsoft.Excel", "Data", "Documents", "wef");
}

export type SideloadAction =
  | { kind: "exec"; file: string; args: string[] }
  | { kind: "copy"; from: string; to: string }
  | { kind: "delete"; path: string };

export interface SideloadPlan {
  actions: SideloadAction[];
  /** What the user does next, one step a line. */
  instructions: string[];
}

export interface SideloadOptions {
  platform: NodeJS.Platform;
  home: string;
  /** Absolute path of the manifest to register. */
  manifestPath: string;
  /** The add-in's Id (from the manifest). */
  addinId: string;
  /** Where the development CA is (certs/ca.crt). */
  caPath: string;
  /** The URL the manifest points at. */
  publicUrl: string;
  remove?: boolean;
}

/** The add-in's Id from a manifest's XML. */
export function manifestId(xml: string): string {
  const m = /<Id>\s*([^<\s]+)\s*<\/Id>/.exec(xml);
  if (!m) throw new Error("the manifest has no <Id>");
  return m[1];
}

/** What sideloading (or removing) the add-in takes on `platform`; pure, so it can be tested anywhere. */
export function planSideload(o: SideloadOptions): SideloadPlan {
  const local = /^https:\/\/(localhost|127\.0\.0\.1)(:|\/|$)/.test(o.publicUrl);
  const serve = local
    ? `Start the backend and leave it running: \`npm start\` (it serves ${o.publicUrl}).`
    : `Make sure ${o.publicUrl} serves this build (the backend with QATOM_ADDIN_DIR pointing at it).`;
  if (o.platform === "win32") {
    if (o.remove) {
      return {
        actions: [{ kind: "exec", file: "reg", args: ["delete", WINDOWS_DEVELOPER_KEY, "/v", o.addinId, "/f"] }],
        instructions: ["Restart Excel: the QuantatomAI add-in is gone from Developer Add-ins."],
      };
    }
    return {
      actions: [{ kind: "exec", file: "reg", args: ["add", WINDOWS_DEVELOPER_KEY, "/v", o.addinId, "/t", "REG_SZ", "/d", o.manifestPath, "/f"] }],
      instructions: [
        ...(local ? [`Trust the development CA once (a dialog asks to confirm): certutil -user -addstore Root "${o.caPath}"`] : []),
        serve,
        "Close Excel if it is open, then start it and open a workbook.",
        "Insert > My Add-ins (or Home > Add-ins > More Add-ins) > Developer Add-ins > QuantatomAI.",
        "Home > QuantatomAI > Planning opens the task pane; =QATOM.CELL(...) works in any cell.",
      ],
    };
  }
  if (o.platform === "darwin") {
    const target = path.join(macSideloadDir(o.home), `${o.addinId}.manifest.xml`);
    if (o.remove) {
      return { actions: [{ kind: "delete", path: target }], instructions: ["Restart Excel: the QuantatomAI add-in is gone."] };
    }
    return {
      actions: [{ kind: "copy", from: o.manifestPath, to: target }],
      instructions: [
        ...(local ? [`Trust the development CA once: security add-trusted-cert -r trustRoot -k ~/Library/Keychains/login.keychain-db "${o.caPath}"`] : []),
        serve,
        "Quit Excel if it is open (Cmd+Q), then start it and open a workbook.",
        "Home > Add-ins (or Insert > My Add-ins) > Developer Add-ins > QuantatomAI.",
        "Home > QuantatomAI > Planning opens the task pane; =QATOM.CELL(...) works in any cell.",
      ],
    };
  }
  return {
    actions: [],
    instructions: [
      `There is no desktop Excel on ${o.platform}; sideload into Excel on the web instead:`,
      ...(local ? [`Make your browser trust the development CA ${o.caPath} (or use QATOM_PUBLIC_URL with a real certificate).`] : []),
      serve,
      "Open a workbook at https://www.office.com, then Home > Add-ins > More Add-ins (older: Insert > Office Add-ins) > My Add-ins > Upload My Add-in.",
      `Upload ${o.manifestPath}. Home > QuantatomAI > Planning opens the task pane.`,
      "To remove it, clear the browser's cache (Office on the web keeps sideloaded manifests there).",
    ],
  };
}

/** Carries out a plan's actions. */
export function runSideload(actions: SideloadAction[], exec: (file: string, args: string[]) => void = (f, a) => void execFileSync(f, a, { stdio: "inherit" })): void {
  for (const a of actions) {
    if (a.kind === "exec") exec(a.file, a.args);
    else if (a.kind === "copy") {
      fs.mkdirSync(path.dirname(a.to), { recursive: true });
      fs.copyFileSync(a.from, a.to);
    } else fs.rmSync(a.path, { force: true });
  }
}

function describeAction(a: SideloadAction): string {
  if (a.kind === "exec") return [a.file, ...a.args.map((x) => (/\s/.test(x) ? `"${x}"` : x))].join(" ");
  if (a.kind === "copy") return `copy ${a.from} -> ${a.to}`;
  return `delete ${a.path}`;
}

async function main(argv: string[]): Promise<void> {
  let platform: NodeJS.Platform = process.platform;
  let remove = false;
  let dryRun = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--remove") remove = true;
    else if (a === "--dry-run") dryRun = true;
    else if (a === "--platform" && argv[i + 1]) platform = argv[++i] as NodeJS.Platform;
    else if (a === "--help" || a === "-h") {
      console.log("usage: npm run sideload -- [--remove] [--dry-run] [--platform win32|darwin|linux]");
      return;
    } else throw new Error(`unknown argument ${JSON.stringify(a)} (see --help)`);
  }
  const outDir = path.resolve(process.env.QATOM_ADDIN_DIR || path.join(projectRoot, "dist", "addin"));
  const manifestPath = path.join(outDir, "manifest.xml");
  let publicUrl: string;
  if (remove && fs.existsSync(manifestPath)) {
    publicUrl = "";
  } else {
    const built = await buildAddin({ outDir, publicUrl: publicUrlFromEnv(), ifMissing: true, log: (l) => console.log(l) });
    publicUrl = built.publicUrl;
  }
  const plan = planSideload({
    platform,
    home: os.homedir(),
    manifestPath,
    addinId: manifestId(fs.readFileSync(manifestPath, "utf8")),
    caPath: path.join(path.resolve(process.env.QATOM_CERTS_DIR || path.join(projectRoot, "certs")), "ca.crt"),
    publicUrl,
    remove,
  });
  for (const a of plan.actions) console.log(`${dryRun ? "would run" : "running"}: ${describeAction(a)}`);
  if (!dryRun) runSideload(plan.actions);
  if (plan.actions.length && !dryRun) console.log(remove ? "QuantatomAI is unregistered." : `QuantatomAI is registered with desktop Excel (${manifestPath}).`);
  console.log("\nNext:");
  for (const [i, line] of plan.instructions.entries()) console.log(`  ${i + 1}. ${line}`);
}

if (path.resolve(process.argv[1] ?? "") === __filename) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
