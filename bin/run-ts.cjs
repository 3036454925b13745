#!/usr/bin/env node
// Runs a TypeScript script (first argument) through tsx's CommonJS hook, passing the rest along.
const path = require("node:path");
require("tsx/cjs");
const script = process.argv[2];
if (!script) {
  console.error("usage: run-ts.cjs <script.ts> [args...]");
  process.exit(2);
}
process.argv.splice(1, 2, path.resolve(script));
require(path.resolve(script));
