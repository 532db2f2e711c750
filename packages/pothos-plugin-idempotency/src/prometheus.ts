import { Counter, Gauge, type Registry } from "prom-client";
import type { IdempotencyMetrics } from "./types.ts";

/**
 * The wrapper's metrics, registered with prom-client: `onceql_idempotency_executions_total`,
 * `_replays_total`, `_conflicts_total` (counters), `onceql_idempotency_in_flight` (a gauge), each
 * labelled by `mutation`, and `onceql_idempotency_cache_resets_total`.
 */
export function prometheusMetrics(registry: Registry): IdempotencyMetrics {
  const labelNames = ["mutation"] as const;
  const registers = [registry];
  return {
    executions: new Counter({
      name: "onceql_idempotency_executions_total",
      help: "Mutations that ran (their outcome was stored)",
      labelNames,
      registers,
    }),
    replays: new Counter({
      name: "onceql_idempotency_replays_total",
      help: "Retries answered with a stored outcome",
      labelNames,
      registers,
    }),
    conflicts: new Counter({
      name: "onceql_idempotency_conflicts_total",
      help: "Requests refused: key reused with another input, or still in use",
      labelNames,
      registers,
    }),
    inFlight: new Gauge({
      name: "onceql_idempotency_in_flight",
      help: "Mutations running in this process",
      labelNames,
      registers,
    }),
    cacheResets: new Counter({
      name: "onceql_idempotency_cache_resets_total",
      help: "Times the cache of stored outcomes was dropped: the database may have lost what it held (connections cut, a failover)",
      registers,
    }),
  };
}
