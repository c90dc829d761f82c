import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites each start their own local stack on random ports; two workers fit a 2-core machine.
    maxWorkers: 2,
    // Handlers log through Powertools; tests assert on results, not on log lines.
    env: { POWERTOOLS_LOG_LEVEL: "SILENT" },
  },
});
