// createIdentity: one INSERT, with the wrapper and without (the baseline app), its replays, the
// cheapest authenticated query, throughput at 32 connections, a storm of one key, and memory.

import { BASELINE_HEADER } from "./baseline-runner.ts";
import { type BenchServer, checked, counter, load, requireClean, rssMb } from "./harness.ts";
import type { Phase, PhaseResult } from "./load.ts";
import { median, percentile, round } from "./stats.ts";

const createIdentity = (key: string, externalId = key) =>
  JSON.stringify({
    query:
      "mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { __typename ... on CreateIdentityPayload { identity { id externalId } } } }",
    variables: { input: { clientMutationId: key, externalId } },
  });
const NOOP = JSON.stringify({ query: "{ workspace { id } }" });
const BASELINE = { [BASELINE_HEADER]: "1" };
const CREATED = '"__typename":"CreateIdentityPayload"';

/**
 * `bare`, when given (on PostgreSQL): the reference server, bench/bare-server.ts, measured in
 * the same rounds: its first executions (one connection) and its throughput at 32 connections.
 */
export async function measureIdentity(
  server: BenchServer,
  options: { rounds: number; requests: number; memoryOutcomes: number; bare?: BenchServer; progress(what: string): void },
) {
  const { rounds: ROUNDS, requests: N, progress } = options;
  const base = { url: server.url, token: server.token };
  const run = (phase: Omit<Phase, "url" | "token">, expect: { executions?: number; replays?: number }) =>
    checked(server, "createIdentity", { ...base, ...phase }, expect);
  progress("createIdentity: warming up");
  await load({ ...base, body: createIdentity("warm-%N%"), connections: 1, amount: 300 });
  await load({ ...base, body: NOOP, connections: 1, amount: 300 });
  // Under load too, with and without the wrapper: V8 optimizes the paths a busy server takes
  // (measured: the first 3 s at 32 connections reach 60–70% of the rate of the next ones).
  for (const headers of [undefined, BASELINE]) {
    await load({ ...base, body: createIdentity(`warm-load${headers ? "-bare" : ""}-%N%`), connections: 32, durationS: 3, headers });
  }
  if (options.bare) {
    const reference = { url: options.bare.url, token: options.bare.token };
    await load({ ...reference, body: createIdentity("warm-%N%"), connections: 1, amount: 300 });
    await load({ ...reference, body: createIdentity("warm-load-%N%"), connections: 32, durationS: 3 });
  }

  const rounds: Record<string, number>[] = [];
  let samples: Record<string, number[]> = {};
  for (let r = 0; r < ROUNDS; r++) {
    progress(`createIdentity: round ${r + 1} of ${ROUNDS}`);
    const first = await run({ body: createIdentity(`r${r}-first-%N%`), connections: 1, amount: N, expectText: CREATED }, { executions: N });
    const bare = await run(
      { body: createIdentity(`r${r}-bare-%N%`), connections: 1, amount: N, headers: BASELINE, expectText: CREATED },
      {},
    );
    const replay = await run(
      { body: createIdentity(`r${r}-first-%N%`), connections: 1, amount: N, cycle: N, expectText: CREATED },
      { replays: N },
    );
    const noop = await run({ body: NOOP, connections: 1, amount: N, expectText: '"workspace"' }, {});
    const withWrapper = requireClean(
      await load({ ...base, body: createIdentity(`r${r}-tput-%N%`), connections: 32, durationS: 3, expectText: CREATED }),
    );
    const withoutWrapper = requireClean(
      await load({
        ...base,
        body: createIdentity(`r${r}-tbare-%N%`),
        connections: 32,
        durationS: 3,
        headers: BASELINE,
        expectText: CREATED,
      }),
    );
    const before = await counter(server, "createIdentity", "executions");
    const storm = requireClean(
      await load({ ...base, body: createIdentity(`r${r}-storm`), connections: 200, amount: 200, expectText: CREATED }),
    );
    const stormExecutions = (await counter(server, "createIdentity", "executions")) - before;
    const p50 = (result: PhaseResult) => percentile(result.latenciesMs, 50);
    const p99 = (result: PhaseResult) => percentile(result.latenciesMs, 99);
    const rps = (result: PhaseResult) => result.requests / result.durationS;
    const reference = options.bare && (await measureReference(options.bare, r, N));
    rounds.push({
      ...(reference && {
        ref_first_p50_ms: p50(reference.first),
        ref_noop_p50_ms: p50(reference.noop),
        ref_rps: rps(reference.throughput),
        ref_p99_ms: p99(reference.throughput),
        ref_throughput_ratio: rps(withWrapper) / rps(reference.throughput),
        noop_vs_ref_noop: p50(noop) / p50(reference.noop),
      }),
      first_vs_noop: p50(first) / p50(noop),
      first_p50_ms: p50(first),
      bare_p50_ms: p50(bare),
      replay_p50_ms: p50(replay),
      noop_p50_ms: p50(noop),
      overhead: p50(first) / p50(bare),
      replay_vs_first: p50(replay) / p50(first),
      replay_vs_noop: p50(replay) / p50(noop),
      rps_with: rps(withWrapper),
      rps_with_p99_ms: p99(withWrapper),
      rps_without: rps(withoutWrapper),
      rps_without_p99_ms: p99(withoutWrapper),
      throughput_ratio: rps(withWrapper) / rps(withoutWrapper),
      storm_executions: stormExecutions,
      storm_p99_ms: percentile(storm.latenciesMs, 99),
    });
    samples = {
      "first execution": first.latenciesMs,
      replay: replay.latenciesMs,
      "no-op query": noop.latenciesMs,
      "no wrapper": bare.latenciesMs,
    };
  }

  progress(`createIdentity: storing ${options.memoryOutcomes} outcomes, twice, for the memory figure`);
  const rssBefore = await rssMb(server.pid);
  await load({ ...base, body: createIdentity("mem-%N%"), connections: 32, amount: options.memoryOutcomes });
  const rssAfter = await rssMb(server.pid);
  await load({ ...base, body: createIdentity("mem-again-%N%"), connections: 32, amount: options.memoryOutcomes });
  const rssAfterTwice = await rssMb(server.pid);

  const summary = summarize(rounds);
  summary.storm_executions_max = Math.max(...rounds.map((row) => row.storm_executions!));
  return {
    summary,
    rounds,
    memory: {
      outcomes: options.memoryOutcomes,
      rss_before_mb: round(rssBefore, 1),
      rss_after_mb: round(rssAfter, 1),
      rss_after_twice_mb: round(rssAfterTwice, 1),
      growth_mb: round(rssAfter - rssBefore, 1),
      growth_second_mb: round(rssAfterTwice - rssAfter, 1),
    },
    samples,
  };
}

/** The reference server's first executions and its cheapest query, on one connection, then its throughput at 32 connections. */
async function measureReference(bare: BenchServer, r: number, N: number) {
  const base = { url: bare.url, token: bare.token };
  const first = requireClean(
    await load({ ...base, body: createIdentity(`r${r}-ref-%N%`), connections: 1, amount: N, expectText: CREATED }),
  );
  const noop = requireClean(await load({ ...base, body: NOOP, connections: 1, amount: N, expectText: '"workspace"' }));
  const throughput = requireClean(
    await load({ ...base, body: createIdentity(`r${r}-reftput-%N%`), connections: 32, durationS: 3, expectText: CREATED }),
  );
  return { first, noop, throughput };
}

/** Each figure's median over the rounds (ratios were taken within each round). */
export function summarize(rounds: Record<string, number>[]): Record<string, number> {
  const summary: Record<string, number> = {};
  for (const name of Object.keys(rounds[0]!)) summary[name] = round(median(rounds.map((row) => row[name]!)));
  return summary;
}
