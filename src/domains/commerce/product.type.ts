import { builder } from "../../schema/builder.ts";
import { MoneyType } from "../../schema/money.ts";
import { userErrorType } from "../../schema/user-error.type.ts";
import { OutOfStockError, ProductAlreadyExistsError, ProductNotFoundError, type Shortage } from "./commerce.errors.ts";

export const Product = builder.prismaObject("Product", {
  description:
    "Something the workspace sells, known by its sku. What it has on hand is stock (free to reserve) plus reserved; sold is gone.",
  findUnique: (product) => ({ workspaceId_id: { workspaceId: product.workspaceId, id: product.id } }),
  fields: (t) => ({
    id: t.exposeID("id"),
    sku: t.exposeString("sku"),
    name: t.exposeString("name"),
    price: t.field({
      type: MoneyType,
      description: "Its price now; an order keeps the price of its time on its lines.",
      resolve: (product) => ({ asset: product.asset, value: product.price }),
    }),
    stock: t.exposeInt("stock", { description: "What can still be reserved; never below 0." }),
    reserved: t.exposeInt("reserved", { description: "Held by active reservations and unpaid orders, until they are paid or expire." }),
    sold: t.exposeInt("sold", { description: "Taken by paid orders." }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
  }),
});

const ShortageType = builder.objectRef<Shortage>("Shortage").implement({
  description: "A sku an order or reservation asked more of than its stock holds (all its lines together).",
  fields: (t) => ({
    sku: t.exposeString("sku"),
    requested: t.exposeInt("requested"),
    available: t.exposeInt("available"),
  }),
});

userErrorType(ProductAlreadyExistsError, { fields: (t) => ({ sku: t.exposeString("sku") }) });
userErrorType(ProductNotFoundError, { fields: (t) => ({ sku: t.exposeString("sku") }) });
userErrorType(OutOfStockError, {
  description: "Nothing was reserved: every sku that cannot be met is listed.",
  fields: (t) => ({ shortages: t.field({ type: [ShortageType], resolve: (error) => error.shortages }) }),
});
