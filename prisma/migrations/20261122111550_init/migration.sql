-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "IdempotencyStatus" AS ENUM ('IN_PROGRESS', 'COMPLETED');

-- CreateTable
CREATE TABLE "workspaces" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workspaces_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "idempotency_records" (
    "workspace_id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "mutation" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "status" "IdempotencyStatus" NOT NULL,
    "lease_token" UUID,
    "lease_expires_at" TIMESTAMPTZ(3),
    "outcome" TEXT,
    "encrypted" BOOLEAN NOT NULL DEFAULT false,
    "replay_count" INTEGER NOT NULL DEFAULT 0,
    "conflict_count" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "completed_at" TIMESTAMPTZ(3),
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "idempotency_records_pkey" PRIMARY KEY ("workspace_id","key")
);

-- CreateTable
CREATE TABLE "idempotency_daily_stats" (
    "workspace_id" UUID NOT NULL,
    "day" DATE NOT NULL,
    "mutation" TEXT NOT NULL,
    "executions" INTEGER NOT NULL DEFAULT 0,
    "replays" INTEGER NOT NULL DEFAULT 0,
    "conflicts" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "idempotency_daily_stats_pkey" PRIMARY KEY ("workspace_id","day","mutation")
);

-- CreateTable
CREATE TABLE "identities" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "external_id" TEXT NOT NULL,
    "meta" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "identities_pkey" PRIMARY KEY ("workspace_id","id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "identity_id" UUID,
    "name" TEXT,
    "meta" JSONB,
    "secret_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("workspace_id","id")
);

-- CreateIndex
CREATE UNIQUE INDEX "workspaces_token_hash_key" ON "workspaces"("token_hash");

-- CreateIndex
CREATE INDEX "idempotency_records_expires_at_idx" ON "idempotency_records"("expires_at");

-- CreateIndex
CREATE INDEX "idempotency_daily_stats_day_idx" ON "idempotency_daily_stats"("day");

-- CreateIndex
CREATE UNIQUE INDEX "identities_workspace_id_external_id_key" ON "identities"("workspace_id", "external_id");

-- CreateIndex
CREATE INDEX "api_keys_workspace_id_identity_id_idx" ON "api_keys"("workspace_id", "identity_id");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_workspace_id_secret_hash_key" ON "api_keys"("workspace_id", "secret_hash");

-- AddForeignKey
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_workspace_id_identity_id_fkey" FOREIGN KEY ("workspace_id", "identity_id") REFERENCES "identities"("workspace_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;
