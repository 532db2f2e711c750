import { createHash, timingSafeEqual } from "node:crypto";
import { type Plugin, useReadinessCheck } from "graphql-yoga";
import type { Services } from "../context.ts";

/** `/readyz`: 200 while the database answers, 503 while it does not (yoga's readiness check). */
export function readinessPlugin(services: Pick<Services, "db">): Plugin {
  return useReadinessCheck({
    endpoint: "/readyz",
    check: async ({ fetchAPI }) => {
      const ready = await services.db.prisma.$queryRaw`SELECT 1`.then(
        () => true,
        () => false,
      );
      return new fetchAPI.Response(ready ? "ready\n" : "database unavailable\n", {
        status: ready ? 200 : 503,
        headers: { "content-type": "text/plain" },
      });
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
