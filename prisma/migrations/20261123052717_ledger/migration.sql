-- CreateEnum
CREATE TYPE "LedgerAccountKind" AS ENUM ('WORLD', 'BALANCE', 'HOLD');

-- CreateEnum
CREATE TYPE "LedgerTransactionKind" AS ENUM ('CREDIT', 'DEBIT', 'HOLD', 'CONFIRM', 'VOID', 'EXPIRE');

-- CreateEnum
CREATE TYPE "HoldStatus" AS ENUM ('PENDING', 'CONFIRMED', 'VOIDED', 'EXPIRED');

-- CreateTable
CREATE TABLE "wallets" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "metadata" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "wallets_pkey" PRIMARY KEY ("workspace_id","id")
);

-- CreateTable
CREATE TABLE "wallet_balances" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "wallet_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "priority" INTEGER NOT NULL DEFAULT 0,
    "expires_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "wallet_balances_pkey" PRIMARY KEY ("workspace_id","id")
);

-- CreateTable
CREATE TABLE "ledger_accounts" (
    "workspace_id" UUID NOT NULL,
    "address" TEXT NOT NULL,
    "asset" TEXT NOT NULL,
    "kind" "LedgerAccountKind" NOT NULL,
    "balance" BIGINT NOT NULL DEFAULT 0,
    "wallet_id" UUID,
    "balance_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_accounts_pkey" PRIMARY KEY ("workspace_id","address","asset")
);

-- CreateTable
CREATE TABLE "ledger_transactions" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "wallet_id" UUID NOT NULL,
    "kind" "LedgerTransactionKind" NOT NULL,
    "hold_id" UUID,
    "metadata" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ledger_transactions_pkey" PRIMARY KEY ("workspace_id","id")
);

-- CreateTable
CREATE TABLE "ledger_postings" (
    "workspace_id" UUID NOT NULL,
    "transaction_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "source" TEXT NOT NULL,
    "destination" TEXT NOT NULL,
    "asset" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,

    CONSTRAINT "ledger_postings_pkey" PRIMARY KEY ("workspace_id","transaction_id","seq")
);

-- CreateTable
CREATE TABLE "holds" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "wallet_id" UUID NOT NULL,
    "asset" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "remaining" BIGINT NOT NULL,
    "status" "HoldStatus" NOT NULL DEFAULT 'PENDING',
    "expires_at" TIMESTAMPTZ(3),
    "transaction_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMPTZ(3),

    CONSTRAINT "holds_pkey" PRIMARY KEY ("workspace_id","id")
);

-- CreateIndex
CREATE UNIQUE INDEX "wallet_balances_workspace_id_wallet_id_name_key" ON "wallet_balances"("workspace_id", "wallet_id", "name");

-- CreateIndex
CREATE INDEX "ledger_accounts_workspace_id_balance_id_idx" ON "ledger_accounts"("workspace_id", "balance_id");

-- CreateIndex
CREATE INDEX "ledger_transactions_workspace_id_wallet_id_id_idx" ON "ledger_transactions"("workspace_id", "wallet_id", "id");

-- CreateIndex
CREATE INDEX "holds_workspace_id_wallet_id_created_at_idx" ON "holds"("workspace_id", "wallet_id", "created_at");

-- CreateIndex
CREATE INDEX "holds_workspace_id_wallet_id_status_expires_at_idx" ON "holds"("workspace_id", "wallet_id", "status", "expires_at");

-- CreateIndex
CREATE INDEX "holds_status_expires_at_idx" ON "holds"("status", "expires_at");

-- AddForeignKey
ALTER TABLE "wallet_balances" ADD CONSTRAINT "wallet_balances_workspace_id_wallet_id_fkey" FOREIGN KEY ("workspace_id", "wallet_id") REFERENCES "wallets"("workspace_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_workspace_id_balance_id_fkey" FOREIGN KEY ("workspace_id", "balance_id") REFERENCES "wallet_balances"("workspace_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_transactions" ADD CONSTRAINT "ledger_transactions_workspace_id_wallet_id_fkey" FOREIGN KEY ("workspace_id", "wallet_id") REFERENCES "wallets"("workspace_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_postings" ADD CONSTRAINT "ledger_postings_workspace_id_transaction_id_fkey" FOREIGN KEY ("workspace_id", "transaction_id") REFERENCES "ledger_transactions"("workspace_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_postings" ADD CONSTRAINT "ledger_postings_workspace_id_source_asset_fkey" FOREIGN KEY ("workspace_id", "source", "asset") REFERENCES "ledger_accounts"("workspace_id", "address", "asset") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ledger_postings" ADD CONSTRAINT "ledger_postings_workspace_id_destination_asset_fkey" FOREIGN KEY ("workspace_id", "destination", "asset") REFERENCES "ledger_accounts"("workspace_id", "address", "asset") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "holds" ADD CONSTRAINT "holds_workspace_id_wallet_id_fkey" FOREIGN KEY ("workspace_id", "wallet_id") REFERENCES "wallets"("workspace_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Invariants the database keeps whatever the code does (Prisma's schema has no words for them, and leaves them alone).
-- No account but a world account ever goes below zero, and a world account keeps no balance at all.
ALTER TABLE "ledger_accounts" ADD CONSTRAINT "ledger_accounts_balance_check" CHECK (CASE WHEN "kind" = 'WORLD' THEN "balance" = 0 ELSE "balance" >= 0 END);
ALTER TABLE "ledger_postings" ADD CONSTRAINT "ledger_postings_amount_check" CHECK ("amount" > 0 AND "source" <> "destination");
-- A hold never holds more than it took, and holds nothing once it is resolved.
ALTER TABLE "holds" ADD CONSTRAINT "holds_amounts_check" CHECK ("amount" > 0 AND "remaining" >= 0 AND "remaining" <= "amount");
ALTER TABLE "holds" ADD CONSTRAINT "holds_resolution_check" CHECK (("status" = 'PENDING') = ("resolved_at" IS NULL) AND ("status" = 'PENDING' OR "remaining" = 0));
ALTER TABLE "wallet_balances" ADD CONSTRAINT "wallet_balances_name_check" CHECK ("name" ~ '^[A-Za-z0-9_-]{1,64}$');
