-- CreateEnum
CREATE TYPE "ReservationStatus" AS ENUM ('ACTIVE', 'EXPIRED', 'CONSUMED');

-- CreateEnum
CREATE TYPE "OrderStatus" AS ENUM ('RESERVED', 'PAID', 'EXPIRED');

-- CreateEnum
CREATE TYPE "PaymentStatus" AS ENUM ('SUCCEEDED', 'FAILED');

-- CreateTable
CREATE TABLE "products" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "sku" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "asset" TEXT NOT NULL,
    "price" BIGINT NOT NULL,
    "stock" INTEGER NOT NULL,
    "reserved" INTEGER NOT NULL DEFAULT 0,
    "sold" INTEGER NOT NULL DEFAULT 0,
    "initial_stock" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "products_pkey" PRIMARY KEY ("workspace_id","id")
);

-- CreateTable
CREATE TABLE "inventory_adjustments" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "product_id" UUID NOT NULL,
    "delta" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inventory_adjustments_pkey" PRIMARY KEY ("workspace_id","id")
);

-- CreateTable
CREATE TABLE "inventory_reservations" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "product_id" UUID NOT NULL,
    "order_id" UUID,
    "quantity" INTEGER NOT NULL,
    "status" "ReservationStatus" NOT NULL DEFAULT 'ACTIVE',
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "resolved_at" TIMESTAMPTZ(3),

    CONSTRAINT "inventory_reservations_pkey" PRIMARY KEY ("workspace_id","id")
);

-- CreateTable
CREATE TABLE "orders" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "status" "OrderStatus" NOT NULL DEFAULT 'RESERVED',
    "asset" TEXT NOT NULL,
    "total" BIGINT NOT NULL,
    "customer_id" UUID,
    "reserved_until" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "paid_at" TIMESTAMPTZ(3),
    "expired_at" TIMESTAMPTZ(3),

    CONSTRAINT "orders_pkey" PRIMARY KEY ("workspace_id","id")
);

-- CreateTable
CREATE TABLE "order_lines" (
    "workspace_id" UUID NOT NULL,
    "order_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "product_id" UUID NOT NULL,
    "sku" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "asset" TEXT NOT NULL,
    "unit_price" BIGINT NOT NULL,

    CONSTRAINT "order_lines_pkey" PRIMARY KEY ("workspace_id","order_id","seq")
);

-- CreateTable
CREATE TABLE "payments" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "order_id" UUID NOT NULL,
    "paid_order_id" UUID,
    "wallet_id" UUID NOT NULL,
    "status" "PaymentStatus" NOT NULL,
    "reason" TEXT,
    "asset" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "refunded" BIGINT NOT NULL DEFAULT 0,
    "transaction_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "payments_pkey" PRIMARY KEY ("workspace_id","id")
);

-- CreateTable
CREATE TABLE "refunds" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "payment_id" UUID NOT NULL,
    "order_id" UUID NOT NULL,
    "asset" TEXT NOT NULL,
    "amount" BIGINT NOT NULL,
    "transaction_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "refunds_pkey" PRIMARY KEY ("workspace_id","id")
);

-- CreateIndex
CREATE UNIQUE INDEX "products_workspace_id_sku_key" ON "products"("workspace_id", "sku");

-- CreateIndex
CREATE INDEX "inventory_adjustments_workspace_id_product_id_idx" ON "inventory_adjustments"("workspace_id", "product_id");

-- CreateIndex
CREATE INDEX "inventory_reservations_workspace_id_product_id_status_expir_idx" ON "inventory_reservations"("workspace_id", "product_id", "status", "expires_at");

-- CreateIndex
CREATE INDEX "inventory_reservations_workspace_id_order_id_idx" ON "inventory_reservations"("workspace_id", "order_id");

-- CreateIndex
CREATE INDEX "inventory_reservations_status_expires_at_idx" ON "inventory_reservations"("status", "expires_at");

-- CreateIndex
CREATE INDEX "orders_workspace_id_created_at_idx" ON "orders"("workspace_id", "created_at");

-- CreateIndex
CREATE INDEX "payments_workspace_id_order_id_idx" ON "payments"("workspace_id", "order_id");

-- CreateIndex
CREATE UNIQUE INDEX "payments_workspace_id_paid_order_id_key" ON "payments"("workspace_id", "paid_order_id");

-- CreateIndex
CREATE INDEX "refunds_workspace_id_payment_id_idx" ON "refunds"("workspace_id", "payment_id");

-- CreateIndex
CREATE INDEX "refunds_workspace_id_order_id_idx" ON "refunds"("workspace_id", "order_id");

