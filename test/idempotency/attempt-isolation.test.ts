import { afterAll, afterEach, beforeAll, describe, it } from "vitest";
import {
  closeEventually,
  createCardsBesidePlainMutations,
  creditsPastTheLimitTogether,
  expiredHoldReadAgainUnderItsLock,
  queryAndMutationInOneBatch,
  readsOfOneWorkspaceWhileAnotherAborts,
} from "../helpers/attempt-isolation.ts";
import { startTestIssuer, type TestIssuer } from "../helpers/issuer.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

/**
 * Every query a mutation makes runs in its own attempt's transaction, and no other request's query
 * does, however the Prisma client batches them: its findUnique calls of one tick are sent together,
 * from whichever request made the first. On the embedded database an attempt holds the one
 * connection, so a query of its own sent outside its transaction waits for it forever. Each test
 * has a database of its own: one that locks the engine fails alone, with the request it waited for.
 */
let issuer: TestIssuer;
let t: TestApp | undefined;

beforeAll(async () => {
  issuer = await startTestIssuer({ cardLimit: 5 });
});
afterEach(async () => {
  await closeEventually(t);
  t = undefined;
});
afterAll(async () => {
  await issuer?.close();
});

async function embedded(): Promise<TestApp> {
  t = await startTestApp({ config: { issuerUrl: issuer.url } });
  return t;
}

describe("every query of an attempt in that attempt's transaction (embedded PGlite)", () => {
  it("answers a query and a mutation sent in one JSON batch, and stays up", async () => {
    await queryAndMutationInOneBatch(await embedded(), "identity and createKey");
  });

  it("answers a JSON batch of a read of a key and a createKey, both finding an API key by id, and stays up", async () => {
    await queryAndMutationInOneBatch(await embedded(), "key and createKey");
  });

  it("answers a JSON batch of a read of a card and a createCard selecting the card's identity, and stays up", async () => {
    await queryAndMutationInOneBatch(await embedded(), "card and createCard");
  });

  it("answers one createCard selecting card { identity { id } } beside a plain createKey sent in the same tick, and stays up", async () => {
    const app = await embedded();
    await createCardsBesidePlainMutations({ a: app, b: app }, 1, 1);
  });

  it("answers two concurrent createCard selecting card { identity { id } } beside plain mutations, and stays up", async () => {
    const app = await embedded();
    await createCardsBesidePlainMutations({ a: app, b: app }, 2, 3);
  });

  it("answers three concurrent createCard selecting card { identity { id } } beside plain mutations, and stays up", async () => {
    const app = await embedded();
    await createCardsBesidePlainMutations({ a: app, b: app }, 3, 3);
  });

  it("answers 60 reads of workspace B with their data while workspace A's attempts abort in the same ticks", async () => {
    const app = await embedded();
    await readsOfOneWorkspaceWhileAnotherAborts({ a: app, b: app }, (identityId) => issuer.cardsOf(identityId));
  });

  it("confirms no expired hold: the attempt reads the hold again under its lock, in its own transaction, beside other reads", async () => {
    const app = await embedded();
    await expiredHoldReadAgainUnderItsLock({ a: app, b: app });
  });

  it("answers INVALID_INPUT to each of ten credits past 2^63−1 sent together, each failing a statement inside its own transaction", async () => {
    const app = await embedded();
    await creditsPastTheLimitTogether({ a: app, b: app });
  });
});
