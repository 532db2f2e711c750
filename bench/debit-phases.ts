// debitWallet (immediate, from main): with the wrapper and without (the baseline app runs the same
// resolver in a transaction of its own), on distinct wallets; throughput at 32 connections on
// distinct wallets, with and without; and a hot wallet: 32 connections debiting one wallet.
import { BASELINE_HEADER } from "./baseline-runner.ts";
import { type BenchServer, checked, load, requireClean } from "./harness.ts";
import { summarize } from "./identity-phases.ts";
import type { Phase, PhaseResult } from "./load.ts";
import { percentile } from "./stats.ts";

const BASELINE = { [BASELINE_HEADER]: "1" };
const DEBITED = '"__typename":"DebitWalletPayload"';
const WALLETS = 256;
/** Enough for every debit of every round, a cent at a time. */
const FUNDS = "1000000000000";

const debit = (key: string, walletId: string) =>
  JSON.stringify({
    query:
      "mutation($input: DebitWalletInput!) { debitWallet(input: $input) { __typename ... on DebitWalletPayload { transaction { id postings { source destination amount { asset value } } } } } }",
    variables: { input: { clientMutationId: key, walletId, amount: { asset: "USD/2", value: "1" } } },
  });

async function graphql(
  server: BenchServer,
  query: string,
  variables: unknown,
): Promise<Record<string, { __typename: string } & Record<string, never>>> {
  const response = await fetch(`${server.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${server.token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, { __typename: string } & Record<string, never>>; errors?: unknown };
  if (!body.data || body.errors) throw new Error(`bench setup failed: ${JSON.stringify(body)}`);
  return body.data;
}

/** A funded wallet's id. */
async function fundedWallet(server: BenchServer, name: string): Promise<string> {
  const created = await graphql(
    server,
    "mutation($input: CreateWalletInput!) { createWallet(input: $input) { ... on CreateWalletPayload { wallet { id } } } }",
    {
      input: { clientMutationId: `bench-wallet-${name}`, name },
    },
  );
  const walletId = (created.createWallet as unknown as { wallet: { id: string } }).wallet.id;
  await graphql(server, "mutation($input: CreditWalletInput!) { creditWallet(input: $input) { __typename } }", {
    input: { clientMutationId: `bench-fund-${name}`, walletId, amount: { asset: "USD/2", value: FUNDS } },
  });
  return walletId;
}

export async function measureDebits(server: BenchServer, options: { rounds: number; requests: number; progress(what: string): void }) {
  const { rounds: ROUNDS, requests: N, progress } = options;
  const base = { url: server.url, token: server.token };
  progress(`debitWallet: funding ${WALLETS} wallets and a hot one`);
  const wallets: string[] = [];
  for (let i = 0; i < WALLETS; i += 16) {
    wallets.push(...(await Promise.all(Array.from({ length: Math.min(16, WALLETS - i) }, (_, j) => fundedWallet(server, `w${i + j}`)))));
  }
  const hot = await fundedWallet(server, "hot");
  const distinct = (key: string, extra: Partial<Phase> & { connections: number }): Phase => ({
    ...base,
    body: debit(key, "%W%"),
    each: wallets,
    expectText: DEBITED,
    ...extra,
  });
  await load(distinct("warm-%N%", { connections: 1, amount: 300 }));

  const rounds: Record<string, number>[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    progress(`debitWallet: round ${r + 1} of ${ROUNDS}`);
    const first = await checked(server, "debitWallet", distinct(`d${r}-first-%N%`, { connections: 1, amount: N }), { executions: N });
    const bare = await checked(server, "debitWallet", distinct(`d${r}-bare-%N%`, { connections: 1, amount: N, headers: BASELINE }), {});
    const withWrapper = requireClean(await load(distinct(`d${r}-tput-%N%`, { connections: 32, durationS: 3 })));
    const withoutWrapper = requireClean(await load(distinct(`d${r}-tbare-%N%`, { connections: 32, durationS: 3, headers: BASELINE })));
    const hotWallet = requireClean(
      await load({ ...base, body: debit(`d${r}-hot-%N%`, hot), connections: 32, durationS: 3, expectText: DEBITED }),
    );
    const p50 = (result: PhaseResult) => percentile(result.latenciesMs, 50);
    const rps = (result: PhaseResult) => result.requests / result.durationS;
    rounds.push({
      debit_first_p50_ms: p50(first),
      debit_bare_p50_ms: p50(bare),
      debit_overhead: p50(first) / p50(bare),
      debit_rps_with: rps(withWrapper),
      debit_rps_without: rps(withoutWrapper),
      debit_throughput_ratio: rps(withWrapper) / rps(withoutWrapper),
      debit_rps_hot: rps(hotWallet),
      debit_hot_p99_ms: percentile(hotWallet.latenciesMs, 99),
      hot_vs_distinct: rps(hotWallet) / rps(withWrapper),
    });
  }
  return { summary: summarize(rounds), rounds };
}
