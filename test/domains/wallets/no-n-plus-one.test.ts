import { WalletDocument, type WalletQuery } from "@onceql/client";
import { print } from "graphql";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startCountingApp } from "../../helpers/query-log.ts";
import { credit, newBalance, newWallet, USD } from "../../helpers/wallets.ts";

let t: Awaited<ReturnType<typeof startCountingApp>>;
beforeAll(async () => {
  t = await startCountingApp();
});
afterAll(() => t.close());

/** A wallet with `n` balances, n credits and n pending debits (so n holds and 2n transactions). */
async function walletOfSize(n: number): Promise<string> {
  const walletId = await newWallet(t);
  for (let i = 0; i < n; i++) {
    await newBalance(t, walletId, `b${i}`);
    await credit(t, walletId, 100, { balance: `b${i}` });
    await t.sdk().DebitWallet({ input: { walletId, amount: { asset: USD, value: "10" }, balances: [`b${i}`], pending: true } });
  }
  return walletId;
}

it("reads a wallet with its balances, a page of holds and of transactions with their postings in a fixed number of statements", async () => {
  const small = await walletOfSize(2);
  const large = await walletOfSize(8);
  const read = async (id: string) => {
    let wallet: WalletQuery["wallet"] | undefined;
    const statements = await t.statementsDuring(async () => {
      wallet = (await t.request<WalletQuery>(print(WalletDocument), { id, first: 20 })).data?.wallet;
    });
    return { wallet: wallet!, statements };
  };
  const few = await read(small);
  const many = await read(large);
  expect(many.wallet.balances).toHaveLength(9);
  expect(many.wallet.holds.edges).toHaveLength(8);
  expect(many.wallet.transactions.edges).toHaveLength(16);
  expect(many.wallet.transactions.edges.every((edge) => edge.node.postings.length === 1)).toBe(true);
  expect(many.statements.length).toBe(few.statements.length);
  expect(many.statements.length).toBeLessThanOrEqual(8);
});
