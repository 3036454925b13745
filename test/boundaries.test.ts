/**
 * The module boundaries of the repository, checked on the source text: each rule is a folder and a
 * forbidden import, and a violation names the file, the line and the import.
 *
 * - The add-in (`addin/`, `functions/`, `taskpane/`) and `common/` import nothing from `backend/`:
 *   what the client and the server share lives in `common/` (see common/README.md).
 * - `common/` imports nothing from the add-in either, and no `node:*` module: it is bundled into
 *   the add-in, which runs in Excel.
 * - The engine (`backend/src/lattice/`) imports no Node built-in (`node:*`, or a bare `fs`,
 *   `worker_threads`, …) and nothing from the rest of the backend: it is given its scan executor
 *   (`compute/`) and knows no store, cache, bus or RPC, so the same engine runs in a request, a
 *   worker and a test (docs/architecture.md).
 * - Rights (`backend/src/security/`) are policy without I/O: they use the engine (through its index)
 *   and `common/`, and nothing else of the backend; the domain layer loads, stores and enforces them.
 * - Everything else (the rest of the backend, the benches, the cross-cutting tests) uses the engine
 *   through its index, `backend/src/lattice` (index.ts), not its modules; a unit test beside the
 *   code may reach an engine module it tests.
 *
 * To add a rule, add a {@link Rule} to `RULES`.
 */
import fs from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";

const root = path.resolve(__dirname, "..");

/** One import statement (or `export … from`, `import()`, `require()`) found in a source file. */
interface ImportRef {
  /** The module specifier as written, e.g. `../../backend/src/lattice`. */
  specifier: string;
  /** 1-based line of the specifier. */
  line: number;
}

/** A boundary: no file under `folder` may import a module that `forbids` returns a reason for. */
interface Rule {
  /** Folder relative to the repository root, e.g. `addin`. */
  folder: string;
  /** What is forbidden, for the test's name, e.g. `backend/`. */
  forbidden: string;
  /**
   * The reason an import breaks the rule, or null when it is allowed.
   * @param specifier the module specifier as written
   * @param file the importing file's absolute path (to resolve relative specifiers)
   */
  forbids(specifier: string, file: string): string | null;
}

/** A relative specifier that resolves into `<root>/<folder>` (the folder itself or below). */
function importsFolder(folder: string): Rule["forbids"] {
  const target = path.join(root, folder);
  return (specifier, file) => {
    if (!specifier.startsWith(".")) return null;
    const resolved = path.resolve(path.dirname(file), specifier);
    return resolved === target || resolved.startsWith(target + path.sep) ? `resolves into ${folder}/` : null;
  };
}

/** A Node built-in module, by its `node:` name or its bare name (`fs`, `worker_threads`, `fs/promises`). */
const importsNodeBuiltin: Rule["forbids"] = (specifier) =>
  specifier.startsWith("node:") || builtinModules.includes(specifier) ? "is a Node built-in" : null;

/** The backend's folders outside the engine, which the engine may not import. */
const BACKEND_OUTSIDE_ENGINE = ["auth", "cache", "cli", "compute", "domain", "events", "loader", "security", "server", "services", "store", "writes"];

/** `folder` may not import from `other/` (by relative path). */
const noImportsFrom = (folder: string, other: string): Rule => ({ folder, forbidden: `${other}/`, forbids: importsFolder(other) });

/** A specifier that reaches into `backend/src/lattice/<module>` from outside the engine (its index is fine); tests exempt. */
const reachesIntoEngine: Rule["forbids"] = (specifier, file) => {
  const engine = path.join(root, "backend", "src", "lattice");
  if (!specifier.startsWith(".") || file.startsWith(engine + path.sep) || file.endsWith(".test.ts")) return null;
  const resolved = path.resolve(path.dirname(file), specifier);
  return resolved.startsWith(engine + path.sep) && resolved !== path.join(engine, "index")
    ? "reaches into the engine; import backend/src/lattice (its index)"
    : null;
};

const RULES: Rule[] = [
  ...["addin", "functions", "taskpane", "common"].map((folder) => noImportsFrom(folder, "backend")),
  ...["addin", "functions", "taskpane"].map((other) => noImportsFrom("common", other)),
  { folder: "common", forbidden: "node:*", forbids: importsNodeBuiltin },
  { folder: "backend/src/lattice", forbidden: "node:*", forbids: importsNodeBuiltin },
  ...BACKEND_OUTSIDE_ENGINE.map((other) => noImportsFrom("backend/src/lattice", `backend/src/${other}`)),
  ...BACKEND_OUTSIDE_ENGINE.filter((other) => other !== "security").map((other) => noImportsFrom("backend/src/security", `backend/src/${other}`)),
  ...["backend/src", "bench", "test"].map((folder) => ({ folder, forbidden: "backend/src/lattice/* (only its index)", forbids: reachesIntoEngine })),
];

