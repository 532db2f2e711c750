import { GraphQLError, type GraphQLResolveInfo } from "graphql";
import type { Context } from "../context.ts";
import type { TransactionClient } from "../db/transaction.ts";
import type { ExecutionStatus } from "./executor.ts";
import { fingerprint } from "./fingerprint.ts";
import { assertValidKey } from "./key.ts";
import type { UserErrorClass } from "./outcome-codec.ts";

/** What a domain's mutation gets: a transaction and the workspace, never the key. */
export interface MutationScope {
  tx: TransactionClient;
  workspaceId: string;
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
 * The resolver behind every mutation field: checks the key, fingerprints the input, runs the
 * mutation at most once through the executor, and reports what happened in the response's
 * extensions, the metrics and the log.
 */
export async function resolveIdempotent<Input extends { clientMutationId: string }, Payload extends object>(
  spec: IdempotentMutationSpec<Omit<Input, "clientMutationId">, Payload>,
  input: Input,
  ctx: Context,
  info: GraphQLResolveInfo,
): Promise<Payload & { clientMutationId: string }> {
  const started = performance.now();
  const { clientMutationId, ...rest } = input;
  const workspaceId = ctx.workspace.id;
  if (ctx.bypassIdempotency) {
    // The benchmark's baseline: the same business rule, as it would run with no wrapper at all.
    return { ...(await spec.run(rest, { tx: ctx.services.db.prisma, workspaceId })), clientMutationId };
  }
  let status: string = "FAILED";
  try {
    assertValidKey(clientMutationId);
    const result = await ctx.services.idempotency.run({
      workspaceId,
      key: clientMutationId,
      mutation: spec.mutation,
      fingerprint: fingerprint(spec.mutation, rest),
      sensitive: spec.sensitive,
      errorClasses: spec.errorClasses,
      execute: (tx) => spec.run(rest, { tx, workspaceId }) as Promise<Record<string, unknown>>,
    });
    status = result.status;
    ctx.mutationLog.push({ field: info.path.key as string, clientMutationId, status: result.status });
    if (!result.outcome.ok) throw result.outcome.error;
    return { ...(result.outcome.payload as Payload), clientMutationId };
  } catch (error) {
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
