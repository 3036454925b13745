/** Jest in plain CommonJS mode with swc; type-checking is a separate `tsc --noEmit` step. */

// Mesa's EGL (the GPU executor's software adapter in tests) reads EGL_PLATFORM from the process's
// own environment, which a test's sandboxed process.env does not reach: set it before the test
// processes start, so that they inherit it.
process.env.EGL_PLATFORM ??= "surfaceless";

module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/common", "<rootDir>/backend", "<rootDir>/addin", "<rootDir>/functions", "<rootDir>/taskpane", "<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: {
    "^.+\\.(t|j|mj)sx?$": [
      "@swc/jest",
      {
        jsc: { parser: { syntax: "typescript", tsx: true }, target: "es2022" },
        module: { type: "commonjs" },
      },
    ],
  },
  transformIgnorePatterns: ["/node_modules/(?!(.+/node_modules/)?(strip-bom|uuid|jose|oauth2-mock-server|is-plain-obj)/)"],
  moduleFileExtensions: ["js", "mjs", "cjs", "jsx", "ts", "tsx", "json", "node"],
  testTimeout: 60000,
  reporters: ["default", "<rootDir>/test/helpers/summary-reporter.cjs"],
};
