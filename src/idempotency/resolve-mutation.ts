import { GraphQLError, type GraphQLResolveInfo } from "graphql";
import { v5 as uuidv5 } from "uuid";
import type { Context, Services } from "../context.ts";
import type { TransactionClient } from "../db/transaction.ts";
import type { UserErrorClass } from "../schema/errors.ts";
import { canonicalRowIds, malformedRowIdError } from "../schema/row-ids.ts";
import { requireBoundedDepth } from "../schema/validation.ts";
import { assertValidClientMutationId } from "./client-mutation-id.ts";
import { outcomeOfFailure } from "./error-outcome.ts";
import type { ExecutionStatus } from "./executor.ts";
import { fingerprintOf } from "./fingerprint.ts";

/** What a domain's mutation gets: a transaction, the workspace and the app's services, never the clientMutationId. */
export interface MutationScope {
  tx: TransactionClient;
  workspaceId: string;
  /**
   * An id that only this mutation's clientMutationId with this input gives, in this workspace: a
   * UUIDv5 under `namespace` (one namespace per kind of row, so ids of two kinds never collide) of
   * the workspace, the key and the input's fingerprint. A row made under it is how a retry past
   * the TTL, when the stored outcome is gone, finds what its first run made (then `foundEarlier`);
   * the same key with another input gets other ids, and is another operation.
   */
  idFor(namespace: string): string;
  /**
   * Keeps the work so far even if the mutation then answers with a UserError (see ExecutionScope).
   * Everything before it is kept, so call it after housekeeping and before any effect of the
   * mutation's own.
   */
  checkpoint(): Promise<void>;
  /** The answer was found by `idFor` ids, made by an earlier run of this key and input: nothing ran again (see ExecutionScope). */
  foundEarlier<T>(answer: T): T;
  services: Services;
}

/** One entry of `extensions.idempotency`. */
export interface MutationLogEntry {
  field: string;
  clientMutationId: string;
  status: ExecutionStatus;
}

export interface IdempotentMutationSpec<Input, Payload> {
  mutation: string;
  sensitive: boolean;
  errorClasses: readonly UserErrorClass[];
  run(input: Input, scope: MutationScope): Promise<Payload>;
}

/**
 * The resolver behind every mutation field: checks the clientMutationId, fingerprints the input,
 * runs the mutation at most once through the executor, and reports what happened in the
 * response's extensions, the metrics and the log.
 */
export async function resolveIdempotent<Input extends { clientMutationId: string }, Payload extends object>(
  spec: IdempotentMutationSpec<Omit<Input, "clientMutationId">, Payload>,
  input: Input,
  ctx: Context,
  info: GraphQLResolveInfo,
): Promise<Payload & { clientMutationId: string }> {
  const started = performance.now();
  const { clientMutationId, ...sent } = input;
  const workspaceId = ctx.workspace.id;
  let status: string = "FAILED";
  try {
    assertValidClientMutationId(clientMutationId);
    requireBoundedDepth(sent);
    const rest = canonicalRowIds(info, sent);
    const { fingerprint, canonical } = fingerprintOf(spec.mutation, rest);
    const result = await ctx.services.idempotency.run({
      workspaceId,
      clientMutationId,
      mutation: spec.mutation,
      fingerprint,
      canonicalInput: canonical,
      sensitive: spec.sensitive,
      errorClasses: spec.errorClasses,
      execute: async (tx, { checkpoint, foundEarlier }) => {
        const malformedId = malformedRowIdError(info, rest);
        if (malformedId) throw malformedId;
        const idFor = (namespace: string) => uuidv5(`${workspaceId}:${clientMutationId}:${fingerprint}`, namespace);
        return (await spec.run(rest, { tx, workspaceId, idFor, checkpoint, foundEarlier, services: ctx.services })) as Record<
          string,
          unknown
        >;
      },
    });
    status = result.status;
    ctx.mutationLog.push({ field: info.path.key as string, clientMutationId, status: result.status });
    if (!result.outcome.ok) throw result.outcome.error;
    return { ...(result.outcome.payload as Payload), clientMutationId };
  } catch (error) {
    // A UserError of the stored outcome is answered as data; any other failure left nothing of
    // the key, unless it was the commit's reply that was lost.
    if (!ctx.mutationLog.some((entry) => entry.field === info.path.key)) {
      ctx.mutationFailures.set(info.path.key as string, outcomeOfFailure(error));
    }
    if (error instanceof GraphQLError && typeof error.extensions.code === "string") {
      status = error.extensions.code.replace(/^IDEMPOTENCY_KEY_/, "");
    }
    throw error;
  } finally {
    ctx.services.logger.info(
      {
        workspace: workspaceId,
        mutation: spec.mutation,
        clientMutationId: clientMutationId.slice(0, 255),
        status,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
        requestId: ctx.requestId,
      },
      "mutation",
    );
  }
}
