import type { OnceqlClient } from "@onceql/client";

export const KINDS = ["createKey", "creditWallet", "createIdentity"] as const;

/** One key, and the input it is always sent with (derived from the key, so a resend is the same call). */
export interface Call {
  key: string;
  kind: (typeof KINDS)[number];
  walletId: string;
  /** The answer to its first sending. */
  first?: Answer;
}

export interface Answer {
  /** A success payload, not a UserError and not a call the SDK gave up on. */
  ok: boolean;
  /**
   * What tells one run from another: the payload's type, the id of what it made and what a second
   * run would not repeat (the key's secret, the row's createdAt). Ids are derived from the key and
   * input, so only these show a run that happened again.
   */
  digest: string;
}

/** Sends the call with the SDK at its defaults (it retries on its own with the same key). */
export async function callOnce(client: OnceqlClient, call: Call): Promise<Answer> {
  const { key } = call;
  try {
    if (call.kind === "createKey") {
      const r = (await client.CreateKey({ input: { clientMutationId: key, name: key } })).data.createKey;
      if (r?.__typename === "CreateKeyPayload") return { ok: true, digest: `${r.__typename}:${r.key.id}:${r.secret}:${r.key.createdAt}` };
      return { ok: false, digest: r?.__typename ?? "null" };
    }
    if (call.kind === "createIdentity") {
      const r = (await client.CreateIdentity({ input: { clientMutationId: key, externalId: key } })).data.createIdentity;
      if (r?.__typename === "CreateIdentityPayload")
        return { ok: true, digest: `${r.__typename}:${r.identity.id}:${r.identity.createdAt}` };
      return { ok: false, digest: r?.__typename ?? "null" };
    }
    const r = (
      await client.CreditWallet({
        input: { clientMutationId: key, walletId: call.walletId, amount: { asset: "USD/2", value: "100" }, metadata: { key } },
      })
    ).data.creditWallet;
    if (r?.__typename === "CreditWalletPayload")
      return { ok: true, digest: `${r.__typename}:${r.transaction.id}:${r.transaction.createdAt}` };
    return { ok: false, digest: r?.__typename ?? "null" };
  } catch (error) {
    return { ok: false, digest: `gave up: ${(error as { code?: string }).code ?? (error as Error).message}` };
  }
}
