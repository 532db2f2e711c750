import { createHash, timingSafeEqual } from "node:crypto";
import { type Plugin, useReadinessCheck } from "graphql-yoga";
import type { Services } from "../context.ts";

/**
 * `/readyz`: 200 while the database answers and takes writes, 503 while it does not (yoga's
 * readiness check). Whether it takes writes is asked, not tried: a standby (a failover that left
 * this server on a replica) and a read-only database (`default_transaction_read_only`, which
 * managed PostgreSQL services switch on when storage is nearly full) say so in one read, while
 * a write on every probe would cost a transaction id and WAL each time and still not find a disk
 * that is full only for a larger write. It is asked on a connection of the probe's own: a pool
 * taken by one tenant's attempts is busy, not down, and a load balancer that dropped this server
 * for it would move that tenant's load onto the next. From the moment the server starts shutting down it is 503
 * `shutting down`, whatever the database says, so a load balancer sends it nothing new.
 */
export function readinessPlugin(services: Pick<Services, "db">, draining: () => boolean): Plugin {
  return useReadinessCheck({
    endpoint: "/readyz",
    check: async ({ fetchAPI }) => {
      if (draining()) return new fetchAPI.Response("shutting down\n", { status: 503, headers: { "content-type": "text/plain" } });
      const state = await services.db.readiness();
      const body = state === "ready" ? "ready\n" : state === "read-only" ? "database read-only\n" : "database unavailable\n";
      return new fetchAPI.Response(body, { status: state === "ready" ? 200 : 503, headers: { "content-type": "text/plain" } });
    },
  });
}

/**
 * `/metrics`: Prometheus text (yoga has no endpoint of its own for it). It counts every
 * workspace's mutations, so with ONCEQL_METRICS_TOKEN set only that bearer may read it.
 */
export function metricsPlugin(services: Pick<Services, "metrics" | "config">): Plugin {
  const expected = services.config.metricsToken === undefined ? undefined : digest(services.config.metricsToken);
  return {
    async onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== "/metrics") return;
      if (expected && !bearerIs(request.headers.get("authorization"), expected)) {
        return endResponse(
          new fetchAPI.Response("unauthorized\n", {
            status: 401,
            headers: { "content-type": "text/plain", "www-authenticate": 'Bearer realm="metrics"' },
          }),
        );
      }
      endResponse(new fetchAPI.Response(await services.metrics.metrics(), { headers: { "content-type": services.metrics.contentType } }));
    },
  };
}

/** Digests of equal length, so the comparison takes as long whatever was sent, and tells nothing. */
function bearerIs(authorization: string | null, expected: Buffer): boolean {
  const sent = /^Bearer (.+)$/i.exec(authorization ?? "")?.[1] ?? "";
  return timingSafeEqual(digest(sent), expected);
}

function digest(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}