/** Every .ts / .tsx file under `dir` (skipping node_modules and generated output). */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist") continue;
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.tsx?$/.test(entry.name)) out.push(p);
  }
  return out;
}

/**
 * The module specifiers of a TypeScript source: `import … from "x"`, `import "x"`,
 * `export … from "x"`, `import("x")`, `require("x")` (type-only imports included: they still tie
 * the folders together). Comments are skipped so that a path named in a comment is not an import.
 */
function importsOf(source: string): ImportRef[] {
  const code = source.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (c) => c.replace(/[^\n]/g, " "));
  const out: ImportRef[] = [];
  const re = /\b(?:from|import|require)\s*\(?\s*(["'])([^"'\n]+)\1/g;
  for (let m = re.exec(code); m; m = re.exec(code)) {
    const at = m.index + m[0].indexOf(m[2]);
    out.push({ specifier: m[2], line: code.slice(0, at).split("\n").length });
  }
  return out;
}

/** The violations of `rule`, as `file:line imports "specifier" (reason)`. */
function violations(rule: Rule): string[] {
  const found: string[] = [];
  for (const file of sourceFiles(path.join(root, rule.folder))) {
    for (const ref of importsOf(fs.readFileSync(file, "utf8"))) {
      const why = rule.forbids(ref.specifier, file);
      if (why) found.push(`${path.relative(root, file)}:${ref.line} imports "${ref.specifier}" (${why})`);
    }
  }
  return found;
}

describe("module boundaries", () => {
  it("every backend folder the engine may not import exists", () => {
    const folders = fs.readdirSync(path.join(root, "backend", "src"), { withFileTypes: true }).filter((e) => e.isDirectory());
    expect(folders.map((e) => e.name).filter((n) => n !== "lattice")).toEqual(expect.arrayContaining(BACKEND_OUTSIDE_ENGINE));
  });

  it.each(RULES.map((r) => [r.folder, r.forbidden, r] as const))("%s/ imports nothing from %s", (_folder, _forbidden, rule) => {
    expect(fs.existsSync(path.join(root, rule.folder))).toBe(true);
    expect(violations(rule)).toEqual([]);
  });
});

describe("the import scanner", () => {
  it("finds static, side-effect, re-export, dynamic and require imports, with their lines", () => {
    const src = [
      'import { a } from "./a";',
      'import type { B } from "../../backend/src/b";',
      'import "./side";',
      'export { c } from "node:fs";',
      'const d = await import("./d");',
      'const e = require("e");',
      "// import { x } from '../backend/x'",
      "/* export * from '../backend/y' */",
    ].join("\n");
    expect(importsOf(src)).toEqual([
      { specifier: "./a", line: 1 },
      { specifier: "../../backend/src/b", line: 2 },
      { specifier: "./side", line: 3 },
      { specifier: "node:fs", line: 4 },
      { specifier: "./d", line: 5 },
      { specifier: "e", line: 6 },
    ]);
  });

  it("resolves relative paths against the importing file", () => {
    const forbids = importsFolder("backend");
    expect(forbids("../../backend/src/lattice", path.join(root, "addin", "src", "x.ts"))).toBe("resolves into backend/");
    expect(forbids("../backend", path.join(root, "common", "x.ts"))).toBe("resolves into backend/");
    expect(forbids("../../common/names", path.join(root, "addin", "src", "x.ts"))).toBeNull();
    expect(forbids("../backend-tools/x", path.join(root, "common", "x.ts"))).toBeNull();
    expect(forbids("backend", path.join(root, "common", "x.ts"))).toBeNull();
    expect(importsNodeBuiltin("node:crypto", "")).toBe("is a Node built-in");
    expect(importsNodeBuiltin("worker_threads", "")).toBe("is a Node built-in");
    expect(importsNodeBuiltin("fs/promises", "")).toBe("is a Node built-in");
    expect(importsNodeBuiltin("react", "")).toBeNull();
    expect(importsNodeBuiltin("./fs", "")).toBeNull();
    const service = path.join(root, "backend", "src", "services", "x.ts");
    expect(reachesIntoEngine("../lattice", service)).toBeNull();
    expect(reachesIntoEngine("../lattice/index", service)).toBeNull();
    expect(reachesIntoEngine("../lattice/cube", service)).toMatch(/reaches into the engine/);
    expect(reachesIntoEngine("../lattice/cube", path.join(root, "backend", "src", "services", "x.test.ts"))).toBeNull();
    expect(reachesIntoEngine("./cube", path.join(root, "backend", "src", "lattice", "x.ts"))).toBeNull();
  });
});
