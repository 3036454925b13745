#!/usr/bin/env node
// Entry point of the `quantatom` CLI: runs the TypeScript sources through tsx's CommonJS hook.
require("tsx/cjs");
require("../backend/src/cli/main.ts");
