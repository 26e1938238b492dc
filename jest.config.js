// Two projects: `unit` needs nothing but Node; `e2e` deploys to a real Docker engine.
const tsJest = ["ts-jest", { isolatedModules: true, diagnostics: false }];
const common = {
  testEnvironment: "node",
  transform: { "^.+\\.ts$": tsJest },
  setupFilesAfterEnv: ["<rootDir>/__tests__/setup.ts"],
};

module.exports = {
  projects: [
    { ...common, displayName: "unit", testMatch: ["<rootDir>/__tests__/unit/**/*.test.ts"] },
    { ...common, displayName: "e2e", testMatch: ["<rootDir>/__tests__/e2e/**/*.test.ts"] },
  ],
};
