-- CreateEnum
CREATE TYPE "CardStatus" AS ENUM ('ACTIVE', 'FROZEN', 'DELETED');

-- CreateEnum
CREATE TYPE "CardOrigin" AS ENUM ('ISSUED', 'ADOPTED');

-- CreateTable
CREATE TABLE "cards" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "identity_id" UUID NOT NULL,
    "active_identity_id" UUID,
    "last4" TEXT NOT NULL,
    "exp_month" INTEGER NOT NULL,
    "exp_year" INTEGER NOT NULL,
    "status" "CardStatus" NOT NULL,
    "origin" "CardOrigin" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "cards_pkey" PRIMARY KEY ("workspace_id","id")
);

-- CreateIndex
CREATE INDEX "cards_workspace_id_identity_id_created_at_idx" ON "cards"("workspace_id", "identity_id", "created_at");

-- CreateIndex
CREATE UNIQUE INDEX "cards_workspace_id_active_identity_id_key" ON "cards"("workspace_id", "active_identity_id");

-- AddForeignKey
ALTER TABLE "cards" ADD CONSTRAINT "cards_workspace_id_identity_id_fkey" FOREIGN KEY ("workspace_id", "identity_id") REFERENCES "identities"("workspace_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- At most one ACTIVE card per identity, held by the database itself: active_identity_id is filled
-- exactly when the card is ACTIVE, with the card's own identity, and it is unique per workspace.
ALTER TABLE "cards" ADD CONSTRAINT "cards_active_identity_check" CHECK (
    ("status" = 'ACTIVE') = ("active_identity_id" IS NOT NULL)
    AND ("active_identity_id" IS NULL OR "active_identity_id" = "identity_id")
);
