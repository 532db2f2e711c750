import { setTimeout as sleep } from "node:timers/promises";
import { CreateCardDocument, type CreateCardMutation } from "@onceql/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { startTestIssuer, type TestIssuer } from "../helpers/issuer.ts";
import { CREATE_IDENTITY } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

/** Slow, within the issuer's 5 s timeout: a createCard makes two calls (list, then create). */
const ISSUER_DELAY_MS = 3_000;
const A_CARDS = 30;
/** Within A's rate limit (1000 a second, the 30 cards included). */
const A_IDENTITIES = 900;
/** B keeps calling for this long while A's load runs: past the slow cards' first round (two calls of 3 s). */
const LOADED_MS = 8_000;
/** Requests with bad tokens fired at once (issue 25's figure). */
const BAD_TOKENS = 2_000;

const READ_IDENTITY = /* GraphQL */ `
  query ReadIdentity($id: ID!) { identity(id: $id) { id externalId cards { id status } } workspace { name } }
`;

interface Timed {
  ms: number;
  status: number;
  ok: boolean;
  detail: string;
}

/**
 * One server at its default settings (a pool of 10), two workspaces. A holds the card issuer's slow
 * calls and floods the server with mutations; B's reads and mutations, and /readyz, keep answering.
 */
describe.skipIf(!postgresAvailable())("one workspace's load does not take the server from another", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let issuer: TestIssuer;
  let t: TestApp;
  let a: string;
  let b: string;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    issuer = await startTestIssuer({ cardLimit: 5 });
    // One proxy in front (X-Forwarded-For), so the bad-token flood can come from many addresses.
    t = await startTestApp({ databaseUrl: database.url, config: { issuerUrl: issuer.url, trustedProxyHops: 1 } });
    [a, b] = [await t.newWorkspace("tenant-a"), await t.newWorkspace("tenant-b")];
  });
  afterAll(async () => {
    await t?.close();
    await issuer?.close();
    await database?.drop();
  });

  const createIdentity = (token: string, clientMutationId: string) =>
    t.gql(CREATE_IDENTITY, { input: { clientMutationId, externalId: clientMutationId } }, { token });
  const createCard = (clientMutationId: string, identityId: string) =>
    t.request<CreateCardMutation>(CreateCardDocument, { input: { clientMutationId, identityId } }, { token: a });

  async function identityOf(token: string, key: string): Promise<string> {
    const response = await createIdentity(token, key);
    const id = response.body.data?.createIdentity?.identity?.id;
    if (!id) throw new Error(`setup failed: ${response.text}`);
    return id;
  }

  /** One round of B's: a read of its identity with its cards, a new identity, and /readyz. */
  async function bRound(identityId: string, n: number): Promise<{ read: Timed; write: Timed; ready: Timed }> {
    const timed = async (call: () => Promise<{ status: number; ok: boolean; detail: string }>): Promise<Timed> => {
      const started = performance.now();
      const answer = await call();
      return { ...answer, ms: performance.now() - started };
    };
    const [read, write, ready] = await Promise.all([
      timed(async () => {
        const r = await t.gql(READ_IDENTITY, { id: identityId }, { token: b });
        return { status: r.status, ok: r.body.data?.identity?.id === identityId && !r.body.errors, detail: r.text.slice(0, 300) };
      }),
      timed(async () => {
        const r = await createIdentity(b, `b-${n}`);
        const ok = r.body.data?.createIdentity?.__typename === "CreateIdentityPayload" && !r.body.errors;
        return { status: r.status, ok, detail: r.text.slice(0, 300) };
      }),
      timed(async () => {
        const r = await t.fetch("/readyz");
        const text = await r.text();
        return { status: r.status, ok: r.status === 200, detail: text };
      }),
    ]);
    return { read, write, ready };
  }

  it("B's reads, mutations and /readyz answer while A holds slow issuer calls and floods mutations; A's excess is DATABASE_BUSY, and each of A's calls, retried, happens once", async () => {
    const bIdentity = await identityOf(b, "b-holder");
    const aIdentities = await Promise.all(Array.from({ length: A_CARDS }, (_, i) => identityOf(a, `a-holder-${i}`)));

    // Unloaded: B's figures on this machine, now.
    for (let n = 0; n < 5; n++) await bRound(bIdentity, -1 - n);
    const unloaded: Timed[] = [];
    for (let n = 0; n < 30; n++) {
      const round = await bRound(bIdentity, n);
      unloaded.push(round.read, round.write);
    }

    await issuer.faults({ delayMs: ISSUER_DELAY_MS });
    const cards = aIdentities.map((identityId, i) => createCard(`a-card-${i}`, identityId));
    await sleep(300);
    const identities = Array.from({ length: A_IDENTITIES }, (_, i) => createIdentity(a, `a-load-${i}`));

    const loaded: Timed[] = [];
    const ready: Timed[] = [];
    const until = performance.now() + LOADED_MS;
    for (let n = 1_000; performance.now() < until; n++) {
      const round = await bRound(bIdentity, n);
      loaded.push(round.read, round.write);
      ready.push(round.ready);
    }
    const [cardAnswers, identityAnswers] = await Promise.all([Promise.all(cards), Promise.all(identities)]);
    await issuer.clearFaults();

    const unloadedP99 = percentile(
      unloaded.map((r) => r.ms),
      0.99,
    );
    const loadedP99 = percentile(
      loaded.map((r) => r.ms),
      0.99,
    );
    const readyP99 = percentile(
      ready.map((r) => r.ms),
      0.99,
    );
    // Generous: a loaded 2-core machine stalls on its own (the 900 requests fired at once are parsed
    // in this very process), and one stall is a percent of the samples; what fails is B waiting
    // behind A (seconds, then a 503).
    const bound = Math.min(3_000, Math.max(1_500, 20 * unloadedP99));
    console.info(
      `fairness: B unloaded p99 ${unloadedP99.toFixed(1)} ms, loaded p99 ${loadedP99.toFixed(1)} ms (${(loadedP99 / unloadedP99).toFixed(1)}×) over ${loaded.length} requests; max ${Math.max(...loaded.map((r) => r.ms)).toFixed(1)} ms; /readyz p99 ${readyP99.toFixed(1)} ms, max ${Math.max(...ready.map((r) => r.ms)).toFixed(1)} ms over ${ready.length}; bound ${bound.toFixed(0)} ms`,
    );
    // B: every request answered with data, none refused, /readyz ready throughout.
    expect(loaded.filter((r) => !r.ok || r.status !== 200).map((r) => r.detail)).toEqual([]);
    expect(ready.filter((r) => !r.ok).map((r) => `${r.status} ${r.detail}`)).toEqual([]);
    expect(loadedP99).toBeLessThan(bound);
    expect(readyP99).toBeLessThan(bound);

    // A: answered, or refused as busy with a hint; never "unavailable".
    const aErrors = [
      ...cardAnswers.flatMap((r) => r.errors ?? []),
      ...identityAnswers.flatMap((r) => (r.body.errors ?? []) as { extensions?: Record<string, unknown> }[]),
    ];
    const codes = new Set(aErrors.map((e) => e.extensions?.code));
    expect([...codes]).toEqual(["DATABASE_BUSY"]);
    for (const error of aErrors) {
      expect(error.extensions).toMatchObject({ outcome: "NOT_STORED" });
      expect(error.extensions?.retryAfterMs).toBeGreaterThan(0);
    }
    const busyCards = cardAnswers.filter((r) => r.errors?.length).length;
    const busyIdentities = identityAnswers.filter((r) => r.body.errors?.length).length;
    console.info(`fairness: A's refused as busy: ${busyCards} of ${A_CARDS} cards, ${busyIdentities} of ${A_IDENTITIES} identities`);
    expect(busyCards).toBeGreaterThan(0);

    // A's calls, retried with their keys until answered: each ran exactly once.
    const executed = new Map<string, number>();
    const count = (key: string, status: string | undefined) => {
      if (status === "EXECUTED") executed.set(key, (executed.get(key) ?? 0) + 1);
    };
    for (const [i, r] of cardAnswers.entries()) count(`a-card-${i}`, r.extensions?.idempotency?.[0]?.status);
    for (const [i, r] of identityAnswers.entries()) count(`a-load-${i}`, r.body.extensions?.idempotency?.[0]?.status);
    const cardIds = new Map<number, string>();
    for (const [i, identityId] of aIdentities.entries()) {
      for (;;) {
        const r = await createCard(`a-card-${i}`, identityId);
        count(`a-card-${i}`, r.extensions?.idempotency?.[0]?.status);
        const card = r.data?.createCard;
        if (card?.__typename === "CreateCardPayload") {
          cardIds.set(i, card.card.id);
          break;
        }
        expect(r.errors?.[0]?.extensions?.code).toBe("DATABASE_BUSY");
        await sleep(Number(r.errors?.[0]?.extensions?.retryAfterMs ?? 100));
      }
    }
    for (let i = 0; i < A_IDENTITIES; i++) {
      for (;;) {
        const r = await createIdentity(a, `a-load-${i}`);
        count(`a-load-${i}`, r.body.extensions?.idempotency?.[0]?.status);
        if (r.body.data?.createIdentity?.__typename === "CreateIdentityPayload") break;
        expect(r.body.errors?.[0]?.extensions?.code).toBe("DATABASE_BUSY");
        await sleep(Number(r.body.errors?.[0]?.extensions?.retryAfterMs ?? 100));
      }
    }
    expect([...executed.values()].every((n) => n === 1)).toBe(true);
    expect(executed.size).toBe(A_CARDS + A_IDENTITIES);
    for (const [i, identityId] of aIdentities.entries()) {
      expect(issuer.cardsOf(identityId).map((card) => card.id)).toEqual([cardIds.get(i)]);
    }
    expect(await t.db.prisma.card.count({ where: { identityId: { in: aIdentities } } })).toBe(A_CARDS);
    expect(await t.db.prisma.identity.count({ where: { externalId: { startsWith: "a-load-" } } })).toBe(A_IDENTITIES);
  });

  it("B's reads, mutations and /readyz answer while 2000 requests with bad tokens arrive at once; the flood gets 401 and 429 only", async () => {
    const bIdentity = await identityOf(b, "b-holder-flood");
    const unloaded: Timed[] = [];
    for (let n = 0; n < 20; n++) {
      const round = await bRound(bIdentity, 2_000 + n);
      unloaded.push(round.read, round.write);
    }
    // Well-formed (B's own, its secret shuffled), so each would cost a lookup if nothing bounded them.
    const cut = b.lastIndexOf("_") + 1;
    const shuffled = () => `${b.slice(0, cut)}${[...b.slice(cut)].sort(() => Math.random() - 0.5).join("")}`;
    // From 50 addresses, 40 each: past each one's limit of failures, and most still a lookup.
    const flood = Array.from({ length: BAD_TOKENS }, (_, i) =>
      t.gql("{ workspace { name } }", {}, { token: shuffled(), headers: { "x-forwarded-for": `198.51.100.${i % 50}` } }),
    );
    const loaded: Timed[] = [];
    const ready: Timed[] = [];
    const until = performance.now() + 4_000;
    for (let n = 3_000; performance.now() < until; n++) {
      const round = await bRound(bIdentity, n);
      loaded.push(round.read, round.write);
      ready.push(round.ready);
    }
    const answers = await Promise.all(flood);
    const bound = Math.min(
      3_000,
      Math.max(
        1_500,
        20 *
          percentile(
            unloaded.map((r) => r.ms),
            0.99,
          ),
      ),
    );
    expect(loaded.filter((r) => !r.ok || r.status !== 200).map((r) => r.detail)).toEqual([]);
    expect(ready.filter((r) => !r.ok).map((r) => `${r.status} ${r.detail}`)).toEqual([]);
    expect(
      percentile(
        loaded.map((r) => r.ms),
        0.99,
      ),
    ).toBeLessThan(bound);
    expect(new Set(answers.map((r) => r.status))).toEqual(new Set([401, 429]));
  });
});

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

