// Creates an API key for a user, loses the answer on purpose, and retries: the retry is a replay,
// the same key and secret, never a second key. Run against a server:
//   ONCEQL_URL=http://127.0.0.1:4000/graphql ONCEQL_TOKEN=oq_ws_... npx tsx --conditions=onceql-source examples/create-key.ts
import { randomUUID } from "node:crypto";
import { createClient } from "@onceql/client";

const onceql = createClient({ url: process.env.ONCEQL_URL ?? "http://127.0.0.1:4000/graphql", token: process.env.ONCEQL_TOKEN ?? "" });

// Pick the key once, before the first attempt, and keep it for every retry of this operation.
const clientMutationId = randomUUID();
const input = { clientMutationId, externalId: "user-42", name: "example key" };

const first = await onceql.CreateKey({ input });
const created = first.data.createKey;
if (created?.__typename !== "CreateKeyPayload") throw new Error(`createKey failed: ${created?.__typename}`);
console.log(`created key ${created.key.id} for ${created.key.identity?.externalId}`);

// As if the response had been lost: the same call again.
const retry = await onceql.CreateKey({ input });
const replayed = retry.data.createKey;
if (replayed?.__typename !== "CreateKeyPayload") throw new Error("the retry should replay the payload");
console.log(
  `retry replayed: ${retry.replayed}, same key: ${replayed.key.id === created.key.id}, same secret: ${replayed.secret === created.secret}`,
);

const check = await onceql.VerifyKey({ secret: created.secret });
console.log(`secret verifies: ${check.data.verifyKey.valid}`);
