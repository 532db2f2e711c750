import { request } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CREATE_IDENTITY, CREATE_KEY } from "../helpers/operations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

const responses: string[] = [];
async function rowCounts() {
  const [keys, identities, records] = await Promise.all([
    t.db.prisma.apiKey.count(),
    t.db.prisma.identity.count(),
    t.db.prisma.idempotencyRecord.count(),
  ]);
  return { keys, identities, records };
}

describe("bad input changes nothing and says why", () => {
  it.each([
    ["empty", ""],
    ["with a space", "has space"],
    ["with a tab", "tab\there"],
    ["non-ASCII", "clé-1"],
    ["256 characters", "k".repeat(256)],
    ["10 kB", "k".repeat(10_000)],
  ])("a key that is %s: IDEMPOTENCY_KEY_INVALID", async (_label, key) => {
    const before = await rowCounts();
    const response = await t.gql(CREATE_KEY, { input: { clientMutationId: key, name: "never" } });
    responses.push(response.text);
    expect(response.body.data.createKey).toBeNull();
    expect(response.body.errors[0].extensions.code).toBe("IDEMPOTENCY_KEY_INVALID");
    expect(response.body.errors[0].message).toMatch(/clientMutationId/);
    expect(await rowCounts()).toEqual(before);
  });

  it("accepts a key of exactly 255 printable characters", async () => {
    const response = await t.gql(CREATE_KEY, { input: { clientMutationId: "~".repeat(255) } });
    expect(response.body.data.createKey.__typename).toBe("CreateKeyPayload");
  });

  it("an input of several MB: 413 before anything is parsed", async () => {
    const before = await rowCounts();
    const response = await t.gql(CREATE_IDENTITY, {
      input: { clientMutationId: "huge-1", externalId: "x", meta: { blob: "x".repeat(5_000_000) } },
    });
    responses.push(response.text);
    expect(response.status).toBe(413);
    expect(response.body.errors[0].extensions.code).toBe("REQUEST_ENTITY_TOO_LARGE");
    expect(await rowCounts()).toEqual(before);
  });

  it("the same input sent chunked (no Content-Length) over a socket: 413 too, nothing stored", async () => {
    const before = await rowCounts();
    const body = JSON.stringify({
      query: CREATE_IDENTITY,
      variables: { input: { clientMutationId: "huge-chunked-1", externalId: "x", meta: { blob: "x".repeat(1_500_000) } } },
    });
    const response = await postChunked(`${await t.listen()}/graphql`, body);
    responses.push(response.text);
    expect(response.status).toBe(413);
    expect(JSON.parse(response.text).errors[0].extensions.code).toBe("REQUEST_ENTITY_TOO_LARGE");
    expect(await rowCounts()).toEqual(before);
  });

  it("a Content-Length over the limit: 413 on the header alone, before any of the body is sent", async () => {
    const url = new URL(await t.listen());
    const socket = connect(Number(url.port), url.hostname);
    const answer = new Promise<string>((resolve, reject) => {
      let text = "";
      socket.on("data", (chunk) => {
        text += chunk;
        if (text.includes("\r\n\r\n") && text.includes("}")) resolve(text);
      });
      socket.on("error", reject);
    });
    socket.write(
      [
        "POST /graphql HTTP/1.1",
        `host: ${url.host}`,
        "content-type: application/json",
        `authorization: Bearer ${t.token}`,
        "content-length: 5000000",
        "",
        "",
      ].join("\r\n"),
    );
    const text = await answer;
    socket.destroy();
    expect(text).toMatch(/^HTTP\/1\.1 413 /);
    expect(text).toContain("REQUEST_ENTITY_TOO_LARGE");
  });

  it("a field value over the domain's bounds: a typed InvalidInputError", async () => {
    const response = await t.gql(CREATE_IDENTITY, { input: { clientMutationId: "long-1", externalId: "e".repeat(300) } });
    expect(response.body.data.createIdentity).toMatchObject({
      __typename: "InvalidInputError",
      code: "INVALID_INPUT",
      field: "externalId",
    });
    const meta = await t.gql(CREATE_IDENTITY, {
      input: { clientMutationId: "meta-1", externalId: "m", meta: { blob: "x".repeat(20_000) } },
    });
    expect(meta.body.data.createIdentity).toMatchObject({ __typename: "InvalidInputError", field: "meta" });
    expect(await t.db.prisma.identity.count({ where: { externalId: { in: ["m", "e".repeat(300)] } } })).toBe(0);
  });

  it("text PostgreSQL cannot store (NUL, a lone surrogate), found by the fuzzer: a clear error, nothing stored", async () => {
    const before = await rowCounts();
    const nul = await t.gql(CREATE_IDENTITY, { input: { clientMutationId: "nul-1", externalId: "a\u0000b" } });
    expect(nul.body.data.createIdentity).toMatchObject({ __typename: "InvalidInputError", field: "externalId" });
    const nulInMeta = await t.gql(CREATE_KEY, { input: { clientMutationId: "nul-2", meta: { note: "a\u0000b" } } });
    expect(nulInMeta.body.data.createKey).toMatchObject({
      __typename: "InvalidInputError",
      code: "INVALID_INPUT",
      message: expect.stringMatching(/^meta must not contain NUL/),
    });
    for (const [i, input] of [{ externalId: "x", meta: { "\ud800": "" } }, { externalId: "x\udc00" }].entries()) {
      const surrogate = await t.gql(CREATE_IDENTITY, { input: { clientMutationId: `surrogate-${i}`, ...input } });
      responses.push(surrogate.text);
      expect(surrogate.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
      expect(surrogate.body.errors[0].message).toMatch(/lone surrogate/);
    }
    expect({ ...(await rowCounts()), records: before.records }).toEqual(before);
  });

  it("an invalid JSON body: 400", async () => {
    const before = await rowCounts();
    const response = await t.fetch("/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${t.token}` },
      body: '{"query": "mutation { createKey(input: {clientMutationId: \\"j\\"}) { __typename } }"',
    });
    const text = await response.text();
    responses.push(text);
    expect(response.status).toBe(400);
    expect(JSON.parse(text).errors[0].message).toBeTruthy();
    expect(await rowCounts()).toEqual(before);
  });

  it("an unknown input field: a validation error, 400", async () => {
    const before = await rowCounts();
    const response = await t.gql(CREATE_KEY, { input: { clientMutationId: "unknown-1", colour: "red" } });
    responses.push(response.text);
    expect(response.status).toBe(400);
    expect(response.body.errors[0].message).toMatch(/colour/);
    const inline = await t.gql(`mutation { createKey(input: { clientMutationId: "unknown-2", colour: "red" }) { __typename } }`);
    expect(inline.status).toBe(400);
    expect(await rowCounts()).toEqual(before);
  });

  it.each([
    ["missing", null],
    ["wrong", "oq_ws_not-a-real-token"],
  ])("a %s token: 401 UNAUTHENTICATED, nothing executed", async (_label, token) => {
    const before = await rowCounts();
    const response = await t.gql(CREATE_KEY, { input: { clientMutationId: "auth-1" } }, { token });
    responses.push(response.text);
    expect(response.status).toBe(401);
    expect(response.body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
    expect(response.body.data ?? null).toBeNull();
    expect(await rowCounts()).toEqual(before);
  });

  it("a query over GET still works, and a mutation over GET is refused", async () => {
    const query = encodeURIComponent("{ workspace { name } }");
    const get = await t.fetch(`/graphql?query=${query}`, { headers: { authorization: `Bearer ${t.token}`, accept: "application/json" } });
    expect(get.status).toBe(200);
    expect((await get.json()).data.workspace.name).toBe("test");
    const mutation = encodeURIComponent('mutation { createKey(input: { clientMutationId: "get-1" }) { __typename } }');
    const refused = await t.fetch(`/graphql?query=${mutation}`, {
      headers: { authorization: `Bearer ${t.token}`, accept: "application/json" },
    });
    expect(refused.status).toBe(405);
    expect(await t.db.prisma.idempotencyRecord.count({ where: { clientMutationId: "get-1" } })).toBe(0);
  });

  it("no response carries a stack trace", () => {
    expect(responses.length).toBeGreaterThan(8);
    for (const text of responses) {
      expect(text).not.toMatch(/\n\s+at |"stack"|\.ts:\d+/);
    }
  });
});

/** A POST whose body goes out in 64 KiB chunks, with no Content-Length for the server to check first. */
function postChunked(url: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "transfer-encoding": "chunked",
        accept: "application/graphql-response+json",
        authorization: `Bearer ${t.token}`,
      },
    });
    req.on("error", reject);
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    const chunks = Array.from({ length: Math.ceil(body.length / 65_536) }, (_, i) => body.slice(i * 65_536, (i + 1) * 65_536));
    const next = () => {
      while (chunks.length) {
        if (!req.write(chunks.shift())) return void req.once("drain", next);
      }
      req.end();
    };
    next();
  });
}
