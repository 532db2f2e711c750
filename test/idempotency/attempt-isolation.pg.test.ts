import { afterAll, afterEach, beforeAll, describe, it } from "vitest";
import {
  closeEventually,
  createCardsBesidePlainMutations,
  creditsPastTheLimitTogether,
  expiredHoldReadAgainUnderItsLock,
  queryAndMutationInOneBatch,
  readsOfOneWorkspaceWhileAnotherAborts,
  replayAndNewKeyAcrossServers,
  type Servers,
  warmUp,
} from "../helpers/attempt-isolation.ts";
import { createPostgresDatabase, postgresAvailable } from "../helpers/databases.ts";
import { startTestIssuer, type TestIssuer } from "../helpers/issuer.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

/**
 * The cases of attempt-isolation.test.ts on PostgreSQL, where an attempt's transaction is one
 * pooled connection among many: a query Prisma's findUnique batching carries into another
 * request's transaction runs there (and fails with 25P02 once that transaction has failed), and a
 * mutation's own query carried out of its transaction does not see what it wrote. Two apps on the
 * file's own database are two servers; each test gets two fresh ones.
 */
describe.skipIf(!postgresAvailable())("every query of an attempt in that attempt's transaction (PostgreSQL)", () => {
  let database: Awaited<ReturnType<typeof createPostgresDatabase>>;
  let issuer: TestIssuer;
  let apps: TestApp[] = [];

  beforeAll(async () => {
    database = await createPostgresDatabase();
    issuer = await startTestIssuer({ cardLimit: 5 });
  });
  afterEach(async () => {
    await closeEventually(...apps);
    apps = [];
  });
  afterAll(async () => {
    await issuer?.close();
    await database?.drop();
  });

  /** Two servers on the file's database; the second accepts the first's workspace tokens. */
  async function twoServers(): Promise<Servers> {
    const a = await startTestApp({ databaseUrl: database.url, config: { issuerUrl: issuer.url } });
    apps.push(a);
    const b = await startTestApp({ databaseUrl: database.url, config: { issuerUrl: issuer.url } });
    apps.push(b);
    // One workspace on both: the second server accepts the first's token (helpers send `t.token`).
    b.token = a.token;
    await Promise.all([warmUp(a), warmUp(b)]);
    return { a, b };
  }

  it("answers a query and a mutation sent in one JSON batch, and stays up", async () => {
    await queryAndMutationInOneBatch((await twoServers()).a, "identity and createKey");
  });

  it("answers a JSON batch of a read of a key and a createKey, both finding an API key by id, and stays up", async () => {
    await queryAndMutationInOneBatch((await twoServers()).a, "key and createKey");
  });

  it("answers a JSON batch of a read of a card and a createCard selecting the card's identity, and stays up", async () => {
    await queryAndMutationInOneBatch((await twoServers()).a, "card and createCard");
  });

  it("answers one createCard selecting card { identity { id } } beside a plain createKey sent in the same tick, and stays up", async () => {
    await createCardsBesidePlainMutations(await twoServers(), 1, 1);
  });

  it("answers two concurrent createCard selecting card { identity { id } } beside plain mutations, and stays up", async () => {
    await createCardsBesidePlainMutations(await twoServers(), 2, 3);
  });

  it("answers three concurrent createCard selecting card { identity { id } } beside plain mutations, and stays up", async () => {
    await createCardsBesidePlainMutations(await twoServers(), 3, 3);
  });

  it("answers a JSON batch [replay of a createKey made on the other server, a new key] with both, none an internal error", async () => {
    await replayAndNewKeyAcrossServers(await twoServers(), "createKey");
  });

  it("answers a JSON batch [replay of a createCard made on the other server, a new key] with both, none an internal error", async () => {
    await replayAndNewKeyAcrossServers(await twoServers(), "createCard");
  });

  it("answers 60 reads of workspace B with their data while workspace A's attempts abort in the same ticks", async () => {
    await readsOfOneWorkspaceWhileAnotherAborts(await twoServers(), (identityId) => issuer.cardsOf(identityId));
  });

  it("confirms no expired hold: the attempt reads the hold again under its lock, in its own transaction, beside other reads", async () => {
    await expiredHoldReadAgainUnderItsLock(await twoServers());
  });

  it("answers INVALID_INPUT to each of ten credits past 2^63−1 sent together, each failing a statement inside its own transaction", async () => {
    await creditsPastTheLimitTogether(await twoServers());
  });
});