-- AddForeignKey
ALTER TABLE "inventory_adjustments" ADD CONSTRAINT "inventory_adjustments_workspace_id_product_id_fkey" FOREIGN KEY ("workspace_id", "product_id") REFERENCES "products"("workspace_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "inventory_reservations" ADD CONSTRAINT "inventory_reservations_workspace_id_product_id_fkey" FOREIGN KEY ("workspace_id", "product_id") REFERENCES "products"("workspace_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "inventory_reservations" ADD CONSTRAINT "inventory_reservations_workspace_id_order_id_fkey" FOREIGN KEY ("workspace_id", "order_id") REFERENCES "orders"("workspace_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "orders" ADD CONSTRAINT "orders_workspace_id_customer_id_fkey" FOREIGN KEY ("workspace_id", "customer_id") REFERENCES "identities"("workspace_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "order_lines" ADD CONSTRAINT "order_lines_workspace_id_order_id_fkey" FOREIGN KEY ("workspace_id", "order_id") REFERENCES "orders"("workspace_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "order_lines" ADD CONSTRAINT "order_lines_workspace_id_product_id_fkey" FOREIGN KEY ("workspace_id", "product_id") REFERENCES "products"("workspace_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "payments" ADD CONSTRAINT "payments_workspace_id_order_id_fkey" FOREIGN KEY ("workspace_id", "order_id") REFERENCES "orders"("workspace_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "payments" ADD CONSTRAINT "payments_workspace_id_wallet_id_fkey" FOREIGN KEY ("workspace_id", "wallet_id") REFERENCES "wallets"("workspace_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "payments" ADD CONSTRAINT "payments_workspace_id_transaction_id_fkey" FOREIGN KEY ("workspace_id", "transaction_id") REFERENCES "ledger_transactions"("workspace_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_workspace_id_payment_id_fkey" FOREIGN KEY ("workspace_id", "payment_id") REFERENCES "payments"("workspace_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_workspace_id_order_id_fkey" FOREIGN KEY ("workspace_id", "order_id") REFERENCES "orders"("workspace_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_workspace_id_transaction_id_fkey" FOREIGN KEY ("workspace_id", "transaction_id") REFERENCES "ledger_transactions"("workspace_id", "id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Invariants the database keeps whatever the code does (Prisma's schema has no words for them, and leaves them alone).
-- Stock never goes below zero, so stock on hand (stock + reserved) is never below what is reserved, and the
-- quantities fit an int even added up. Prices are minor units, at least zero.
ALTER TABLE "products" ADD CONSTRAINT "products_quantities_check" CHECK (
    "stock" >= 0 AND "reserved" >= 0 AND "sold" >= 0 AND "initial_stock" >= 0
    AND "stock"::bigint + "reserved" + "sold" <= 2147483647
);
ALTER TABLE "products" ADD CONSTRAINT "products_price_check" CHECK ("price" >= 0);
ALTER TABLE "products" ADD CONSTRAINT "products_sku_check" CHECK ("sku" ~ '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$');
ALTER TABLE "inventory_adjustments" ADD CONSTRAINT "inventory_adjustments_delta_check" CHECK ("delta" <> 0);
-- A reservation holds a positive quantity, is resolved exactly when it is no longer ACTIVE, and only an order's is ever sold.
ALTER TABLE "inventory_reservations" ADD CONSTRAINT "inventory_reservations_quantity_check" CHECK ("quantity" > 0);
ALTER TABLE "inventory_reservations" ADD CONSTRAINT "inventory_reservations_resolution_check" CHECK (
    ("status" = 'ACTIVE') = ("resolved_at" IS NULL) AND ("status" <> 'CONSUMED' OR "order_id" IS NOT NULL)
);
ALTER TABLE "orders" ADD CONSTRAINT "orders_total_check" CHECK ("total" >= 0);
ALTER TABLE "orders" ADD CONSTRAINT "orders_resolution_check" CHECK (
    ("status" = 'PAID') = ("paid_at" IS NOT NULL) AND ("status" = 'EXPIRED') = ("expired_at" IS NOT NULL)
);
ALTER TABLE "order_lines" ADD CONSTRAINT "order_lines_amounts_check" CHECK ("quantity" > 0 AND "unit_price" >= 0 AND "seq" >= 0);
-- At most one SUCCEEDED payment per order: paid_order_id is filled exactly when the payment SUCCEEDED, with
-- its own order, and it is unique per workspace. A FAILED payment says why, and nothing of it is ever refunded.
-- Refunds never add up to more than the payment: refunded stays between 0 and the amount.
ALTER TABLE "payments" ADD CONSTRAINT "payments_success_check" CHECK (
    ("status" = 'SUCCEEDED') = ("paid_order_id" IS NOT NULL)
    AND ("paid_order_id" IS NULL OR "paid_order_id" = "order_id")
    AND ("status" = 'FAILED') = ("reason" IS NOT NULL)
);
ALTER TABLE "payments" ADD CONSTRAINT "payments_amounts_check" CHECK (
    "amount" >= 0 AND "refunded" >= 0 AND "refunded" <= "amount" AND ("status" = 'SUCCEEDED' OR "refunded" = 0)
);
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_amount_check" CHECK ("amount" > 0);
