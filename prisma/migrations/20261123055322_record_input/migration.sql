-- AlterTable
ALTER TABLE "idempotency_records" ADD COLUMN     "input" TEXT;
