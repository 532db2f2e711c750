import type { DebitWalletInput } from "@onceql/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../../helpers/test-app.ts";
import { as } from "../../helpers/typed.ts";
import { balancesOf, credit, expectLedgerSound, newBalance, newWallet, USD } from "../../helpers/wallets.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterEach(() => expectLedgerSound(t.db));
afterAll(() => t.close());

const money = (value: bigint | number, asset = USD) => ({ asset, value: String(value) });

describe("createWallet", () => {
  it("gives a wallet a main balance and an id that comes from its key: a replay gives the same id, another key another", async () => {
    const input = { clientMutationId: "cw-1", name: "alice", metadata: { tier: "gold" } };
    const first = as((await t.sdk().CreateWallet({ input })).data.createWallet, "CreateWalletPayload");
    const replay = await t.sdk().CreateWallet({ input });
    const other = as(
      (await t.sdk().CreateWallet({ input: { ...input, clientMutationId: "cw-2" } })).data.createWallet,
      "CreateWalletPayload",
    );
    expect(first.wallet).toMatchObject({
      name: "alice",
      metadata: { tier: "gold" },
      balances: [{ name: "main", priority: 0, expiresAt: null, available: [] }],
    });
    expect(replay.replayed).toBe(true);
    expect(replay.data.createWallet).toEqual(first);
    expect(other.wallet.id).not.toBe(first.wallet.id);
    expect(await t.db.prisma.wallet.count({ where: { name: "alice" } })).toBe(2);
  });

  it("makes no second wallet for its key and input even after the stored outcome has expired", async () => {
    const input = { clientMutationId: "cw-expired", name: "bob" };
    const first = as((await t.sdk().CreateWallet({ input })).data.createWallet, "CreateWalletPayload");
    // As if its retention ran out: the record is gone, and a server that never cached it answers.
    await t.db.prisma.idempotencyRecord.deleteMany({ where: { clientMutationId: "cw-expired" } });
    const other = await startTestApp({ db: t.db });
    try {
      const again = await other.sdk({ token: t.token }).CreateWallet({ input });
      // Found by its id, made by the first run: nothing ran again.
      expect(again.replayed).toBe(true);
      expect(as(again.data.createWallet, "CreateWalletPayload").wallet.id).toBe(first.wallet.id);
    } finally {
      await other.close();
    }
    expect(await t.db.prisma.wallet.count({ where: { name: "bob" } })).toBe(1);
  });

  it("gives wallets and holds ids from separate namespaces: one key never names both", async () => {
    const walletId = await newWallet(t);
    await credit(t, walletId, 10);
    const wallet = as(
      (await t.sdk().CreateWallet({ input: { clientMutationId: "same-key", name: "ns" } })).data.createWallet,
      "CreateWalletPayload",
    );
    const otherWorkspace = await t.newWorkspace();
    const theirWallet = await newWallet(t, "theirs", otherWorkspace);
    await t.sdk({ token: otherWorkspace }).CreditWallet({ input: { clientMutationId: "fund", walletId: theirWallet, amount: money(10) } });
    const debit = await t
      .sdk({ token: otherWorkspace })
      .DebitWallet({ input: { clientMutationId: "same-key", walletId: theirWallet, amount: money(5), pending: true } });
    const hold = as(debit.data.debitWallet, "DebitWalletPayload").hold!;
    expect(hold.id).not.toBe(wallet.wallet.id);
  });
});

