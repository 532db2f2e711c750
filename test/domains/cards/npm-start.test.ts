import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "@onceql/client";
import { afterAll, expect, it } from "vitest";
import { createServer } from "../../../src/index.ts";

const dataDir = mkdtempSync(path.join(tmpdir(), "onceql-cards-start-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

it("with nothing configured, the server runs its own issuer, which keeps its cards beside the embedded database across a restart", async () => {
  const first = await createServer({ port: 0, dataDir, logLevel: "silent" });
  let cardId: string;
  try {
    expect(first.issuerSimulator?.url).toBe(first.issuerUrl);
    const onceql = createClient({ url: `${first.url}/graphql`, token: first.devToken!, maxAttempts: 1 });
    const identity = await onceql.CreateIdentity({ input: { externalId: "newcomer" } });
    if (identity.data.createIdentity?.__typename !== "CreateIdentityPayload") throw new Error("setup failed");
    const created = await onceql.CreateCard({ input: { identityId: identity.data.createIdentity.identity.id } });
    if (created.data.createCard?.__typename !== "CreateCardPayload") throw new Error(`got ${created.data.createCard?.__typename}`);
    cardId = created.data.createCard.card.id;
  } finally {
    await first.close();
  }

  const again = await createServer({ port: 0, dataDir, logLevel: "silent" });
  try {
    const onceql = createClient({ url: `${again.url}/graphql`, token: again.devToken!, maxAttempts: 1 });
    const frozen = await onceql.SetCardStatus({ input: { cardId, status: "FROZEN" } });
    expect(frozen.data.setCardStatus).toMatchObject({ __typename: "SetCardStatusPayload", card: { id: cardId, status: "FROZEN" } });
    expect(again.issuerSimulator?.state.all()).toMatchObject([{ id: cardId, status: "FROZEN" }]);
  } finally {
    await again.close();
  }
});
