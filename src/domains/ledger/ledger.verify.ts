import type { PrismaClient } from "../../generated/prisma/client.ts";

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
/** The addresses of ledger.accounts.ts, with ids in their canonical spelling; the database CHECKs it too. */
const CANONICAL_ADDRESS = `^(world|wallet:${UUID}:[A-Za-z0-9_-]{1,64}|hold:${UUID})$`;

export interface AssetAudit {
  asset: string;
  postings: number;
  /** Everything that moved in this asset. */
  moved: bigint;
  /** What the postings add up to over every account of every workspace: 0 in a sound ledger. */
  sum: bigint;
  /** Workspaces in which this asset does not sum to zero. */
  unbalancedWorkspaces: number;
  /** Accounts (other than world) below zero, by their postings or their stored balance. */
  negativeAccounts: number;
  /** Accounts whose stored balance is not what their postings add up to. */
  driftedAccounts: number;
}

export interface LedgerAudit {
  assets: AssetAudit[];
  /** Holds whose `remaining` is not what their account holds. */
  driftedHolds: number;
  /**
   * Accounts whose address is not the one spelling of what they are (`world`,
   * `wallet:<its wallet's canonical id>:<its balance's name>`, `hold:<canonical id>`), or postings
   * to or from such an address: with a second spelling one balance would have two accounts.
   */
  nonCanonicalAddresses: number;
  ok: boolean;
}

/**
 * Checks the ledger from its postings alone: per asset (and per workspace) everything sums to zero,
 * no account but a world account is negative, every stored balance is what its postings add up to,
 * every hold's remaining is its account's balance, and every address is spelled canonically.
 */
export async function verifyLedger(prisma: PrismaClient): Promise<LedgerAudit> {
  const rows = await prisma.$queryRaw<
    (Omit<AssetAudit, "postings" | "unbalancedWorkspaces" | "negativeAccounts" | "driftedAccounts"> &
      Record<string, bigint | number | string>)[]
  >`
    WITH flows AS (
      SELECT workspace_id, destination AS address, asset, amount AS delta FROM ledger_postings
      UNION ALL
      SELECT workspace_id, source, asset, -amount FROM ledger_postings
    ), nets AS (
      SELECT workspace_id, address, asset, sum(delta) AS net FROM flows GROUP BY 1, 2, 3
    ), accounts AS (
      SELECT a.workspace_id, a.asset, a.kind, a.balance, coalesce(n.net, 0) AS net
      FROM ledger_accounts a LEFT JOIN nets n USING (workspace_id, address, asset)
    ), per_workspace AS (
      SELECT workspace_id, asset, sum(net) AS total FROM accounts GROUP BY 1, 2
    ), postings AS (
      SELECT asset, count(*) AS postings, sum(amount) AS moved FROM ledger_postings GROUP BY asset
    )
    SELECT a.asset,
           coalesce(p.postings, 0)::int AS postings,
           coalesce(p.moved, 0)::bigint AS moved,
           sum(a.net)::bigint AS sum,
           (SELECT count(*) FROM per_workspace w WHERE w.asset = a.asset AND w.total <> 0)::int AS "unbalancedWorkspaces",
           count(*) FILTER (WHERE a.kind <> 'WORLD' AND (a.net < 0 OR a.balance < 0))::int AS "negativeAccounts",
           count(*) FILTER (WHERE a.kind <> 'WORLD' AND a.balance <> a.net)::int AS "driftedAccounts"
    FROM accounts a LEFT JOIN postings p USING (asset)
    GROUP BY a.asset, p.postings, p.moved
    ORDER BY a.asset`;
  const [holds] = await prisma.$queryRaw<{ drifted: number }[]>`
    SELECT count(*)::int AS drifted FROM holds h
    LEFT JOIN ledger_accounts a ON a.workspace_id = h.workspace_id AND a.address = 'hold:' || h.id AND a.asset = h.asset
    WHERE coalesce(a.balance, 0) <> h.remaining`;
  const [addresses] = await prisma.$queryRaw<{ nonCanonical: number }[]>`
    WITH used AS (
      SELECT workspace_id, address, kind, wallet_id, balance_id FROM ledger_accounts
      UNION ALL
      SELECT workspace_id, source, NULL, NULL, NULL FROM ledger_postings
      UNION ALL
      SELECT workspace_id, destination, NULL, NULL, NULL FROM ledger_postings
    )
    SELECT count(*)::int AS "nonCanonical" FROM used u
    WHERE u.address !~ ${CANONICAL_ADDRESS}
       OR (u.kind = 'BALANCE' AND NOT EXISTS (
            SELECT 1 FROM wallet_balances b
            WHERE b.workspace_id = u.workspace_id AND b.id = u.balance_id AND u.address = 'wallet:' || b.wallet_id || ':' || b.name))`;
  const assets = rows as unknown as AssetAudit[];
  const driftedHolds = holds?.drifted ?? 0;
  const nonCanonicalAddresses = addresses?.nonCanonical ?? 0;
  const ok =
    driftedHolds === 0 &&
    nonCanonicalAddresses === 0 &&
    assets.every((a) => a.sum === 0n && a.unbalancedWorkspaces === 0 && a.negativeAccounts === 0 && a.driftedAccounts === 0);
  return { assets, driftedHolds, nonCanonicalAddresses, ok };
}

export function formatAudit(audit: LedgerAudit): string {
  const lines = audit.assets.map(
    (a) =>
      `${a.asset}: sum of all postings ${a.sum} (${a.postings} postings, ${a.moved} moved); ` +
      `unbalanced workspaces ${a.unbalancedWorkspaces}, negative accounts ${a.negativeAccounts}, drifted balances ${a.driftedAccounts}`,
  );
  if (audit.assets.length === 0) lines.push("no postings yet");
  lines.push(`holds whose remaining is not their account's balance: ${audit.driftedHolds}`);
  lines.push(`addresses not spelled canonically: ${audit.nonCanonicalAddresses}`);
  lines.push(audit.ok ? "ledger verified" : "LEDGER DOES NOT VERIFY");
  return lines.join("\n");
}