/** The pool's every connection taken for longer than a request may wait: busy, not unreachable. */
describe.skipIf(!postgresAvailable())("a pool with no connection free in time", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let t: TestApp;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    t = await startTestApp({ databaseUrl: database.url, poolSize: 2 });
  });
  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  it("a read waiting past the pool's timeout is DATABASE_BUSY with retryAfterMs, never DATABASE_UNAVAILABLE; /readyz stays 200", async () => {
    const identity = (await t.gql(CREATE_IDENTITY, { input: { clientMutationId: "holder", externalId: "holder" } })).body.data
      .createIdentity.identity.id;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = 0;
    // Both connections, in transactions of the server's own client, past the pool's 5 s checkout timeout.
    const holders = [0, 1].map(() =>
      t.db.prisma.$transaction(
        async (tx) => {
          await tx.$queryRaw`SELECT 1`;
          held++;
          await released;
        },
        { timeout: 20_000, maxWait: 20_000 },
      ),
    );
    try {
      await expect.poll(() => held).toBe(2);
      const reading = t.gql(READ_IDENTITY, { id: identity });
      await sleep(500);
      const ready = await t.fetch("/readyz");
      expect([ready.status, await ready.text()]).toEqual([200, "ready\n"]);
      const read = await reading;
      expect(read.body.errors?.[0]?.extensions).toMatchObject({ code: "DATABASE_BUSY" });
      expect(read.body.errors[0].extensions.retryAfterMs).toBeGreaterThan(0);
    } finally {
      release();
      await Promise.all(holders);
    }
    expect((await t.gql(READ_IDENTITY, { id: identity })).body.data.identity.id).toBe(identity);
  });
});
