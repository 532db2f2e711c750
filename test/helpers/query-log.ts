import type { Database } from "../../src/db/database.ts";
import { pgliteDatabase } from "./databases.ts";
import { startTestApp, type TestApp, type TestAppOptions } from "./test-app.ts";

/**
 * A test app whose database reports every SQL statement it is sent, so a test can count what one
 * request costs (a query log, as Pothos' own prisma tests keep), whatever code path sent it.
 */
export async function startCountingApp(
  options: Omit<TestAppOptions, "db" | "databaseUrl"> & {
    /** Opens the database that reports to `onQuery`: by default an embedded one in memory. */
    open?: (onQuery: (sql: string) => void) => Promise<Database>;
  } = {},
): Promise<TestApp & { statementsDuring(work: () => Promise<unknown>): Promise<string[]> }> {
  let log: string[] | undefined;
  const onQuery = (sql: string) => log?.push(sql);
  const db = await (options.open ?? ((report) => pgliteDatabase({ onQuery: report })))(onQuery);
  const t = await startTestApp({ ...options, db });
  return {
    ...t,
    async statementsDuring(work) {
      // Replay counts are flushed in the background: flush them now, so none lands in the log.
      await t.app.services.idempotency.flushCounts();
      log = [];
      try {
        await work();
        return log;
      } finally {
        log = undefined;
      }
    },
    async close() {
      await t.close();
      await db.close();
    },
  };
}
