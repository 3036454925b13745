#!/usr/bin/env node
// Adds package-lock.json entries for optional platform packages (other operating systems' and
// CPUs' binaries of biome, buf, swc, duckdb, ...) that the package registry reachable here does not
// serve: npm cannot record them, and `npm ci` then refuses the lock file as out of sync. Each entry
// names the version the parent pins and is marked optional, so `npm ci` on Linux x64 skips it.
// Run after `npm install` changes the lock file: `node scripts/lock-optional-platforms.mjs`.
import fs from "node:fs";

const file = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(fs.readFileSync(file, "utf8"));
const pkgs = lock.packages;
let added = 0;
for (const [where, meta] of Object.entries(pkgs)) {
  for (const [name, spec] of Object.entries(meta.optionalDependencies ?? {})) {
    // npm looks a dependency up in the parent's own node_modules first, then upwards.
    const nested = `${where ? `${where}/` : ""}node_modules/${name}`;
    const top = `node_modules/${name}`;
    if (pkgs[nested] || pkgs[top]) continue;
    const version = spec.replace(/^[\^~=]/, "");
    if (!/^\d+\.\d+\.\d+(-[\w.-]+)?$/.test(version)) {
      console.error(`skipping ${name}@${spec} (needed by ${where || "the root"}): not an exact version`);
      continue;
    }
    pkgs[top] = { version, optional: true };
    added++;
  }
}
const sorted = Object.fromEntries(Object.entries(pkgs).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))));
lock.packages = sorted;
fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`added ${added} optional platform entries`);
