import { startFlakyProxy } from "../helpers/flaky-proxy.ts";
import { startTestApp } from "../helpers/test-app.ts";

/**
 * The app over real HTTP (PGlite), behind a proxy that plays a script of failures: what a client
 * library in front of it meets. Keys are counted by name: createKey's name is not unique, so a
 * second execution would be a second row.
 */
export async function startLinkServer() {
  const app = await startTestApp();
  const proxy = await startFlakyProxy(await app.listen());
  return {
    app,
    proxy,
    endpoint: `${proxy.url}/graphql`,
    headers: { authorization: `Bearer ${app.token}` },
    keysNamed: (name: string) => app.db.prisma.apiKey.count({ where: { name } }),
    async record(clientMutationId: string) {
      const { body } = await app.gql(
        "query Record($id: String!) { idempotencyRecord(clientMutationId: $id) { mutation status replayCount } }",
        { id: clientMutationId },
      );
      return body.data?.idempotencyRecord as { mutation: string; status: string; replayCount: number } | null;
    },
    async close() {
      await proxy.close();
      await app.close();
    },
  };
}

export type LinkServer = Awaited<ReturnType<typeof startLinkServer>>;

export const CREATE_KEY = /* GraphQL */ `
  mutation CreateKey($input: CreateKeyInput!) {
    createKey(input: $input) {
      __typename
      ... on CreateKeyPayload {
        clientMutationId
        key {
          id
          name
        }
      }
    }
  }
`;

export const WORKSPACE = /* GraphQL */ `
  query Workspace {
    workspace {
      id
      name
    }
  }
`;

export interface CreateKeyData {
  createKey: { __typename: string; clientMutationId?: string; key?: { id: string; name: string } } | null;
}

export interface IdempotencyExtensions {
  idempotency?: { field: string; clientMutationId: string; status: "EXECUTED" | "REPLAYED" }[];
}
