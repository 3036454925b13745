/**
 * The generated protocol code must match the .proto files: regenerate into a temporary folder with
 * the same buf + local protoc-gen-es toolchain and compare file by file. Run `npm run generate`
 * when this fails.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(__dirname, "..");

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe("proto/gen", () => {
  it("is what buf generate makes from proto/quantatom/v1", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-gen-"));
    try {
      const template = JSON.stringify({
        version: "v2",
        plugins: [{ local: path.join(root, "node_modules", ".bin", "protoc-gen-es"), out, opt: ["target=ts"] }],
      });
      execFileSync(path.join(root, "node_modules", ".bin", "buf"), ["generate", "--template", template], { cwd: root, stdio: "pipe" });
      const committed = path.join(root, "proto", "gen");
      const want = listFiles(out);
      expect(listFiles(committed)).toEqual(want);
      expect(want.length).toBeGreaterThan(0);
      for (const f of want) {
        expect({ file: f, text: fs.readFileSync(path.join(committed, f), "utf8") }).toEqual({
          file: f,
          text: fs.readFileSync(path.join(out, f), "utf8"),
        });
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
