/**
 * The page of test/client/apollo.browser.test.ts, bundled by esbuild for Chromium: Apollo Client
 * with onceql's link, as an app in a browser would set it up, sending to its own origin.
 */
import { ApolloClient, ApolloLink, gql, HttpLink, InMemoryCache } from "@apollo/client/core";
import { createIdempotencyLink, type RetryInfo } from "@onceql/client/apollo";

export interface ApolloPage {
  retries: RetryInfo[];
  createKey(name: string): Promise<{ data: unknown; extensions: unknown }>;
}

const token = document.querySelector<HTMLMetaElement>('meta[name="onceql-token"]')!.content;
const retries: RetryInfo[] = [];
const client = new ApolloClient({
  cache: new InMemoryCache(),
  link: ApolloLink.from([
    // About 8 s of attempts: a slow machine's late restore must not exhaust them.
    createIdempotencyLink({ baseDelayMs: 50, maxDelayMs: 500, maxAttempts: 20, onRetry: (info) => retries.push(info) }),
    new HttpLink({ uri: "/graphql", headers: { authorization: `Bearer ${token}` } }),
  ]),
});
const CREATE_KEY = gql`
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

const page: ApolloPage = {
  retries,
  async createKey(name) {
    const result = await client.mutate({ mutation: CREATE_KEY, variables: { input: { name } } });
    return { data: result.data, extensions: result.extensions };
  },
};
(window as unknown as { onceqlPage: ApolloPage }).onceqlPage = page;
