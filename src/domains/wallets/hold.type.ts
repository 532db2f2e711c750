import { HoldStatus as HoldStatuses } from "../../generated/prisma/enums.ts";
import { builder } from "../../schema/builder.ts";
import { MoneyType } from "../../schema/money.ts";
import { userErrorType } from "../../schema/user-error.type.ts";
import { AmountExceedsHoldError, HoldNotFoundError, HoldNotPendingError } from "./wallet.errors.ts";

export const HoldStatus = builder.enumType(HoldStatuses, { name: "HoldStatus" });

export const Hold = builder.prismaObject("Hold", {
  description: "Funds a pending debit took out of a wallet's balances, until confirmed, voided or expired.",
  findUnique: (hold) => ({ workspaceId_id: { workspaceId: hold.workspaceId, id: hold.id } }),
  fields: (t) => ({
    id: t.exposeID("id"),
    status: t.expose("status", { type: HoldStatus }),
    amount: t.field({
      type: MoneyType,
      description: "What the debit took.",
      resolve: (hold) => ({ asset: hold.asset, value: hold.amount }),
    }),
    remaining: t.field({
      type: MoneyType,
      description: "What it still holds (0 once confirmed, voided or expired).",
      resolve: (hold) => ({ asset: hold.asset, value: hold.remaining }),
    }),
    expiresAt: t.expose("expiresAt", { type: "DateTime", nullable: true }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    resolvedAt: t.expose("resolvedAt", { type: "DateTime", nullable: true }),
    wallet: t.relation("wallet"),
  }),
});

userErrorType(HoldNotFoundError, { fields: (t) => ({ holdId: t.exposeID("holdId") }) });
userErrorType(HoldNotPendingError, {
  fields: (t) => ({ holdId: t.exposeID("holdId"), status: t.field({ type: HoldStatus, resolve: (error) => error.status }) }),
});
userErrorType(AmountExceedsHoldError, {
  fields: (t) => ({ holdId: t.exposeID("holdId"), remaining: t.field({ type: MoneyType, resolve: (error) => error.remaining }) }),
});
