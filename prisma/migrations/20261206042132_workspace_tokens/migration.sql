-- AlterTable
ALTER TABLE "workspaces" ALTER COLUMN "token_hash" DROP NOT NULL;

-- CreateTable
CREATE TABLE "workspace_tokens" (
    "workspace_id" UUID NOT NULL,
    "token_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "workspace_tokens_pkey" PRIMARY KEY ("workspace_id","token_hash")
);

-- AddForeignKey
ALTER TABLE "workspace_tokens" ADD CONSTRAINT "workspace_tokens_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Every token issued so far keeps working, through its row: from now on a token works only while
-- its row says so (not expired, not revoked).
INSERT INTO "workspace_tokens" ("workspace_id", "token_hash", "created_at")
SELECT "id", "token_hash", "created_at" FROM "workspaces" WHERE "token_hash" IS NOT NULL;
