// createCard (PostgreSQL): a new card for a new identity, one connection, with the issuer simulator
// on loopback in the server's process (as `npm start` runs it): its p50; and 20 keys at once for one
// identity, which queue on that identity's row lock while the first calls the issuer: how long the
// last of the 20 waited (every one of them answers with the one card).
import { type BenchServer, checked, load, requireClean } from "./harness.ts";
import { summarize } from "./identity-phases.ts";
import { median, percentile } from "./stats.ts";

const CARD = '"__typename":"CreateCardPayload"';
const RACES = 10;
const RACERS = 20;

const createCard = (key: string, identityId: string) =>
  JSON.stringify({
    query:
      "mutation($input: CreateCardInput!) { createCard(input: $input) { __typename ... on CreateCardPayload { card { id status last4 } } } }",
    variables: { input: { clientMutationId: key, identityId } },
  });

/** New identities' ids, 16 created at a time. */
async function newIdentities(server: BenchServer, prefix: string, count: number): Promise<string[]> {
  const create = async (externalId: string) => {
    const response = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${server.token}` },
      body: JSON.stringify({
        query:
          "mutation($input: CreateIdentityInput!) { createIdentity(input: $input) { ... on CreateIdentityPayload { identity { id } } } }",
        variables: { input: { clientMutationId: externalId, externalId } },
      }),
    });
    const body = (await response.json()) as { data?: { createIdentity?: { identity?: { id: string } } } };
    const id = body.data?.createIdentity?.identity?.id;
    if (!id) throw new Error(`bench setup failed: ${JSON.stringify(body)}`);
    return id;
  };
  const ids: string[] = [];
  for (let i = 0; i < count; i += 16) {
    ids.push(...(await Promise.all(Array.from({ length: Math.min(16, count - i) }, (_, j) => create(`${prefix}-${i + j}`)))));
  }
  return ids;
}

export async function measureCards(server: BenchServer, options: { rounds: number; requests: number; progress(what: string): void }) {
  const { rounds: ROUNDS, requests: N, progress } = options;
  const base = { url: server.url, token: server.token };
  progress("createCard: warming up");
  await load({
    ...base,
    body: createCard("card-warm-%N%", "%W%"),
    each: await newIdentities(server, "card-warm", 100),
    connections: 1,
    amount: 100,
  });

  const rounds: Record<string, number>[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    progress(`createCard: round ${r + 1} of ${ROUNDS}`);
    const holders = await newIdentities(server, `card-r${r}`, N);
    const first = await checked(
      server,
      "createCard",
      { ...base, body: createCard(`c${r}-first-%N%`, "%W%"), each: holders, connections: 1, amount: N, expectText: CARD },
      { executions: N },
    );
    const lastWaited: number[] = [];
    for (const [k, identityId] of (await newIdentities(server, `card-race-r${r}`, RACES)).entries()) {
      const race = requireClean(
        await load({ ...base, body: createCard(`c${r}-race${k}-%N%`, identityId), connections: RACERS, amount: RACERS, expectText: CARD }),
      );
      lastWaited.push(Math.max(...race.latenciesMs));
    }
    rounds.push({
      card_first_p50_ms: percentile(first.latenciesMs, 50),
      card_race_last_ms: median(lastWaited),
      card_race_last_worst_ms: Math.max(...lastWaited),
    });
  }
  return { summary: summarize(rounds), rounds };
}
