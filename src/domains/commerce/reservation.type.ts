import { ReservationStatus } from "../../generated/prisma/enums.ts";
import { builder } from "../../schema/builder.ts";

const ReservationStatusEnum = builder.enumType(ReservationStatus, {
  name: "ReservationStatus",
  description: "ACTIVE holds its quantity; EXPIRED gave it back to stock (once); CONSUMED was sold with its order.",
});

export const InventoryReservation = builder.prismaObject("InventoryReservation", {
  description: "A quantity of a product held out of its stock until expiresAt (the database's clock).",
  findUnique: (reservation) => ({ workspaceId_id: { workspaceId: reservation.workspaceId, id: reservation.id } }),
  fields: (t) => ({
    id: t.exposeID("id"),
    product: t.relation("product"),
    quantity: t.exposeInt("quantity"),
    status: t.expose("status", { type: ReservationStatusEnum }),
    expiresAt: t.expose("expiresAt", { type: "DateTime" }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    resolvedAt: t.expose("resolvedAt", { type: "DateTime", nullable: true }),
  }),
});
