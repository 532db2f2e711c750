import { afterAll, describe, expect, it } from "vitest";
import { ConfigError, configFromOptions, loadConfig } from "../../src/config.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

const apps: TestApp[] = [];
afterAll(() => Promise.all(apps.map((app) => app.close())));

async function appWith(config: { graphiql?: boolean; introspection?: boolean }): Promise<TestApp> {
  const app = await startTestApp({ config });
  apps.push(app);
  return app;
}

const browserGet = { headers: { accept: "text/html" } };

describe("production mode: GraphiQL and introspection", () => {
  it("default on on loopback, off beyond it; each switch turns its own on or off either way", () => {
    expect(loadConfig({})).toMatchObject({ graphiql: true, introspection: true });
    expect(loadConfig({ HOST: "localhost" })).toMatchObject({ graphiql: true, introspection: true });
    expect(loadConfig({ HOST: "0.0.0.0" })).toMatchObject({ graphiql: false, introspection: false });
    expect(loadConfig({ HOST: "::", ONCEQL_GRAPHIQL: "on" })).toMatchObject({ graphiql: true, introspection: false });
    expect(loadConfig({ HOST: "10.0.0.5", ONCEQL_INTROSPECTION: "ON" })).toMatchObject({ graphiql: false, introspection: true });
    expect(loadConfig({ ONCEQL_GRAPHIQL: "off", ONCEQL_INTROSPECTION: "off" })).toMatchObject({ graphiql: false, introspection: false });
    expect(configFromOptions({ host: "0.0.0.0", graphiql: true, introspection: "on" })).toMatchObject({
      graphiql: true,
      introspection: true,
    });
    expect(() => loadConfig({ ONCEQL_GRAPHIQL: "yes" })).toThrow(new ConfigError("ONCEQL_GRAPHIQL", 'must be on or off, got "yes"'));
    expect(() => configFromOptions({ introspection: "maybe" as "on" })).toThrow(
      /introspection \(ONCEQL_INTROSPECTION\): must be on or off/,
    );
  });

  it("GraphiQL on: a browser's GET /graphql gets the page; off: no page", async () => {
    const on = await (await appWith({ graphiql: true })).fetch("/graphql", browserGet);
    expect(on.headers.get("content-type")).toMatch(/text\/html/);
    expect(await on.text()).toContain("graphiql");

    const off = await (await appWith({ graphiql: false })).fetch("/graphql", browserGet);
    expect(off.headers.get("content-type") ?? "").not.toMatch(/text\/html/);
    expect(await off.text()).not.toMatch(/graphiql/i);
    expect(off.status).toBeGreaterThanOrEqual(400);
  });

  it("introspection off: __schema and __type are refused with a clear error, nothing runs; __typename still answers", async () => {
    const t = await appWith({ introspection: false });
    for (const query of ["{ __schema { queryType { name } } }", '{ __type(name: "Query") { name } }']) {
      const refused = await t.gql(query);
      expect(refused.body.data).toBeUndefined();
      // One error per field of an introspection type: `__schema` and, below it, `queryType`.
      expect(refused.body.errors[0].message).toMatch(
        /^GraphQL introspection has been disabled, but the requested query contained the field "__(schema|type)"/,
      );
      for (const error of refused.body.errors) expect(error.message).toMatch(/^GraphQL introspection has been disabled/);
    }
    // Hidden inside a fragment, as GraphiQL's own query is not, but a probe might be.
    const nested = await t.gql("query { ...F } fragment F on Query { __schema { types { name } } }");
    expect(nested.body.errors[0].message).toMatch(/introspection has been disabled/);

    const typename = await t.gql("{ __typename workspace { __typename name } }");
    expect(typename.body.errors).toBeUndefined();
    expect(typename.body.data).toEqual({ __typename: "Query", workspace: { __typename: "Workspace", name: "test" } });
  });

  it("introspection on: __schema and __type answer", async () => {
    const t = await appWith({ introspection: true });
    const schema = await t.gql('{ __schema { queryType { name } } __type(name: "Mutation") { name } }');
    expect(schema.body.errors).toBeUndefined();
    expect(schema.body.data).toEqual({ __schema: { queryType: { name: "Query" } }, __type: { name: "Mutation" } });
  });
});

describe("draining", () => {
  it("after drain(), /readyz answers 503 shutting down while /healthz stays 200", async () => {
    const t = await appWith({});
    expect((await t.fetch("/readyz")).status).toBe(200);
    t.app.drain();
    const ready = await t.fetch("/readyz");
    expect(ready.status).toBe(503);
    expect(await ready.text()).toBe("shutting down\n");
    expect((await t.fetch("/healthz")).status).toBe(200);
  });
});
