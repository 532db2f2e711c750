import { findWorkspaceByToken } from "../../src/auth/workspace-tokens.ts";
import { startFlakyProxy } from "../helpers/flaky-proxy.ts";
import { startTestApp, type TestAppOptions } from "../helpers/test-app.ts";

/** A row of idempotency_records, as stored: what the server committed for a key. */
export interface StoredRecord {
  mutation: string;
  status: string;
}

/**
 * The app over real HTTP (PGlite), behind a proxy that plays a script of failures: what a client
 * library in front of it meets. Keys are counted by name: createKey's name is not unique, so a
 * second execution would be a second row.
 */
export async function startLinkServer(
  options: Pick<TestAppOptions, "databaseUrl"> & {
    /** What the proxy forwards to, given the app's URL: the app itself by default. */
    upstream?: (appUrl: string) => Promise<string>;
  } = {},
) {
  const app = await startTestApp({ databaseUrl: options.databaseUrl });
  const appUrl = await app.listen();
  const proxy = await startFlakyProxy(options.upstream ? await options.upstream(appUrl) : appUrl);
  const workspace = (await findWorkspaceByToken(app.db.prisma, app.token))?.workspace;
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
    /**
     * The record of a key in idempotency_records, keyed by (workspace, key): read from the table
     * itself, not through the API, so that what the client was told is checked against what was stored.
     */
    async storedRecord(clientMutationId: string): Promise<StoredRecord | undefined> {
      const rows = await app.db.prisma.$queryRaw<StoredRecord[]>`
        SELECT mutation, status::text AS status FROM idempotency_records
        WHERE workspace_id = ${workspace!.id}::uuid AND client_mutation_id = ${clientMutationId}`;
      return rows[0];
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
