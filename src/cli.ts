import { Command } from "commander";
import ms from "ms";
import pino from "pino";
import { TOKEN_CACHE_MS } from "./auth/authenticate.ts";
import { auditTokenChange } from "./auth/token-audit.ts";
import { revokeTokens, rotateTokens } from "./auth/workspace-tokens.ts";
import { createWorkspace, findWorkspaceByNameOrId, requireWorkspaceName } from "./auth/workspaces.ts";
import { type Config, ConfigError, loadConfig } from "./config.ts";
import { type Database, openDatabase } from "./db/database.ts";
import { resolveMigration } from "./db/migration-recovery.ts";
import { applyMigrations, diffMigrations, writeMigration } from "./db/migrations.ts";
import { formatAudit, verifyLedger } from "./domains/ledger/ledger.verify.ts";
import { idempotencyOf } from "./idempotency/runner.ts";
import { createLogger } from "./logger.ts";

/** Opens the database the server would (DATABASE_URL or ONCEQL_DATA_DIR), migrated, for one command. */
async function withDatabase<T>(work: (db: Database, config: Config) => Promise<T>): Promise<T> {
  const config = loadConfig();
  // Past any pooler: migrations take a session-level lock, and the CLI's work is no request's.
  const db = await openDatabase({ databaseUrl: config.directDatabaseUrl ?? config.databaseUrl, dataDir: config.dataDir });
  try {
    await applyMigrations(db.adapterFactory);
    return await work(db, config);
  } finally {
    await db.close();
  }
}

/** What the command ends with. (Not process.exitCode: closing PGlite's runtime resets that to 0.) */
let exitCode = 0;

const program = new Command("onceql").description("onceql administration").showHelpAfterError();

const workspace = program.command("workspace").description("workspaces and their tokens");
workspace
  .command("create")
  .argument("<name>", "the workspace's name")
  .description("create a workspace; its token is printed once, as the last line")
  .action(async (name: string) => {
    // Before the database is opened (on the embedded one, created): a refused name leaves nothing behind.
    requireWorkspaceName(name);
    await withDatabase(async (db) => {
      const created = await createWorkspace(db.prisma, name);
      console.log(`created workspace ${created.workspace.name} (${created.workspace.id}); its token:`);
      console.log(created.token);
    });
  });

const token = workspace.command("token").description("rotate or revoke a workspace's tokens (each change is logged as one JSON line)");
token
  .command("rotate")
  .argument("<workspace>", "the workspace's name, or its id when several share the name")
  .option("--grace <duration>", "how long the workspace's current tokens keep working (e.g. 30m, 24h, 7d; 0: stop now)", "24h")
  .description(
    "issue a new token, printed once as the last line; the current tokens keep working for the grace " +
      "(24h by default), then stop on every server",
  )
  .action(async (name: string, flags: { grace: string }) => {
    const graceMs = duration("--grace", flags.grace);
    await withDatabase(async (db) => {
      const target = await findWorkspaceByNameOrId(db.prisma, name);
      const rotated = await rotateTokens(db.prisma, target.id, graceMs);
      const oldTokensEndAt = rotated.oldTokensEndAt.toISOString();
      auditTokenChange(auditLog(), target, "rotate", { graceMs, oldTokens: rotated.oldTokens, oldTokensEndAt });
      console.log(`rotated the tokens of workspace ${target.name} (${target.id}): the old ones stop at ${oldTokensEndAt}; the new token:`);
      console.log(rotated.token);
    });
  });
token
  .command("revoke")
  .argument("<workspace>", "the workspace's name, or its id when several share the name")
  .description(
    `stop every token of the workspace now (every server refuses them within ${TOKEN_CACHE_MS / 1000} s); \`token rotate\` then issues a new one`,
  )
  .action(async (name: string) => {
    await withDatabase(async (db) => {
      const target = await findWorkspaceByNameOrId(db.prisma, name);
      const revoked = await revokeTokens(db.prisma, target.id);
      auditTokenChange(auditLog(), target, "revoke", { revokedTokens: revoked });
      console.log(`revoked ${revoked} tokens of workspace ${target.name} (${target.id})`);
    });
  });

