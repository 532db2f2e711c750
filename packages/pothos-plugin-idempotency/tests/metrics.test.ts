import { prometheusMetrics } from "@onceql/pothos-plugin-idempotency/prometheus";
import { Registry } from "prom-client";
import { expect, test } from "vitest";
import { CREATE_TODO, call, exampleServer, IMPORT_TODO } from "./example/server.ts";
import { forEachDriver, newTenant } from "./helpers/example.ts";

async function metricValue(registry: Registry, name: string, mutation: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} is not registered`);
  const { values } = await metric.get();
  return values.find((value) => value.labels.mutation === mutation)?.value ?? 0;
}

forEachDriver((db) => {
  test("executions, replays and conflicts counters move as the mutations go", async () => {
    const registry = new Registry();
    const server = exampleServer(await db().runner({ metrics: prometheusMetrics(registry) }));
    const tenant = newTenant();
    const counts = async (mutation = "createTodo") => ({
      executions: await metricValue(registry, "onceql_idempotency_executions_total", mutation),
      replays: await metricValue(registry, "onceql_idempotency_replays_total", mutation),
      conflicts: await metricValue(registry, "onceql_idempotency_conflicts_total", mutation),
      inFlight: await metricValue(registry, "onceql_idempotency_in_flight", mutation),
    });
    expect(await counts()).toEqual({ executions: 0, replays: 0, conflicts: 0, inFlight: 0 });

    const variables = { input: { clientMutationId: "metrics-1", title: "Counted" } };
    await call(server, tenant, CREATE_TODO, variables);
    expect(await counts()).toEqual({ executions: 1, replays: 0, conflicts: 0, inFlight: 0 });

    await call(server, tenant, CREATE_TODO, variables);
    await call(server, tenant, CREATE_TODO, variables);
    expect(await counts()).toEqual({ executions: 1, replays: 2, conflicts: 0, inFlight: 0 });

    await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "metrics-1", title: "Changed" } });
    expect(await counts()).toEqual({ executions: 1, replays: 2, conflicts: 1, inFlight: 0 });

    // A stored UserError is an execution too.
    const taken = await call(server, tenant, CREATE_TODO, { input: { clientMutationId: "metrics-2", title: "Counted" } });
    expect(taken.body.data.createTodo.__typename).toBe("TitleTakenError");
    expect(await counts()).toEqual({ executions: 2, replays: 2, conflicts: 1, inFlight: 0 });

    // A failure stores nothing, and counts no execution.
    await call(server, tenant, IMPORT_TODO, { input: { clientMutationId: "metrics-3", title: "boom" } });
    expect(await counts("importTodo")).toEqual({ executions: 0, replays: 0, conflicts: 0, inFlight: 0 });
    const text = await registry.metrics();
    expect(text).toContain('onceql_idempotency_executions_total{mutation="createTodo"} 2');
  });
});
