import { randomUUID } from "node:crypto";
import { setImmediate as nextTurn } from "node:timers/promises";
import { expect } from "vitest";

/** Whether `actual` matches `expected` (asymmetric matchers included), without failing. */
function equals(actual: unknown, expected: unknown): boolean {
  try {
    expect(actual).toEqual(expected);
    return true;
  } catch {
    return false;
  }
}

import { Authenticator } from "../../src/auth/authenticate.ts";
import type { TestApp } from "./test-app.ts";

/**
 * What the attempt-isolation tests share (attempt-isolation.test.ts on PGlite, .pg.test.ts on
 * PostgreSQL): requests fired in the same tick, each of them bound, so that an engine that stops
 * answering fails the test that locked it, with the request it was waiting for, instead of timing
 * out the whole file.
 */

/** Far longer than any of these requests takes on a loaded machine; a request past it is taken as hung. */
export const ANSWER_WITHIN_MS = 20_000;

/** `work`, or a failure naming it once it has not settled within ANSWER_WITHIN_MS. */
export async function answered<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`request hung: ${what} (no answer in ${ANSWER_WITHIN_MS / 1000} s)`)), ANSWER_WITHIN_MS);
  });
  try {
    return await Promise.race([work, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Every one of `requests`, once all have settled: a request that hung or failed does not leave the
 * others unheard (no unhandled rejection), and the failure lists every request that hung.
 */
export async function all<T>(requests: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(requests);
  const failures = settled.flatMap((result) =>
    result.status === "rejected" ? [String((result.reason as Error)?.message ?? result.reason)] : [],
  );
  if (failures.length > 0) {
    const shown = failures.slice(0, 6).join("; ") + (failures.length > 6 ? `; and ${failures.length - 6} more` : "");
    throw new Error(`${failures.length} of ${requests.length} requests failed: ${shown}`);
  }
  return settled.map((result) => (result as PromiseFulfilledResult<T>).value);
}

/** One operation as a client sends it (one element of a JSON batch). */
export interface Operation {
  query: string;
  variables?: Record<string, unknown>;
}

/** What a user sees of one operation's answer. */
export interface Answer {
  /** HTTP status of the response (one operation's own, not a batch's). */
  status?: number;
  extensions?: { idempotency?: { field: string; status: string }[] };
  // biome-ignore lint/suspicious/noExplicitAny: each test reads the fields of its own operation.
  data?: any;
  errors?: { message: string; extensions?: { code?: string; outcome?: string } }[];
}

/**
 * POSTs `body` to /graphql as it is: one operation, or an array of them (a JSON batch, as Apollo's
 * BatchHttpLink sends). Started at once, in the caller's tick; bound by ANSWER_WITHIN_MS.
 */
export async function post(
  t: TestApp,
  what: string,
  body: Operation | Operation[],
  token = t.token,
): Promise<{ status: number; answer: Answer | Answer[] }> {
  const response = t.fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return answered(
    what,
    response.then(async (r) => ({ status: r.status, answer: (await r.json()) as Answer | Answer[] })),
  );
}

/** One operation, its answer read as a user reads it. */
export async function send(t: TestApp, what: string, operation: Operation, token = t.token): Promise<Answer & { status: number }> {
  const { status, answer } = await post(t, what, operation, token);
  return { status, ...(answer as Answer) };
}

/** A JSON batch: one POST whose body is an array of operations, its answers in order. */
export async function sendBatch(t: TestApp, what: string, operations: Operation[], token = t.token): Promise<Answer[]> {
  const { status, answer } = await post(t, what, operations, token);
  expect(status, `${what}: HTTP status`).toBe(200);
  expect(Array.isArray(answer), `${what}: a JSON batch is answered with an array`).toBe(true);
  return answer as Answer[];
}

/** Lets everything already started run on (a turn of the event loop); no timing is implied. */
export const aTurnLater = () => nextTurn();

/** That the answer has data for `field` of `__typename` and no error; the field's value. */
// biome-ignore lint/suspicious/noExplicitAny: the value is read by the caller's own selection.
export function dataOf(answer: Answer, field: string, typename?: string, what = field): any {
  expect(answer.errors, `${what}: errors ${JSON.stringify(answer.errors)}`).toBeUndefined();
  const value = answer.data?.[field];
  expect(value, `${what}: no data in ${JSON.stringify(answer)}`).toBeTruthy();
  if (typename) expect(value.__typename, `${what}: ${JSON.stringify(value)}`).toBe(typename);
  return value;
}

/**
 * The server still answers: /readyz says 200, and a mutation that needs the database answers
 * with data (an engine locked by an earlier request would leave both waiting).
 */
export async function expectStillServing(t: TestApp): Promise<void> {
  const ready = await answered("GET /readyz", t.fetch("/readyz"));
  expect(ready.status, "GET /readyz").toBe(200);
  const after = await send(t, "a further createWallet", {
    query: CREATE_WALLET,
    variables: { input: { clientMutationId: `after-${randomUUID()}`, name: "after" } },
  });
  dataOf(after, "createWallet", "CreateWalletPayload", "a further createWallet");
}

/**
 * Opens the server's pool connections as a day's traffic would have: `count` concurrent mutations,
 * each an attempt on a connection of its own. Later attempts then begin without waiting for a
 * connection to be made, so that the requests a test fires in one tick also run their first
 * queries in one tick, as they do on a busy server.
 */
export async function warmUp(t: TestApp, count = 8): Promise<void> {
  const made = await all(
    Array.from({ length: count }, (_, i) =>
      send(t, `warm-up createWallet ${i + 1}`, {
        query: CREATE_WALLET,
        variables: { input: { clientMutationId: `warm-${randomUUID()}`, name: "warm" } },
      }),
    ),
  );
  for (const answer of made) dataOf(answer, "createWallet", "CreateWalletPayload", "a warm-up createWallet");
}

/** Closes an app, giving up after a while: an engine a test locked must not hang the file's other tests. */
export async function closeEventually(...apps: (TestApp | undefined)[]): Promise<void> {
  await Promise.all(
    apps.map((app) =>
      app ? Promise.race([app.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5_000).unref())]) : undefined,
    ),
  );
}

// The operations, written as a client would; each selects what the bug needs to show.

export const CREATE_IDENTITY = /* GraphQL */ `
  mutation CreateIdentity($input: CreateIdentityInput!) {
    createIdentity(input: $input) {
      __typename
      ... on CreateIdentityPayload { identity { id externalId } }
      ... on UserError { code message }
    }
  }
`;

export const CREATE_WALLET = /* GraphQL */ `
  mutation CreateWallet($input: CreateWalletInput!) {
    createWallet(input: $input) {
      __typename
      ... on CreateWalletPayload { wallet { id name } }
    }
  }
`;

export const CREATE_KEY = /* GraphQL */ `
  mutation CreateKey($input: CreateKeyInput!) {
    createKey(input: $input) {
      __typename
      ... on CreateKeyPayload { key { id name identity { id } } }
      ... on UserError { code message }
    }
  }
`;

/** Selects the card's identity: a relation the Prisma plugin loads with a findUnique of the card. */
export const CREATE_CARD = /* GraphQL */ `
  mutation CreateCard($input: CreateCardInput!) {
    createCard(input: $input) {
      __typename
      ... on CreateCardPayload { card { id identity { id } } }
      ... on UserError { code message }
    }
  }
`;

export const CREDIT_WALLET = /* GraphQL */ `
  mutation CreditWallet($input: CreditWalletInput!) {
    creditWallet(input: $input) {
      __typename
      ... on CreditWalletPayload { transaction { id } }
      ... on UserError { code message }
    }
  }
`;

export const DEBIT_WALLET = /* GraphQL */ `
  mutation DebitWallet($input: DebitWalletInput!) {
    debitWallet(input: $input) {
      __typename
      ... on DebitWalletPayload { transaction { id } hold { id status } }
      ... on UserError { code message }
    }
  }
`;

export const CONFIRM_HOLD = /* GraphQL */ `
  mutation ConfirmHold($input: ConfirmHoldInput!) {
    confirmHold(input: $input) {
      __typename
      ... on ConfirmHoldPayload { hold { id status } transaction { id } }
      ... on HoldNotPendingError { status }
      ... on UserError { code message }
    }
  }
`;

export const IDENTITY = /* GraphQL */ `
  query Identity($id: ID!) {
    identity(id: $id) { id externalId }
  }
`;

export const CARD = /* GraphQL */ `
  query Card($id: ID!) {
    card(id: $id) { id identity { id } }
  }
`;

export const WALLET = /* GraphQL */ `
  query Wallet($id: ID!) {
    wallet(id: $id) { id name }
  }
`;

export const KEY = /* GraphQL */ `
  query Key($id: ID!) {
    key(id: $id) { id name }
  }
`;

/** A new identity's id, made through the API. */
export async function newIdentity(t: TestApp, externalId: string, token = t.token): Promise<string> {
  const created = await send(
    t,
    `createIdentity ${externalId}`,
    { query: CREATE_IDENTITY, variables: { input: { clientMutationId: `identity-${randomUUID()}`, externalId } } },
    token,
  );
  return dataOf(created, "createIdentity", "CreateIdentityPayload").identity.id;
}

/** A new wallet's id, made through the API. */
export async function newWalletId(t: TestApp, name: string, token = t.token): Promise<string> {
  const created = await send(
    t,
    `createWallet ${name}`,
    { query: CREATE_WALLET, variables: { input: { clientMutationId: `wallet-${randomUUID()}`, name } } },
    token,
  );
  return dataOf(created, "createWallet", "CreateWalletPayload").wallet.id;
}

/** A card of the identity, made through the API. */
export async function newCardId(t: TestApp, identityId: string, token = t.token): Promise<string> {
  const created = await send(
    t,
    `createCard for ${identityId}`,
    { query: CREATE_CARD, variables: { input: { clientMutationId: `card-${randomUUID()}`, identityId } } },
    token,
  );
  return dataOf(created, "createCard", "CreateCardPayload").card.id;
}

// The cases, run on each engine by attempt-isolation.test.ts and attempt-isolation.pg.test.ts.

/** Where a case's requests go: `a` and `b` are two apps on one database (the same app on PGlite). */
export interface Servers {
  a: TestApp;
  b: TestApp;
}

/**
 * A JSON batch of a query and a mutation (Apollo's BatchHttpLink): the query's findUnique and the
 * mutation's own ("made earlier") findUnique go out in one tick. Then the server still answers.
 */
export async function queryAndMutationInOneBatch(
  t: TestApp,
  variant: "identity and createKey" | "key and createKey" | "card and createCard",
) {
  const identityId = await newIdentity(t, `batch-holder-${randomUUID()}`);
  const key = randomUUID();
  const [query, mutation]: [Operation, Operation] =
    variant === "identity and createKey"
      ? [
          { query: IDENTITY, variables: { id: identityId } },
          { query: CREATE_KEY, variables: { input: { clientMutationId: key, name: key } } },
        ]
      : variant === "key and createKey"
        ? [
            { query: KEY, variables: { id: randomUUID() } },
            { query: CREATE_KEY, variables: { input: { clientMutationId: key, name: key } } },
          ]
        : [
            { query: CARD, variables: { id: randomUUID() } },
            { query: CREATE_CARD, variables: { input: { clientMutationId: key, identityId } } },
          ];
  const [read, written] = await sendBatch(t, `a JSON batch [${variant}]`, [query, mutation]);
  expect(read!.errors, `the batch's query: ${JSON.stringify(read)}`).toBeUndefined();
  if (variant === "identity and createKey") expect(read!.data).toEqual({ identity: { id: identityId, externalId: expect.any(String) } });
  else expect(read!.data).toEqual(variant === "key and createKey" ? { key: null } : { card: null });
  if (variant === "card and createCard") {
    expect(dataOf(written!, "createCard", "CreateCardPayload", "the batch's createCard").card.identity).toEqual({ id: identityId });
    expect(await t.db.prisma.card.count({ where: { identityId } })).toBe(1);
  } else {
    dataOf(written!, "createKey", "CreateKeyPayload", "the batch's createKey");
    expect(await t.db.prisma.apiKey.count({ where: { name: key } })).toBe(1);
  }
  await expectStillServing(t);
}

/** Mutations that call no issuer, each with a key of its own. */
const PLAIN = [
  {
    field: "createKey",
    payload: "CreateKeyPayload",
    operation: (): Operation => ({ query: CREATE_KEY, variables: { input: { clientMutationId: `plain-${randomUUID()}`, name: "plain" } } }),
  },
  {
    field: "createIdentity",
    payload: "CreateIdentityPayload",
    operation: (): Operation => ({
      query: CREATE_IDENTITY,
      variables: { input: { clientMutationId: `plain-${randomUUID()}`, externalId: `plain-${randomUUID()}` } },
    }),
  },
  {
    field: "createWallet",
    payload: "CreateWalletPayload",
    operation: (): Operation => ({
      query: CREATE_WALLET,
      variables: { input: { clientMutationId: `plain-${randomUUID()}`, name: "plain" } },
    }),
  },
];

/**
 * `cards` concurrent createCard (distinct identities, distinct keys) selecting `card { id identity { id } }`,
 * fired in one tick beside plain mutations (createKey, createIdentity, createWallet) on one server:
 * every request answers with data, one card per identity; then both servers still answer.
 */
export async function createCardsBesidePlainMutations(servers: Servers, cards: number, plain: number) {
  const { a, b } = servers;
  const identities: string[] = [];
  for (let i = 0; i < cards; i++) identities.push(await newIdentity(a, `card-holder-${i}-${randomUUID()}`));
  const creations = identities.map((identityId, i) =>
    send(a, `createCard ${i + 1} of ${cards}`, {
      query: CREATE_CARD,
      variables: { input: { clientMutationId: `card-${randomUUID()}`, identityId } },
    }),
  );
  // createKey first: its own findUnique ("made earlier") goes out in the same ticks as the cards' lookups.
  const plainOnes = Array.from({ length: plain }, (_, i) => {
    const kind = PLAIN[i % PLAIN.length]!;
    return send(a, `${kind.field} beside the cards (${i + 1})`, kind.operation());
  });
  const answers = await all([...creations, ...plainOnes]);
  const [created, others] = [answers.slice(0, cards), answers.slice(cards)];
  created.forEach((answer, i) => {
    expect(answer.status).toBe(200);
    const card = dataOf(answer, "createCard", "CreateCardPayload", `createCard ${i + 1} of ${cards}`).card;
    expect(card.identity).toEqual({ id: identities[i] });
  });
  others.forEach((answer, i) => {
    const kind = PLAIN[i % PLAIN.length]!;
    expect(answer.status).toBe(200);
    dataOf(answer, kind.field, kind.payload, `${kind.field} beside the cards (${i + 1})`);
  });
  for (const identityId of identities) expect(await a.db.prisma.card.count({ where: { identityId } }), `cards of ${identityId}`).toBe(1);
  await expectStillServing(a);
  if (b !== a) await expectStillServing(b);
}

const MAX_BIGINT = "9223372036854775807";

/** How A's attempts in readsOfOneWorkspaceWhileAnotherAborts fail inside their transaction, and what each answers. */
const ABORTING = [
  { kind: "creditWallet of an unknown wallet", field: "creditWallet", answer: "WalletNotFoundError" },
  { kind: "createCard for an unknown identity (after its SET LOCAL)", field: "createCard", answer: "IdentityNotFoundError" },
  { kind: "confirmHold of an unknown hold", field: "confirmHold", answer: "HoldNotFoundError" },
] as const;

/**
 * 60 reads of workspace B (identity, card and wallet by id: each a findUnique) fired in the same
 * ticks as workspace A's attempts that fail inside their transaction: an unknown identity after a
 * write (createCard's SET LOCAL), an unknown hold, an unknown wallet, and a replay of a key made on
 * the other server, whose claim ends its transaction (creditsPastTheLimitTogether has the
 * statement errors). Every token
 * lookup misses the cache, as each does when its entry has just expired on a live server; each
 * read starts a few microtasks later than the one before, so that the reads meet A's attempts at
 * every step. Every read of B answers with its data; A's answers are what they should be; nothing
 * of A's failed attempts is kept.
 */
export async function readsOfOneWorkspaceWhileAnotherAborts(servers: Servers, issuerCards: (identityId: string) => unknown[]) {
  const { a, b } = servers;
  const tokenB = await a.newWorkspace("workspace B");
  const identityB = await newIdentity(a, "b-holder", tokenB);
  const cardB = await newCardId(a, identityB, tokenB);
  const walletB = await newWalletId(a, "b-wallet", tokenB);
  const waves = 20;
  const serverOf = (wave: number) => (wave % 2 === 0 ? a : b);
  const replays: { operation: Operation; answer: unknown }[] = [];
  for (let wave = 0; wave < waves; wave++) {
    const key = `replayed-${wave}-${randomUUID()}`;
    const operation = { query: CREATE_KEY, variables: { input: { clientMutationId: key, name: key } } };
    const made = await send(serverOf(wave + 1), `createKey ${key} on the other server`, operation);
    replays.push({ operation, answer: dataOf(made, "createKey", "CreateKeyPayload") });
  }
  const ledgerBefore = await a.db.prisma.ledgerTransaction.count();
  for (const server of new Set([a, b])) server.app.services.auth = new Authenticator(server.db.prisma, { ttlMs: 1, failuresPerMinute: 0 });

  const failing: Promise<Answer>[] = [];
  const replayed: Promise<Answer>[] = [];
  const reads: { expected: Record<string, unknown>; answer: Promise<Answer> }[] = [];
  const readsOfB = [
    { query: IDENTITY, id: identityB, expected: { identity: { id: identityB, externalId: "b-holder" } } },
    { query: CARD, id: cardB, expected: { card: { id: cardB, identity: { id: identityB } } } },
    { query: WALLET, id: walletB, expected: { wallet: { id: walletB, name: "b-wallet" } } },
  ];
  for (let wave = 0; wave < waves; wave++) {
    const server = serverOf(wave);
    const clientMutationId = `abort-${wave}-${randomUUID()}`;
    const operation: Operation = [
      () => ({
        query: CREDIT_WALLET,
        variables: { input: { clientMutationId, walletId: randomUUID(), amount: { asset: "USD/2", value: "1" } } },
      }),
      () => ({ query: CREATE_CARD, variables: { input: { clientMutationId, identityId: randomUUID() } } }),
      () => ({ query: CONFIRM_HOLD, variables: { input: { clientMutationId, holdId: randomUUID() } } }),
    ][wave % ABORTING.length]!();
    replayed.push(send(server, `A's replay of a key made on the other server (wave ${wave})`, replays[wave]!.operation));
    failing.push(send(server, `A's ${ABORTING[wave % ABORTING.length]!.kind} (wave ${wave})`, operation));
    for (const read of readsOfB) {
      for (let skip = reads.length % 12; skip > 0; skip--) await Promise.resolve();
      reads.push({
        expected: read.expected,
        answer: send(server, `B's read ${reads.length + 1} of 60`, { query: read.query, variables: { id: read.id } }, tokenB),
      });
    }
    await aTurnLater();
  }
  const settled = await all([...reads.map((read) => read.answer), ...replayed, ...failing]);
  const expected = [
    ...reads.map((read, i) => ({ what: `B's read ${i + 1} of 60`, data: read.expected })),
    ...replays.map((replay, wave) => ({ what: `A's replay (wave ${wave})`, data: { createKey: replay.answer } })),
    ...failing.map((_, wave) => {
      const { kind, field, answer } = ABORTING[wave % ABORTING.length]!;
      return { what: `A's ${kind} (wave ${wave})`, data: { [field]: expect.objectContaining({ __typename: answer }) } };
    }),
  ];
  const wrong = settled.flatMap((answer, i) => {
    const { what, data } = expected[i]!;
    const right = answer.status === 200 && !answer.errors && equals(answer.data, data);
    return right ? [] : [`${what}: ${JSON.stringify({ data: answer.data, errors: answer.errors?.map((e) => e.extensions) })}`];
  });
  expect(wrong, `${wrong.length} of ${settled.length} answers wrong (60 reads of B, then A's)`).toEqual([]);
  expect(await a.db.prisma.ledgerTransaction.count(), "ledger transactions: none of A's").toBe(ledgerBefore);
  expect(issuerCards(identityB)).toHaveLength(1);
  await expectStillServing(a);
}

/**
 * confirmHold of a hold past its expiry: under the wallet's lock the attempt expires the hold (an
 * uncommitted write of its own), then reads it again with findUnique; meanwhile other requests'
 * findUniques go out in the same ticks. The re-read must be the attempt's own, in its transaction:
 * the answer is HOLD_NOT_PENDING (EXPIRED), and the funds went back once.
 */
export async function expiredHoldReadAgainUnderItsLock(servers: Servers) {
  const { a, b } = servers;
  const tokenB = await a.newWorkspace("workspace B");
  const identityB = await newIdentity(a, "b-reader", tokenB);
  const walletId = await newWalletId(a, "a-held");
  dataOf(
    await send(a, "credit 100", {
      query: CREDIT_WALLET,
      variables: { input: { clientMutationId: `credit-${randomUUID()}`, walletId, amount: { asset: "USD/2", value: "100" } } },
    }),
    "creditWallet",
    "CreditWalletPayload",
  );
  const debited = await send(a, "a pending debit of 40", {
    query: DEBIT_WALLET,
    variables: {
      input: {
        clientMutationId: `debit-${randomUUID()}`,
        walletId,
        amount: { asset: "USD/2", value: "40" },
        pending: true,
        holdExpiresInSeconds: 3600,
      },
    },
  });
  const holdId = dataOf(debited, "debitWallet", "DebitWalletPayload").hold.id;
  // As if its hour had passed.
  await a.db.prisma.hold.updateMany({ where: { id: holdId }, data: { expiresAt: new Date(Date.now() - 60_000) } });

  const confirmed = send(a, "confirmHold of the expired hold", {
    query: CONFIRM_HOLD,
    variables: { input: { clientMutationId: `confirm-${randomUUID()}`, holdId } },
  });
  const reads: Promise<Answer>[] = [];
  for (let wave = 0; wave < 30; wave++) {
    const server = wave % 2 === 0 ? a : b;
    reads.push(send(server, `B's read ${wave + 1} of 30`, { query: IDENTITY, variables: { id: identityB } }, tokenB));
    await aTurnLater();
  }
  const [confirmation, ...readAnswers] = await all([confirmed, ...reads]);
  const answer = dataOf(confirmation!, "confirmHold", "HoldNotPendingError", "confirmHold of the expired hold");
  expect(answer).toMatchObject({ code: "HOLD_NOT_PENDING", status: "EXPIRED" });
  for (const [i, read] of readAnswers.entries()) {
    expect(read, `B's read ${i + 1}`).toEqual({ status: 200, data: { identity: { id: identityB, externalId: "b-reader" } } });
  }
  const hold = await a.db.prisma.hold.findFirstOrThrow({ where: { id: holdId } });
  expect(hold).toMatchObject({ status: "EXPIRED", remaining: 0n });
  await expectStillServing(a);
}

/**
 * A JSON batch `[replay of a key first made on the other server, a new key]`: the replay's own
 * lookups and the new attempt's go out in one tick on one server. Both answer with data, the
 * first replayed, the second executed; one key row each.
 */
export async function replayAndNewKeyAcrossServers(servers: Servers, mutation: "createKey" | "createCard") {
  const { a, b } = servers;
  const first = randomUUID();
  const fresh = randomUUID();
  const identityId = await newIdentity(a, `replayed-${first}`);
  const otherIdentityId = await newIdentity(a, `fresh-${fresh}`);
  const operation = (clientMutationId: string, holder: string): Operation =>
    mutation === "createKey"
      ? { query: CREATE_KEY, variables: { input: { clientMutationId, name: clientMutationId } } }
      : { query: CREATE_CARD, variables: { input: { clientMutationId, identityId: holder } } };
  const payload = mutation === "createKey" ? "CreateKeyPayload" : "CreateCardPayload";
  const made = await send(a, `${mutation} ${first} on the first server`, operation(first, identityId));
  const original = dataOf(made, mutation, payload, `${mutation} on the first server`);

  const [replayed, executed] = await sendBatch(b, `a JSON batch [replay of ${mutation}, new key] on the other server`, [
    operation(first, identityId),
    operation(fresh, otherIdentityId),
  ]);
  expect(dataOf(replayed!, mutation, payload, "the batch's replay")).toEqual(original);
  dataOf(executed!, mutation, payload, "the batch's new key");
  const statuses = [replayed, executed].map((answer) => answer!.extensions?.idempotency?.[0]?.status);
  expect(statuses).toEqual(["REPLAYED", "EXECUTED"]);
  if (mutation === "createKey") {
    expect(await a.db.prisma.apiKey.count({ where: { name: { in: [first, fresh] } } })).toBe(2);
  } else {
    expect(await a.db.prisma.card.count({ where: { identityId: { in: [identityId, otherIdentityId] } } })).toBe(2);
  }
  await expectStillServing(a);
  await expectStillServing(b);
}

/**
 * Ten credits of 1 to a wallet holding 2^63−1, sent together to one server (more attempts than
 * the connections warmUp opened, so that some begin on connections opened for them): each fails
 * with a statement error (22003) inside its own transaction, which must roll back to before the
 * mutation and store the answer: INVALID_INPUT for every one, and the balance untouched.
 */
export async function creditsPastTheLimitTogether(servers: Servers) {
  const { a } = servers;
  const walletId = await newWalletId(a, "full");
  const credit = (t: TestApp, what: string, value: string) =>
    send(t, what, {
      query: CREDIT_WALLET,
      variables: { input: { clientMutationId: `credit-${randomUUID()}`, walletId, amount: { asset: "USD/2", value } } },
    });
  dataOf(await credit(a, "a credit of 2^63−1", MAX_BIGINT), "creditWallet", "CreditWalletPayload");
  const ledgerBefore = await a.db.prisma.ledgerTransaction.count();
  const answers = await all(Array.from({ length: 10 }, (_, i) => credit(a, `credit ${i + 1} of 10 past 2^63−1`, "1")));
  const wrong = answers.flatMap((answer, i) =>
    answer.data?.creditWallet?.code === "INVALID_INPUT" && !answer.errors ? [] : [`credit ${i + 1}: ${JSON.stringify(answer)}`],
  );
  expect(wrong, `${wrong.length} of 10 credits past 2^63−1 answered other than INVALID_INPUT`).toEqual([]);
  expect(await a.db.prisma.ledgerTransaction.count()).toBe(ledgerBefore);
  await expectStillServing(a);
}
