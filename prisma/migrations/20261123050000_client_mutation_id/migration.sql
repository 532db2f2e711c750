-- "key" meant three things in this project: the idempotency key is now the clientMutationId.
ALTER TABLE "idempotency_records" RENAME COLUMN "key" TO "client_mutation_id";
