import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { openDatabase } from "../../src/db/database.ts";
import { applyMigrations } from "../../src/db/migrations.ts";
import { spawnEntry } from "../helpers/processes.ts";
import { startTestApp } from "../helpers/test-app.ts";
import { credit, newWallet, USD } from "../helpers/wallets.ts";

const dataDir = mkdtempSync(path.join(tmpdir(), "onceql-ledger-verify-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** `npm run cli -- ledger verify` on the embedded database: its output and exit code. */
async function verify(): Promise<{ code: number | null; output: string }> {
  const cli = spawnEntry("src/cli.ts", ["ledger", "verify"], { ONCEQL_DATA_DIR: dataDir });
  const code = await cli.exited;
  return { code, output: cli.output() };
}

/** Works on the same data folder the CLI opens, then lets go of it. */
async function withDatabase(work: (t: Awaited<ReturnType<typeof startTestApp>>) => Promise<void>): Promise<void> {
  const db = await openDatabase({ dataDir });
  await applyMigrations(db.adapterFactory);
  const t = await startTestApp({ db });
  try {
    await work(t);
  } finally {
    await t.close();
    await db.close();
  }
}

it("npm run cli -- ledger verify: one line per asset summing to zero, exit 0; a balance that drifted from its postings, exit 1", async () => {
  await withDatabase(async (t) => {
    const walletId = await newWallet(t);
    await credit(t, walletId, 500);
    await credit(t, walletId, 7, { asset: "EUR/2" });
    await t.sdk().DebitWallet({ input: { walletId, amount: { asset: USD, value: "120" }, pending: true } });
  });
  const sound = await verify();
  expect(sound.output).toMatch(/^EUR\/2: sum of all postings 0 \(1 postings, 7 moved\)/m);
  expect(sound.output).toMatch(
    /^USD\/2: sum of all postings 0 \(2 postings, 620 moved\); unbalanced workspaces 0, negative accounts 0, drifted balances 0$/m,
  );
  expect(sound.output).toMatch(/ledger verified/);
  expect(sound.code).toBe(0);

  await withDatabase(async (t) => {
    await t.db.prisma.$executeRaw`UPDATE ledger_accounts SET balance = balance + 1 WHERE kind = 'BALANCE' AND asset = 'USD/2'`;
  });
  const drifted = await verify();
  expect(drifted.output).toMatch(/drifted balances 1/);
  expect(drifted.output).toMatch(/LEDGER DOES NOT VERIFY/);
  expect(drifted.code).toBe(1);
});

it("an account address spelled otherwise than canonically: the database refuses it, and ledger verify, finding one written before that check, exits 1", async () => {
  let walletId = "";
  await withDatabase(async (t) => {
    walletId = await newWallet(t);
    await credit(t, walletId, 50);
    const upper = `wallet:${walletId.toUpperCase()}:main`;
    await expect(
      t.db.prisma.$executeRaw`UPDATE ledger_accounts SET address = ${upper} WHERE wallet_id = ${walletId}::uuid`,
    ).rejects.toThrow(/ledger_accounts_address_canonical/);
    // As a database written before the check would hold it (the migration adds it NOT VALID).
    await t.db.prisma.$executeRaw`ALTER TABLE ledger_accounts DROP CONSTRAINT ledger_accounts_address_canonical`;
    await t.db.prisma.$executeRaw`ALTER TABLE ledger_postings DROP CONSTRAINT ledger_postings_addresses_canonical`;
    await t.db.prisma.$executeRaw`UPDATE ledger_accounts SET address = ${upper} WHERE wallet_id = ${walletId}::uuid`;
  });
  const audit = await verify();
  expect(audit.output).toMatch(/^addresses not spelled canonically: [1-9]/m);
  expect(audit.output).toMatch(/LEDGER DOES NOT VERIFY/);
  expect(audit.code).toBe(1);
});