/**
 * Written whatever LOG_LEVEL says, so a token change is never left out of the logs; and at once,
 * before the new token is printed, so the token stays the output's last line.
 */
const auditLog = () => createLogger("info", undefined, pino.destination({ dest: 1, sync: true }));

/** A duration as `ms` reads it ("90s", "24h", "7d"), or a number of milliseconds. */
function duration(flag: string, raw: string): number {
  const parsed = /^\d+$/.test(raw) ? Number(raw) : ms(raw as ms.StringValue);
  if (typeof parsed !== "number" || !Number.isFinite(parsed) || parsed < 0) {
    throw new Error(`${flag}: expected a duration such as 30m, 24h or 7d, got ${JSON.stringify(raw)}`);
  }
  return parsed;
}

program
  .command("sweep")
  .description("delete expired idempotency records, keeping their daily counters")
  .action(async () => {
    await withDatabase(async (db, config) => {
      const idempotency = idempotencyOf(db, config);
      const swept = await idempotency.sweep();
      await idempotency.close();
      console.log(`swept ${swept.records} expired records and ${swept.dailyStats} old daily counters`);
    });
  });

const ledger = program.command("ledger").description("the double-entry ledger under wallets");
ledger
  .command("verify")
  .description("per asset, the sum of all postings (0) and every account's balance checked against its postings; exit 0 only when sound")
  .action(async () => {
    await withDatabase(async (db) => {
      const audit = await verifyLedger(db.prisma);
      console.log(formatAudit(audit));
      if (!audit.ok) exitCode = 1;
    });
  });

const database = program.command("db").description("migrations, without Prisma's native engine");
database
  .command("migrate")
  .description("apply pending migrations (as prisma migrate deploy)")
  .action(async () => {
    const config = loadConfig();
    // Past any pooler: migrations take a session-level lock, and the CLI's work is no request's.
    const db = await openDatabase({ databaseUrl: config.directDatabaseUrl ?? config.databaseUrl, dataDir: config.dataDir });
    try {
      const applied = await applyMigrations(db.adapterFactory);
      console.log(applied.length ? `applied ${applied.join(", ")}` : "the database is up to date");
    } finally {
      await db.close();
    }
  });
database
  .command("resolve")
  .argument("<migration>", "the migration's folder name, as the error named it")
  .option("--rolled-back", "none of it is applied: the next start applies it again")
  .option("--applied", "all of it is applied: recorded as finished")
  .description("record a failed or cut-off migration as rolled back or applied, as prisma migrate resolve does")
  .action(async (migration: string, flags: { rolledBack?: boolean; applied?: boolean }) => {
    if (!flags.rolledBack === !flags.applied) throw new Error("db resolve: give exactly one of --rolled-back and --applied");
    const as = flags.applied ? "applied" : "rolled-back";
    const config = loadConfig();
    // Past any pooler: migrations take a session-level lock, and the CLI's work is no request's.
    const db = await openDatabase({ databaseUrl: config.directDatabaseUrl ?? config.databaseUrl, dataDir: config.dataDir });
    try {
      const changed = await resolveMigration(db.adapterFactory, migration, as);
      if (!changed) throw new Error(`db resolve: ${migration} is not a failed or unfinished migration of this database`);
      console.log(`recorded ${migration} as ${as}`);
    } finally {
      await db.close();
    }
  });
database
  .command("diff")
  .argument("[name]", "name of the new migration", "change")
  .description("write the SQL that brings prisma/migrations up to schema.prisma as a new migration")
  .action(async (name: string) => {
    const db = await openDatabase({});
    try {
      const sql = await diffMigrations(db.adapterFactory);
      console.log(sql ? `wrote ${writeMigration(name, sql)}` : "prisma/migrations already match schema.prisma");
    } finally {
      await db.close();
    }
  });

try {
  await program.parseAsync();
} catch (error) {
  console.error(`onceql: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
}
// Everything is closed by now, but a timer the database clients leave behind would keep the
// process alive for another ten seconds: a one-shot command ends here.
process.exit(exitCode);