describe("balances", () => {
  it("createBalance: a new name, not one the wallet has, never in the past, never on an unknown wallet", async () => {
    const walletId = await newWallet(t);
    const promo = await newBalance(t, walletId, "promo", { priority: 5 });
    expect(promo).toMatchObject({ name: "promo", priority: 5, expiresAt: null, available: [] });
    const again = await t.sdk().CreateBalance({ input: { clientMutationId: "cb-dup", walletId, name: "main" } });
    expect(as(again.data.createBalance, "BalanceAlreadyExistsError")).toMatchObject({ code: "BALANCE_EXISTS", name: "main" });
    const past = await t
      .sdk()
      .CreateBalance({ input: { clientMutationId: "cb-past", walletId, name: "old", expiresAt: "2020-01-01T00:00:00Z" } });
    expect(as(past.data.createBalance, "InvalidInputError").field).toBe("expiresAt");
    const star = await t.sdk().CreateBalance({ input: { clientMutationId: "cb-star", walletId, name: "*" } });
    expect(as(star.data.createBalance, "InvalidInputError").field).toBe("name");
    const unknown = await t.sdk().CreateBalance({ input: { clientMutationId: "cb-unknown", walletId: crypto.randomUUID(), name: "x" } });
    expect(as(unknown.data.createBalance, "WalletNotFoundError").code).toBe("WALLET_NOT_FOUND");
  });

  it("creditWallet: into main unless named; an unknown balance is BALANCE_NOT_FOUND; several assets side by side", async () => {
    const walletId = await newWallet(t);
    await newBalance(t, walletId, "savings");
    await credit(t, walletId, 500);
    await credit(t, walletId, 70, { balance: "savings" });
    await credit(t, walletId, 3, { asset: "EUR/2" });
    const missing = await t.sdk().CreditWallet({ input: { clientMutationId: "cr-missing", walletId, amount: money(1), balance: "nope" } });
    expect(as(missing.data.creditWallet, "BalanceNotFoundError")).toMatchObject({ code: "BALANCE_NOT_FOUND", name: "nope" });
    const { data } = await t.sdk().Wallet({ id: walletId });
    expect(data.wallet?.balances.map((b) => [b.name, b.available])).toEqual([
      [
        "main",
        [
          { asset: "EUR/2", value: "3" },
          { asset: USD, value: "500" },
        ],
      ],
      ["savings", [{ asset: USD, value: "70" }]],
    ]);
  });
});

