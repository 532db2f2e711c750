import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { sweepExpiredHolds } from "../../../src/domains/wallets/hold.service.ts";
import { createPostgresDatabase, postgresAvailable } from "../../helpers/databases.ts";
import { startTestApp, type TestApp } from "../../helpers/test-app.ts";
import { as } from "../../helpers/typed.ts";
import { balancesOf, credit, expectLedgerSound, newWallet, USD } from "../../helpers/wallets.ts";

/** Races on PostgreSQL, where requests run truly in parallel: two servers on one database. */
describe.skipIf(!postgresAvailable())("the ledger under parallel requests, on PostgreSQL", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let servers: TestApp[];
  const money = (value: number) => ({ asset: USD, value: String(value) });
  const sdk = (i: number) => servers[i % 2]!.sdk({ token: servers[0]!.token });

  beforeAll(async () => {
    database = await createPostgresDatabase();
    servers = [await startTestApp({ databaseUrl: database.url }), await startTestApp({ databaseUrl: database.url })];
  });
  afterEach(() => expectLedgerSound(servers[0]!.db));
  afterAll(async () => {
    await Promise.all(servers?.map((server) => server.close()) ?? []);
    await database?.drop();
  });

  it("50 debits with one key: one transaction, 50 identical answers", async () => {
    const walletId = await newWallet(servers[0]!);
    await credit(servers[0]!, walletId, 1_000);
    const input = { clientMutationId: "one-key", walletId, amount: money(70) };
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => sdk(i).DebitWallet({ input })));
    for (const result of results) expect(result.data).toEqual(results[0]!.data);
    expect(results.filter((result) => !result.replayed)).toHaveLength(1);
    expect(await servers[0]!.db.prisma.ledgerTransaction.count({ where: { walletId, kind: "DEBIT" } })).toBe(1);
    expect(await balancesOf(servers[0]!, walletId)).toEqual({ main: 930n });
  });

  it("50 debits of 10 with distinct keys from a balance of 100: exactly 10 succeed, 40 INSUFFICIENT_FUNDS, the balance ends at 0", async () => {
    const walletId = await newWallet(servers[0]!);
    await credit(servers[0]!, walletId, 100);
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        sdk(i).DebitWallet({ input: { clientMutationId: `distinct-${i}`, walletId, amount: money(10) } }),
      ),
    );
    const kinds = results.map((result) => result.data.debitWallet?.__typename);
    expect(kinds.filter((kind) => kind === "DebitWalletPayload")).toHaveLength(10);
    expect(kinds.filter((kind) => kind === "InsufficientFundsError")).toHaveLength(40);
    expect(await balancesOf(servers[0]!, walletId)).toEqual({ main: 0n });
    expect(await servers[0]!.db.prisma.ledgerTransaction.count({ where: { walletId, kind: "DEBIT" } })).toBe(10);
  });

  it("debits, holds and credits racing on two wallets in opposite orders: every request answered, no deadlock reaches a client", async () => {
    const [a, b] = [await newWallet(servers[0]!), await newWallet(servers[0]!)];
    await credit(servers[0]!, a, 10_000);
    await credit(servers[0]!, b, 10_000);
    const both = (i: number, first: string, second: string) =>
      servers[i % 2]!.request(
        /* GraphQL */ `
        mutation ($d: DebitWalletInput!, $h: DebitWalletInput!, $c: CreditWalletInput!) {
          d: debitWallet(input: $d) { __typename }
          h: debitWallet(input: $h) { __typename }
          c: creditWallet(input: $c) { __typename }
        }`,
        {
          d: { clientMutationId: `race-d-${i}`, walletId: first, amount: money(7), balances: ["*"] },
          h: { clientMutationId: `race-h-${i}`, walletId: second, amount: money(5), pending: true },
          c: { clientMutationId: `race-c-${i}`, walletId: first, amount: money(3) },
        },
        { token: servers[0]!.token },
      );
    const responses = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? both(i, a, b) : both(i, b, a))));
    for (const response of responses) {
      expect(response.errors).toBeUndefined();
      expect(response.data).toEqual({
        d: { __typename: "DebitWalletPayload" },
        h: { __typename: "DebitWalletPayload" },
        c: { __typename: "CreditWalletPayload" },
      });
    }
    expect(await balancesOf(servers[0]!, a)).toEqual({ main: 10_000n - 20n * 7n - 20n * 5n + 20n * 3n });
  });

  it("an expired hold's funds come back once, however a read, a confirm and the sweeper race for it", async () => {
    const walletId = await newWallet(servers[0]!);
    await credit(servers[0]!, walletId, 100);
    const holds: string[] = [];
    for (let i = 0; i < 5; i++) {
      const debit = await servers[0]!.sdk().DebitWallet({
        input: { clientMutationId: `expiring-${i}`, walletId, amount: money(10), pending: true, holdExpiresInSeconds: 3600 },
      });
      holds.push(as(debit.data.debitWallet, "DebitWalletPayload").hold!.id);
    }
    await servers[0]!.db.prisma.hold.updateMany({ where: { walletId }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    const racers = holds.flatMap((holdId, i) => [
      sdk(i).Hold({ id: holdId }),
      sdk(i + 1).ConfirmHold({ input: { clientMutationId: `late-confirm-${i}`, holdId } }),
      sdk(i).VoidHold({ input: { clientMutationId: `late-void-${i}`, holdId } }),
      sweepExpiredHolds(servers[i % 2]!.db.prisma),
      sdk(i).Wallet({ id: walletId }),
    ]);
    await Promise.all(racers);
    for (const holdId of holds) {
      expect(await servers[0]!.db.prisma.ledgerTransaction.count({ where: { holdId, kind: "EXPIRE" } })).toBe(1);
      expect((await servers[0]!.sdk().Hold({ id: holdId })).data.hold).toMatchObject({ status: "EXPIRED", remaining: money(0) });
    }
    expect(await balancesOf(servers[0]!, walletId)).toEqual({ main: 100n });
  });
});
