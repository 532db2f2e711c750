import type { Plugin } from "graphql-yoga";
import type { Services } from "../context.ts";

/** `/healthz` (the process answers), `/readyz` (so does the database), `/metrics` (Prometheus text). */
export function probesPlugin(services: Pick<Services, "db" | "metrics">): Plugin {
  return {
    async onRequest({ url, endResponse, fetchAPI }) {
      switch (url.pathname) {
        case "/healthz":
          return endResponse(new fetchAPI.Response("ok\n", { headers: { "content-type": "text/plain" } }));
        case "/readyz": {
          const ready = await services.db.prisma.$queryRaw`SELECT 1`.then(
            () => true,
            () => false,
          );
          return endResponse(
            new fetchAPI.Response(ready ? "ready\n" : "database unavailable\n", {
              status: ready ? 200 : 503,
              headers: { "content-type": "text/plain" },
            }),
          );
        }
        case "/metrics":
          return endResponse(
            new fetchAPI.Response(await services.metrics.metrics(), {
              headers: { "content-type": services.metrics.contentType },
            }),
          );
      }
    },
  };
}
