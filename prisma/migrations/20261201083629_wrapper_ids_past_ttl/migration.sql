-- DropIndex
DROP INDEX "ledger_transactions_workspace_id_wallet_id_id_idx";

-- AlterTable
ALTER TABLE "cards" ADD COLUMN     "operation_id" UUID;

-- CreateIndex
CREATE UNIQUE INDEX "cards_workspace_id_operation_id_key" ON "cards"("workspace_id", "operation_id");

-- CreateIndex
CREATE INDEX "ledger_transactions_workspace_id_wallet_id_created_at_id_idx" ON "ledger_transactions"("workspace_id", "wallet_id", "created_at", "id");
