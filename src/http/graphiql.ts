import type { GraphiQLOptions } from "graphql-yoga";
import { hostnameOf, isLoopbackHost } from "./loopback.ts";

const EXAMPLE_MUTATION = `# Run it twice: the second answer is a replay,
# same secret, with status REPLAYED.
mutation CreateKey {
  createKey(input: {
    clientMutationId: "try-me-1"
    externalId: "user-42"
    name: "first key"
  }) {
    __typename
    ... on CreateKeyPayload {
      clientMutationId
      secret
      key { id name identity { id externalId } }
    }
    ... on UserError { code message }
  }
}
`;

/**
 * yoga's `graphiql` option: the page, with the dev token in its headers only when it is asked
 * for from this machine by a person, not by another origin's page. The page needs no token to be
 * served, so whatever a page can read of it must not hold one.
 */
export function graphiqlOptions(devToken: string | undefined): (request: Request) => GraphiQLOptions {
  const headers = devToken ? JSON.stringify({ Authorization: `Bearer ${devToken}` }, null, 2) : undefined;
  return (request) => ({
    title: "onceql",
    defaultQuery: EXAMPLE_MUTATION,
    headers: headers && askedFromThisMachine(request) ? headers : undefined,
  });
}

function askedFromThisMachine(request: Request): boolean {
  const url = new URL(request.url);
  const host = request.headers.get("host") ?? url.host;
  // Another Host is a name that resolved here, as DNS rebinding makes one: its page is same-origin.
  if (!isLoopbackHost(hostnameOf(host)) || !isLoopbackHost(url.hostname)) return false;
  // A page of another origin (another port included) sends its Origin with fetch; `null` is a
  // sandboxed frame's or a file's.
  const origin = request.headers.get("origin");
  if (origin !== null && origin !== new URL(`${url.protocol}//${host}`).origin) return false;
  // Frames and links send no Origin on a GET, but browsers say where the request comes from.
  const site = request.headers.get("sec-fetch-site");
  return site !== "cross-site" && site !== "same-site";
}
