import { Lexer, Source, TokenKind } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUERY_LIMITS } from "../../src/http/query-limits.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

/**
 * Every query limit is HTTP 400, as the README says, whatever the client accepts: with
 * `application/json` too, to which yoga answers a parse error (where a token limit used to be
 * found) with 200, as the GraphQL-over-HTTP spec allows.
 */
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const ACCEPTS = ["application/json", "application/graphql-response+json"];

/** The tokens a parser reads of `query`, as graphql-js lexes them. */
function tokens(query: string): number {
  const lexer = new Lexer(new Source(query));
  let count = 0;
  while (lexer.advance().kind !== TokenKind.EOF) count++;
  return count;
}

/** A mutation of exactly `count` tokens: a JSON list of ones in an identity's meta makes up the rest. */
function mutationOf(count: number, key: string): string {
  const frame = (ones: number) =>
    `mutation { createIdentity(input: { clientMutationId: "${key}", externalId: "${key}", meta: [${"1 ".repeat(ones)}] }) { __typename } }`;
  const query = frame(count - tokens(frame(0)));
  expect(tokens(query)).toBe(count);
  return query;
}

describe.each(ACCEPTS)("accept: %s", (accept) => {
  const send = (query: string) => t.gql(query, undefined, { headers: { accept } });

  it("over the token limit: 400 GRAPHQL_PARSE_FAILED, nothing run", async () => {
    const key = `tokens-over-${accept.length}`;
    const response = await send(mutationOf(QUERY_LIMITS.tokens + 1, key));
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      errors: [{ message: `Syntax Error: Token limit of ${QUERY_LIMITS.tokens} exceeded.`, extensions: { code: "GRAPHQL_PARSE_FAILED" } }],
    });
    expect(await t.db.prisma.identity.count({ where: { externalId: key } })).toBe(0);
  });

  it("exactly at the token limit: runs", async () => {
    const key = `tokens-at-${accept.length}`;
    const response = await send(mutationOf(QUERY_LIMITS.tokens, key));
    expect(response.status).toBe(200);
    expect(response.body.data.createIdentity.__typename).toBe("CreateIdentityPayload");
  });

  it("a 900 kB query, far over the token limit: 400", async () => {
    const response = await send(`{ workspace { ${"id ".repeat(300_000)} } }`);
    expect(response.status).toBe(400);
    expect(response.body.errors[0].extensions.code).toBe("GRAPHQL_PARSE_FAILED");
  });

  it("comments are no tokens; a syntax error under the limit is still the parser's, with where", async () => {
    const commented = await send(`# ${"x".repeat(50_000)}\n{ workspace { id } }`);
    expect(commented.status).toBe(200);
    expect(commented.body.data.workspace.id).toBeTruthy();
    const broken = await send("{ workspace { ");
    expect(broken.body.errors[0]).toMatchObject({ message: "Syntax Error: Expected Name, found <EOF>.", locations: [{ line: 1 }] });
  });

  it("over the depth, cost or alias limit: 400", async () => {
    const depth = await send(`{ __schema { types { ${"ofType { ".repeat(40)}name${" }".repeat(40)} } } }`);
    expect(depth.status).toBe(400);
    expect(depth.body.errors[0].message).toMatch(/depth limit/);
    const cost = await send(
      `{ ${Array.from({ length: 25 }, (_, i) => `o${i}: orders(first: 100) { edges { node { lines { product { name } } } } }`).join(" ")} }`,
    );
    expect(cost.status).toBe(400);
    expect(cost.body.errors[0].message).toMatch(/Cost limit/);
    const aliases = await send(`{ ${Array.from({ length: 40 }, (_, i) => `a${i}: workspace { id }`).join(" ")} }`);
    expect(aliases.status).toBe(400);
    expect(aliases.body.errors[0].message).toMatch(/Aliases limit/);
  });
});

it("a GET query over the token limit: 400 too", async () => {
  const query = `{ workspace { ${"id ".repeat(3_100)} } }`;
  const response = await t.fetch(`/graphql?query=${encodeURIComponent(query)}`, {
    headers: { accept: "application/json", authorization: `Bearer ${t.token}` },
  });
  expect(response.status).toBe(400);
  expect((await response.json()).errors[0].extensions.code).toBe("GRAPHQL_PARSE_FAILED");
});
