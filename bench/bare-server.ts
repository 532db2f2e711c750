// The reference the benchmark compares onceql with: a bare graphql-yoga server doing the same
// createIdentity INSERT with plain pg, with no idempotency, no auth and no Prisma. Answers the
// benchmark's createIdentity operation and a no-op query. Prints one JSON line with its URL.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createSchema, createYoga } from "graphql-yoga";
import pg from "pg";

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
const workspaceId = randomUUID();

const yoga = createYoga({
  landingPage: false,
  graphiql: false,
  schema: createSchema({
    typeDefs: /* GraphQL */ `
      type Identity { id: ID! externalId: String! }
      type CreateIdentityPayload { identity: Identity! }
      input CreateIdentityInput { clientMutationId: String! externalId: String! }
      type Workspace { id: ID! }
      type Query { workspace: Workspace! }
      type Mutation { createIdentity(input: CreateIdentityInput!): CreateIdentityPayload }
    `,
    resolvers: {
      Query: { workspace: () => ({ id: workspaceId }) },
      Mutation: {
        createIdentity: async (_root: unknown, { input }: { input: { externalId: string } }) => {
          const { rows } = await pool.query<{ id: string; externalId: string }>(
            `INSERT INTO identities (id, workspace_id, external_id) VALUES (gen_random_uuid(), $1, $2) RETURNING id, external_id AS "externalId"`,
            [workspaceId, input.externalId],
          );
          return { identity: rows[0] };
        },
      },
    },
  }),
});

const http = createServer(yoga);
http.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, token: "none", pid: process.pid }));
});
process.once("SIGTERM", () => http.close(() => pool.end().then(() => process.exit(0))));
