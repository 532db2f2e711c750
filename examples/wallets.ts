// A wallet on the double-entry ledger: credits, a promotional balance that expires, a pending debit
// that takes from the promotion first, confirmed in part; its retry is a replay with the same hold
// and postings. Run against a server:
//   ONCEQL_URL=http://127.0.0.1:4000/graphql ONCEQL_TOKEN=oq_ws_... npx tsx --conditions=onceql-source examples/wallets.ts
import { randomUUID } from "node:crypto";
import { createClient } from "@onceql/client";

const onceql = createClient({ url: process.env.ONCEQL_URL ?? "http://127.0.0.1:4000/graphql", token: process.env.ONCEQL_TOKEN ?? "" });
const cents = (value: number) => ({ asset: "USD/2", value: String(value) });

const created = await onceql.CreateWallet({ input: { name: "Ada's wallet" } });
if (created.data.createWallet?.__typename !== "CreateWalletPayload") throw new Error("createWallet failed");
const walletId = created.data.createWallet.wallet.id;

const promo = await onceql.CreateBalance({
  input: { walletId, name: "promo", expiresAt: new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString() },
});
if (promo.data.createBalance?.__typename !== "CreateBalancePayload") throw new Error("createBalance failed");
await onceql.CreditWallet({ input: { walletId, amount: cents(10_000) } });
await onceql.CreditWallet({ input: { walletId, amount: cents(1_500), balance: "promo" } });

// Pick the key once, before the first attempt, and keep it for every retry of this operation.
const debit = { clientMutationId: randomUUID(), walletId, amount: cents(4_000), balances: ["*"], pending: true, holdExpiresInSeconds: 900 };
const first = await onceql.DebitWallet({ input: debit });
const held = first.data.debitWallet;
if (held?.__typename !== "DebitWalletPayload" || !held.hold) throw new Error(`debitWallet failed: ${held?.__typename}`);
for (const posting of held.transaction.postings)
  console.log(`${posting.source} -> ${posting.destination}: ${posting.amount.value} ${posting.amount.asset}`);

// As if the response had been lost: the same call again is a replay, whatever changed meanwhile.
const retry = await onceql.DebitWallet({ input: debit });
const replayed = retry.data.debitWallet;
if (replayed?.__typename !== "DebitWalletPayload") throw new Error("the retry should replay the payload");
console.log(`retry replayed: ${retry.replayed}, same hold: ${replayed.hold?.id === held.hold.id}`);

const confirmed = await onceql.ConfirmHold({ input: { holdId: held.hold.id, amount: "2500", final: true } });
if (confirmed.data.confirmHold?.__typename !== "ConfirmHoldPayload") throw new Error("confirmHold failed");
console.log(`hold ${confirmed.data.confirmHold.hold.status}, ${confirmed.data.confirmHold.transaction.postings.length} postings`);

const wallet = await onceql.Wallet({ id: walletId });
for (const balance of wallet.data.wallet?.balances ?? []) {
  console.log(`${balance.name}: ${balance.available.map((money) => `${money.value} ${money.asset}`).join(", ") || "empty"}`);
}
