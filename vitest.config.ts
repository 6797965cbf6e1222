import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Lambda log lines (one per diagnosed failure) only for the tests that fail.
    silent: "passed-only",
    // The Lambda code runs as the local runner runs it: Powertools logs to console, prints no metrics.
    env: { POWERTOOLS_DEV: "true" },
  },
});
