import { describe, expect, it } from "vitest";
import { attemptLimits, ConfigError, configFromOptions, loadConfig } from "../../src/config.ts";

describe("the limits on attempts (fairness), from the environment", () => {
  it("by default: a fifth of the pool left to reads, all but two of the rest per workspace (at least half), half for the issuer's callers, a 2 s wait", () => {
    const config = loadConfig({});
    expect(attemptLimits(config, config.dbPoolSize)).toEqual({ total: 8, perScope: 6, outside: 4, queueMs: 2_000 });
    expect(attemptLimits(config, 2)).toEqual({ total: 1, perScope: 1, outside: 1, queueMs: 2_000 });
    expect(attemptLimits(config, 1)).toEqual({ total: 1, perScope: 1, outside: 1, queueMs: 2_000 });
    expect(attemptLimits(loadConfig({ ONCEQL_DB_POOL_SIZE: "40" }), 40)).toEqual({ total: 32, perScope: 30, outside: 16, queueMs: 2_000 });
  });

  it("PGlite, one session and no pool: no limits", () => {
    expect(attemptLimits(loadConfig({}), undefined)).toBeUndefined();
  });

  it("each setting, within what the pool allows", () => {
    const config = loadConfig({
      ONCEQL_DB_POOL_SIZE: "20",
      ONCEQL_DB_READ_RESERVE: "5",
      ONCEQL_ATTEMPTS_PER_WORKSPACE: "3",
      ONCEQL_OUTSIDE_ATTEMPTS: "6",
      ONCEQL_ATTEMPT_QUEUE_MS: "0",
    });
    expect(attemptLimits(config, 20)).toEqual({ total: 15, perScope: 3, outside: 6, queueMs: 0 });
    // A test's smaller pool: never more than it holds.
    expect(attemptLimits(config, 4)).toEqual({ total: 1, perScope: 1, outside: 1, queueMs: 0 });
  });

  it("a wrong value stops the server, naming the variable", () => {
    expect(() => loadConfig({ ONCEQL_DB_READ_RESERVE: "10" })).toThrow(
      new ConfigError("ONCEQL_DB_READ_RESERVE", "must be between 0 and 9 (ONCEQL_DB_POOL_SIZE less one), got 10"),
    );
    expect(() => loadConfig({ ONCEQL_DB_READ_RESERVE: "4", ONCEQL_ATTEMPTS_PER_WORKSPACE: "7" })).toThrow(
      new ConfigError(
        "ONCEQL_ATTEMPTS_PER_WORKSPACE",
        "must be between 1 and 6 (what ONCEQL_DB_POOL_SIZE leaves after ONCEQL_DB_READ_RESERVE), got 7",
      ),
    );
    expect(() => loadConfig({ ONCEQL_OUTSIDE_ATTEMPTS: "0" })).toThrow(/^ONCEQL_OUTSIDE_ATTEMPTS: must be between 1 and 8/);
    expect(() => loadConfig({ ONCEQL_ATTEMPT_QUEUE_MS: "soon" })).toThrow(
      new ConfigError("ONCEQL_ATTEMPT_QUEUE_MS", 'expected a whole number, got "soon"'),
    );
    expect(() => configFromOptions({ attemptsPerWorkspace: 99 })).toThrow(
      /^attemptsPerWorkspace \(ONCEQL_ATTEMPTS_PER_WORKSPACE\): must be/,
    );
  });
});