describe("debitWallet", () => {
  it('["*"] spends balances that expire first (earliest first), then by ascending priority, main last', async () => {
    const walletId = await newWallet(t);
    const soon = new Date(Date.now() + 3_600_000);
    const later = new Date(Date.now() + 7_200_000);
    for (const [name, options] of [
      ["late", { expiresAt: later }],
      ["high", { priority: 9 }],
      ["soon", { expiresAt: soon, priority: 50 }],
      ["low", { priority: 1 }],
    ] as const) {
      await newBalance(t, walletId, name, options);
      await credit(t, walletId, 10, { balance: name });
    }
    await credit(t, walletId, 10);
    const debit = await t.sdk().DebitWallet({ input: { clientMutationId: "order-1", walletId, amount: money(45), balances: ["*"] } });
    const postings = as(debit.data.debitWallet, "DebitWalletPayload").transaction.postings;
    expect(postings.map((p) => [p.source.split(":")[2], p.destination, p.amount.value])).toEqual([
      ["soon", "world", "10"],
      ["late", "world", "10"],
      ["low", "world", "10"],
      ["high", "world", "10"],
      ["main", "world", "5"],
    ]);
    expect(await balancesOf(t, walletId)).toEqual({ main: 5n, late: 0n, high: 0n, soon: 0n, low: 0n });
  });

  it("named balances are spent in the order given; an unknown name is BALANCE_NOT_FOUND and nothing moves", async () => {
    const walletId = await newWallet(t);
    await newBalance(t, walletId, "tips");
    await credit(t, walletId, 10);
    await credit(t, walletId, 10, { balance: "tips" });
    const debit = await t
      .sdk()
      .DebitWallet({ input: { clientMutationId: "named-1", walletId, amount: money(15), balances: ["main", "tips"] } });
    expect(
      as(debit.data.debitWallet, "DebitWalletPayload").transaction.postings.map((p) => [p.source.split(":")[2], p.amount.value]),
    ).toEqual([
      ["main", "10"],
      ["tips", "5"],
    ]);
    const unknown = await t
      .sdk()
      .DebitWallet({ input: { clientMutationId: "named-2", walletId, amount: money(1), balances: ["tips", "nope"] } });
    expect(as(unknown.data.debitWallet, "BalanceNotFoundError").name).toBe("nope");
    expect(await balancesOf(t, walletId)).toEqual({ main: 0n, tips: 5n });
  });

  it("more than the balances hold: INSUFFICIENT_FUNDS with what they hold, nothing moves, and its replay says the same", async () => {
    const walletId = await newWallet(t);
    await credit(t, walletId, 40);
    const input = { clientMutationId: "short-1", walletId, amount: money(41) };
    const refused = await t.sdk().DebitWallet({ input });
    expect(as(refused.data.debitWallet, "InsufficientFundsError")).toMatchObject({
      code: "INSUFFICIENT_FUNDS",
      available: money(40),
      requested: money(41),
    });
    await credit(t, walletId, 100);
    const replay = await t.sdk().DebitWallet({ input });
    expect(replay.replayed).toBe(true);
    expect(replay.data).toEqual(refused.data);
    expect(await balancesOf(t, walletId)).toEqual({ main: 140n });
  });

  it("an expired balance is not spent", async () => {
    const walletId = await newWallet(t);
    await newBalance(t, walletId, "promo", { expiresAt: new Date(Date.now() + 3_600_000) });
    await credit(t, walletId, 30, { balance: "promo" });
    await credit(t, walletId, 5);
    await t.db.prisma.walletBalance.updateMany({ where: { walletId, name: "promo" }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    const debit = await t.sdk().DebitWallet({ input: { clientMutationId: "exp-bal", walletId, amount: money(10), balances: ["*"] } });
    expect(as(debit.data.debitWallet, "InsufficientFundsError").available).toEqual(money(5));
  });

  it("a pending debit from [*] replays the same hold and postings after one of its balances expired; funds were taken once", async () => {
    const walletId = await newWallet(t);
    await newBalance(t, walletId, "promo", { expiresAt: new Date(Date.now() + 3_600_000) });
    await credit(t, walletId, 30, { balance: "promo" });
    await credit(t, walletId, 100);
    const input = {
      clientMutationId: "pending-star",
      walletId,
      amount: money(50),
      balances: ["*"],
      pending: true,
      holdExpiresInSeconds: 600,
    };
    const first = await t.sdk().DebitWallet({ input });
    await t.db.prisma.walletBalance.updateMany({ where: { walletId, name: "promo" }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    const retry = await t.sdk().DebitWallet({ input });
    expect(retry.replayed).toBe(true);
    expect(retry.data).toEqual(first.data);
    const { transaction, hold } = as(first.data.debitWallet, "DebitWalletPayload");
    expect(transaction.postings.map((p) => [p.source.split(":")[2], p.amount.value])).toEqual([
      ["promo", "30"],
      ["main", "20"],
    ]);
    expect(hold).toMatchObject({ status: "PENDING", amount: money(50), remaining: money(50) });
    expect(await t.db.prisma.ledgerTransaction.count({ where: { walletId, kind: "HOLD" } })).toBe(1);
    expect(await balancesOf(t, walletId)).toEqual({ main: 80n, promo: 0n });
  });
});

async function pendingHold(amount: number, options: { funds?: number; expiresInSeconds?: number } = {}) {
  const walletId = await newWallet(t);
  await credit(t, walletId, options.funds ?? 100);
  const debit = await t.sdk().DebitWallet({
    input: {
      clientMutationId: `hold-${crypto.randomUUID()}`,
      walletId,
      amount: money(amount),
      pending: true,
      holdExpiresInSeconds: options.expiresInSeconds,
    },
  });
  return { walletId, holdId: as(debit.data.debitWallet, "DebitWalletPayload").hold!.id };
}

describe("holds", () => {
  it("confirm part, then the rest: CONFIRMED, the world got it all, nothing went back", async () => {
    const { walletId, holdId } = await pendingHold(60);
    const part = as(
      (await t.sdk().ConfirmHold({ input: { clientMutationId: "part-1", holdId, amount: "25" } })).data.confirmHold,
      "ConfirmHoldPayload",
    );
    expect(part.hold).toMatchObject({ status: "PENDING", remaining: money(35), resolvedAt: null });
    const rest = as((await t.sdk().ConfirmHold({ input: { clientMutationId: "part-2", holdId } })).data.confirmHold, "ConfirmHoldPayload");
    expect(rest.hold).toMatchObject({ status: "CONFIRMED", remaining: money(0) });
    expect(rest.transaction.postings).toEqual([{ source: `hold:${holdId}`, destination: "world", amount: money(35) }]);
    expect(await balancesOf(t, walletId)).toEqual({ main: 40n });
  });

  it("confirm with final: what remains goes back to the balance it came from", async () => {
    const { walletId, holdId } = await pendingHold(60);
    const final = as(
      (await t.sdk().ConfirmHold({ input: { clientMutationId: "final-1", holdId, amount: "20", final: true } })).data.confirmHold,
      "ConfirmHoldPayload",
    );
    expect(final.hold).toMatchObject({ status: "CONFIRMED", remaining: money(0) });
    expect(final.transaction.postings).toEqual([
      { source: `hold:${holdId}`, destination: "world", amount: money(20) },
      { source: `hold:${holdId}`, destination: `wallet:${walletId}:main`, amount: money(40) },
    ]);
    expect(await balancesOf(t, walletId)).toEqual({ main: 80n });
  });

  it("confirming more than remains: AMOUNT_EXCEEDS_HOLD with what remains; zero or negative: INVALID_INPUT", async () => {
    const { holdId } = await pendingHold(30);
    const over = await t.sdk().ConfirmHold({ input: { clientMutationId: "over-1", holdId, amount: "31" } });
    expect(as(over.data.confirmHold, "AmountExceedsHoldError")).toMatchObject({ code: "AMOUNT_EXCEEDS_HOLD", remaining: money(30) });
    for (const [i, amount] of ["0", "-5"].entries()) {
      const bad = await t.sdk().ConfirmHold({ input: { clientMutationId: `over-bad-${i}`, holdId, amount } });
      expect(as(bad.data.confirmHold, "InvalidInputError").field).toBe("amount");
    }
    expect((await t.sdk().Hold({ id: holdId })).data.hold).toMatchObject({ status: "PENDING", remaining: money(30) });
  });

  it("void sends everything back; confirming or voiding a confirmed, voided or expired hold is HOLD_NOT_PENDING with its status", async () => {
    const voided = await pendingHold(30);
    const voidResult = as(
      (await t.sdk().VoidHold({ input: { clientMutationId: "void-1", holdId: voided.holdId } })).data.voidHold,
      "VoidHoldPayload",
    );
    expect(voidResult.hold).toMatchObject({ status: "VOIDED", remaining: money(0) });
    expect(await balancesOf(t, voided.walletId)).toEqual({ main: 100n });

    const confirmed = await pendingHold(30);
    await t.sdk().ConfirmHold({ input: { clientMutationId: "conf-1", holdId: confirmed.holdId } });

    const expired = await pendingHold(30, { expiresInSeconds: 3600 });
    await t.db.prisma.hold.updateMany({ where: { id: expired.holdId }, data: { expiresAt: new Date(Date.now() - 1_000) } });

    for (const [holdId, status] of [
      [voided.holdId, "VOIDED"],
      [confirmed.holdId, "CONFIRMED"],
      [expired.holdId, "EXPIRED"],
    ] as const) {
      const confirm = await t.sdk().ConfirmHold({ input: { clientMutationId: `np-c-${status}`, holdId } });
      expect(as(confirm.data.confirmHold, "HoldNotPendingError")).toMatchObject({ code: "HOLD_NOT_PENDING", holdId, status });
      const again = await t.sdk().VoidHold({ input: { clientMutationId: `np-v-${status}`, holdId } });
      expect(as(again.data.voidHold, "HoldNotPendingError").status).toBe(status);
    }
    // The confirm that found the hold expired gave its funds back, once.
    expect(await balancesOf(t, expired.walletId)).toEqual({ main: 100n });
    expect(await t.db.prisma.ledgerTransaction.count({ where: { holdId: expired.holdId, kind: "EXPIRE" } })).toBe(1);
  });

  it("a hold past its expiry is EXPIRED on read, and its funds are back", async () => {
    const { walletId, holdId } = await pendingHold(45, { expiresInSeconds: 3600 });
    await t.db.prisma.hold.updateMany({ where: { id: holdId }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    expect((await t.sdk().Hold({ id: holdId })).data.hold).toMatchObject({ status: "EXPIRED", remaining: money(0) });
    expect(await balancesOf(t, walletId)).toEqual({ main: 100n });
  });

  it("a debit releases the wallet's expired holds first, and spends what they gave back", async () => {
    const { walletId, holdId } = await pendingHold(100, { expiresInSeconds: 3600 });
    await t.db.prisma.hold.updateMany({ where: { id: holdId }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    const debit = await t.sdk().DebitWallet({ input: { clientMutationId: "after-expiry", walletId, amount: money(100) } });
    as(debit.data.debitWallet, "DebitWalletPayload");
    expect(await t.db.prisma.hold.findFirst({ where: { id: holdId } })).toMatchObject({ status: "EXPIRED", remaining: 0n });
  });

  it("a debit refused after releasing expired holds keeps the release", async () => {
    const { walletId, holdId } = await pendingHold(10, { funds: 10, expiresInSeconds: 3600 });
    await t.db.prisma.hold.updateMany({ where: { id: holdId }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    const debit = await t.sdk().DebitWallet({ input: { clientMutationId: "refused-after-expiry", walletId, amount: money(11) } });
    expect(as(debit.data.debitWallet, "InsufficientFundsError").available).toEqual(money(10));
    expect(await t.db.prisma.hold.findFirst({ where: { id: holdId } })).toMatchObject({ status: "EXPIRED", remaining: 0n });
  });
});

describe("lists", () => {
  it("holds and transactions are Relay connections, newest first, page by page", async () => {
    const walletId = await newWallet(t);
    await credit(t, walletId, 100);
    for (let i = 1; i <= 3; i++) {
      await t.sdk().DebitWallet({ input: { clientMutationId: `list-${i}`, walletId, amount: money(i), pending: true } });
    }
    const firstPage = (await t.sdk().Wallet({ id: walletId, first: 2 })).data.wallet!;
    expect(firstPage.holds.edges.map((e) => e.node.amount.value)).toEqual(["3", "2"]);
    expect(firstPage.holds.pageInfo.hasNextPage).toBe(true);
    const secondPage = (await t.sdk().Wallet({ id: walletId, first: 2, holdsAfter: firstPage.holds.pageInfo.endCursor })).data.wallet!;
    expect(secondPage.holds.edges.map((e) => e.node.amount.value)).toEqual(["1"]);
    expect(secondPage.holds.pageInfo.hasNextPage).toBe(false);
    expect(firstPage.transactions.edges.map((e) => e.node.kind)).toEqual(["HOLD", "HOLD"]);
    const transactionId = firstPage.transactions.edges[0]!.node.id;
    expect((await t.sdk().Transaction({ id: transactionId })).data.transaction).toEqual(firstPage.transactions.edges[0]!.node);
  });
});

describe("bad input: a typed error, and nothing moves", () => {
  const movements = async () => ({
    transactions: await t.db.prisma.ledgerTransaction.count(),
    holds: await t.db.prisma.hold.count(),
    balances: await t.db.prisma.ledgerAccount.aggregate({ _sum: { balance: true } }),
  });

  it.each([
    ["zero", { asset: USD, value: "0" }, "amount.value"],
    ["negative", { asset: USD, value: "-10" }, "amount.value"],
    ["over 2^63−1", { asset: USD, value: (2n ** 63n).toString() }, "amount.value"],
    ["far over 2^63", { asset: USD, value: "9".repeat(30) }, "amount.value"],
    ["an asset in lower case", { asset: "usd", value: "1" }, "amount.asset"],
    ["an asset with spaces", { asset: "US D", value: "1" }, "amount.asset"],
    ["an empty asset", { asset: "", value: "1" }, "amount.asset"],
  ])("an amount that is %s", async (_label, amount, field) => {
    const walletId = await newWallet(t);
    await credit(t, walletId, 100);
    const before = await movements();
    const creditResult = await t.sdk().CreditWallet({ input: { clientMutationId: `bad-c-${crypto.randomUUID()}`, walletId, amount } });
    expect(as(creditResult.data.creditWallet, "InvalidInputError").field).toBe(field);
    const debitResult = await t.sdk().DebitWallet({ input: { clientMutationId: `bad-d-${crypto.randomUUID()}`, walletId, amount } });
    expect(as(debitResult.data.debitWallet, "InvalidInputError").field).toBe(field);
    expect(await movements()).toEqual(before);
  });

  it("holdExpiresInSeconds of 0, or on an immediate debit; balances that are empty or mix * with names", async () => {
    const walletId = await newWallet(t);
    await credit(t, walletId, 100);
    const before = await movements();
    const cases: [Partial<DebitWalletInput>, string][] = [
      [{ pending: true, holdExpiresInSeconds: 0 }, "holdExpiresInSeconds"],
      [{ pending: true, holdExpiresInSeconds: -5 }, "holdExpiresInSeconds"],
      [{ pending: false, holdExpiresInSeconds: 60 }, "holdExpiresInSeconds"],
      [{ balances: [] }, "balances"],
      [{ balances: ["*", "main"] }, "balances"],
      [{ balances: ["main", "main"] }, "balances"],
    ];
    for (const [extra, field] of cases) {
      const result = await t
        .sdk()
        .DebitWallet({ input: { clientMutationId: `bad-${crypto.randomUUID()}`, walletId, amount: money(1), ...extra } });
      expect(as(result.data.debitWallet, "InvalidInputError").field).toBe(field);
    }
    expect(await movements()).toEqual(before);
  });

  it("an unknown wallet or hold, or another workspace's: WALLET_NOT_FOUND / HOLD_NOT_FOUND, exactly as an unknown one", async () => {
    const otherToken = await t.newWorkspace("other");
    const theirWallet = await newWallet(t, "theirs", otherToken);
    await t
      .sdk({ token: otherToken })
      .CreditWallet({ input: { clientMutationId: "their-credit", walletId: theirWallet, amount: money(50) } });
    const theirHold = as(
      (
        await t
          .sdk({ token: otherToken })
          .DebitWallet({ input: { clientMutationId: "their-hold", walletId: theirWallet, amount: money(5), pending: true } })
      ).data.debitWallet,
      "DebitWalletPayload",
    ).hold!.id;
    const before = await movements();
    for (const walletId of [theirWallet, crypto.randomUUID()]) {
      const creditResult = await t.sdk().CreditWallet({ input: { clientMutationId: `nf-c-${walletId}`, walletId, amount: money(1) } });
      expect(as(creditResult.data.creditWallet, "WalletNotFoundError").walletId).toBe(walletId);
      const debitResult = await t.sdk().DebitWallet({ input: { clientMutationId: `nf-d-${walletId}`, walletId, amount: money(1) } });
      expect(as(debitResult.data.debitWallet, "WalletNotFoundError").walletId).toBe(walletId);
      const balance = await t.sdk().CreateBalance({ input: { clientMutationId: `nf-b-${walletId}`, walletId, name: "x" } });
      expect(as(balance.data.createBalance, "WalletNotFoundError").walletId).toBe(walletId);
      expect((await t.sdk().Wallet({ id: walletId })).data.wallet).toBeNull();
    }
    for (const holdId of [theirHold, crypto.randomUUID()]) {
      const confirm = await t.sdk().ConfirmHold({ input: { clientMutationId: `nf-h-${holdId}`, holdId } });
      expect(as(confirm.data.confirmHold, "HoldNotFoundError").holdId).toBe(holdId);
      const voided = await t.sdk().VoidHold({ input: { clientMutationId: `nf-v-${holdId}`, holdId } });
      expect(as(voided.data.voidHold, "HoldNotFoundError").holdId).toBe(holdId);
      expect((await t.sdk().Hold({ id: holdId })).data.hold).toBeNull();
    }
    expect(await movements()).toEqual(before);
  });

  it("metadata nested too deep, or with keys named __proto__, is refused or kept as sent", async () => {
    const walletId = await newWallet(t);
    const metadata = JSON.parse('{"__proto__":{"constructor":"x"},"order":"A-1"}');
    const result = await t.sdk().CreditWallet({ input: { clientMutationId: "meta-ok", walletId, amount: money(5), metadata } });
    expect(as(result.data.creditWallet, "CreditWalletPayload").transaction.metadata).toEqual(metadata);
    const replay = await t.sdk().CreditWallet({ input: { clientMutationId: "meta-ok", walletId, amount: money(5), metadata } });
    expect(JSON.stringify(replay.data)).toBe(JSON.stringify(result.data));
  });
});
