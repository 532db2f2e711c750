import { OrderStatus } from "../../generated/prisma/enums.ts";
import { builder } from "../../schema/builder.ts";
import { MoneyType } from "../../schema/money.ts";
import { userErrorType } from "../../schema/user-error.type.ts";
import { OrderNotFoundError, OrderNotPayableError } from "./commerce.errors.ts";

export const OrderStatusEnum = builder.enumType(OrderStatus, {
  name: "OrderStatus",
  description: "RESERVED holds its stock until reservedUntil; PAID sold it (once); EXPIRED gave it back (once).",
});

export const Order = builder.prismaObject("Order", {
  description: "Lines reserved all together, at the prices of their time, and paid at most once.",
  findUnique: (order) => ({ workspaceId_id: { workspaceId: order.workspaceId, id: order.id } }),
  fields: (t) => ({
    id: t.exposeID("id"),
    status: t.expose("status", { type: OrderStatusEnum }),
    lines: t.relation("lines", { query: { orderBy: { seq: "asc" } } }),
    total: t.field({
      type: MoneyType,
      description: "What its lines add up to at the prices of their time.",
      resolve: (order) => ({ asset: order.asset, value: order.total }),
    }),
    customer: t.relation("customer", { nullable: true, description: "The identity of customerExternalId, if one was given." }),
    reservedUntil: t.expose("reservedUntil", { type: "DateTime", description: "Unpaid past this, it is EXPIRED." }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    paidAt: t.expose("paidAt", { type: "DateTime", nullable: true }),
    expiredAt: t.expose("expiredAt", { type: "DateTime", nullable: true }),
    payments: t.relation("payments", {
      description: "Every attempt to pay it, oldest first: at most one SUCCEEDED.",
      query: { orderBy: [{ createdAt: "asc" }, { id: "asc" }] },
    }),
    refunds: t.relation("refunds", { description: "Oldest first.", query: { orderBy: [{ createdAt: "asc" }, { id: "asc" }] } }),
  }),
});

builder.prismaObject("OrderLine", {
  description: "A line of an order, as the client sent it.",
  findUnique: (line) => ({
    workspaceId_orderId_seq: { workspaceId: line.workspaceId, orderId: line.orderId, seq: line.seq },
  }),
  fields: (t) => ({
    sku: t.exposeString("sku"),
    quantity: t.exposeInt("quantity"),
    unitPrice: t.field({
      type: MoneyType,
      description: "The product's price when the order was made.",
      resolve: (line) => ({ asset: line.asset, value: line.unitPrice }),
    }),
    product: t.relation("product"),
  }),
});

export const OrderLineInput = builder.inputType("OrderLineInput", {
  fields: (t) => ({
    sku: t.string({ required: true }),
    quantity: t.int({ required: true, description: "Above 0. Lines of one sku count together." }),
  }),
});

userErrorType(OrderNotFoundError, { fields: (t) => ({ orderId: t.exposeID("orderId") }) });
userErrorType(OrderNotPayableError, {
  fields: (t) => ({ orderId: t.exposeID("orderId"), status: t.field({ type: OrderStatusEnum, resolve: (error) => error.status }) }),
});
