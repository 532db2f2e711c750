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

/** `/metrics`: Prometheus text (yoga has no endpoint of its own for it). */
export function metricsPlugin(services: Pick<Services, "metrics">): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== "/metrics") return;
      endResponse(new fetchAPI.Response(await services.metrics.metrics(), { headers: { "content-type": services.metrics.contentType } }));
    },
  };
}
