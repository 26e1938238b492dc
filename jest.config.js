// Two projects: `unit` needs nothing but Node; `e2e` deploys to a real Docker engine.
// Type checking is `tsc`'s job (npm run build); ts-jest only transpiles, which keeps a run at ~2 s.
const tsJest = ["ts-jest", { diagnostics: false }];
const common = {
  testEnvironment: "node",
  transform: { "^.+\\.ts$": tsJest },
};

module.exports = {
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/__tests__/unit/**/*.test.ts"] },
    { ...common, displayName: "e2e", testMatch: ["<rootDir>/__tests__/e2e/**/*.test.ts"] },
  ],
};
