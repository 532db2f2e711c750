import SchemaBuilder, { PothosSchemaError, type SchemaTypes, type TypeParam } from "@pothos/core";
import { GraphQLError, type GraphQLOutputType, type GraphQLResolveInfo, isObjectType } from "graphql";
import { v5 as uuidv5 } from "uuid";
import { answerClassOf, answeringClasses, isForeignErrorClass, markedFailure } from "./answers.ts";
import { assertValidClientMutationId } from "./client-mutation-id.ts";
import { outcomeOfFailure } from "./error-outcome.ts";
import { fingerprintOf } from "./fingerprint.ts";
import { type ErrorClass, errorClassKey } from "./outcome-codec.ts";
import { requestState } from "./request-state.ts";
import { whyNotShowable } from "./showable.ts";
import type { IdempotencyPluginOptions, IdempotentMutationFieldOptions, OutputFieldTypes } from "./types.ts";

const schemaBuilderProto = SchemaBuilder.prototype as PothosSchemaTypes.SchemaBuilder<SchemaTypes>;

interface Spec {
  mutation: string;
  sensitive: boolean;
  onlyDatabaseEffects: boolean;
  errorClasses: readonly ErrorClass[];
  // biome-ignore lint/suspicious/noExplicitAny: checked by the options' types.
  run: IdempotentMutationFieldOptions<SchemaTypes, any, any>["run"];
  /** The name of the GraphQL object type an answering error is shown as (its class's, as @pothos/plugin-errors picks it). */
  errorTypeName(error: Error): string | undefined;
}

schemaBuilderProto.idempotentMutationField = function idempotentMutationField(name, options) {
  const plugin = this.options.idempotency;
  if (!plugin) throw new PothosSchemaError(`${name}: idempotentMutationField needs the builder's \`idempotency\` option`);
  const plugins: readonly string[] = this.options.plugins ?? [];
  // Without it this field's failures, shown as data by a broad errors.defaultTypes, would read as stored answers.
  if (!plugins.includes("idempotency")) {
    throw new PothosSchemaError(
      `${name}: idempotentMutationField requires the idempotency plugin to be installed: add IdempotencyPlugin (the default export of @onceql/pothos-plugin-idempotency) to the builder's plugins`,
    );
  }
  const typeName = name[0]!.toUpperCase() + name.slice(1);
  const declared = options.errors?.types ?? [];
  const defaults = (this.options as { errors?: { defaultTypes?: ErrorClass[] } }).errors?.defaultTypes ?? [];
  // Without the errors plugin there is no union: a declared error would surface as a top-level error, yet be stored.
  if ((declared.length || defaults.length) && !plugins.includes("errors")) {
    throw new PothosSchemaError(
      `${name}: errors (${[...declared, ...defaults].map((errorClass) => errorClass.name).join(", ")}) require @pothos/plugin-errors to be installed: add ErrorsPlugin to the builder's plugins`,
    );
  }
  const foreign = declared.find(isForeignErrorClass);
  if (foreign) {
    throw new PothosSchemaError(
      `${name} lists ${foreign.name} in errors.types: a runtime's or driver's own error is a failure, never an answer to store for the key. Declare an error class of your own`,
    );
  }
  const errorClasses = answeringClasses(declared, defaults);
  // A stored error is revived by its code: two classes with one code could not be told apart.
  const codes = errorClasses.map(errorClassKey);
  const repeated = codes.find((code, index) => codes.indexOf(code) !== index);
  if (repeated) throw new PothosSchemaError(`${name} lists two errors with the code ${repeated}`);

  const inputType = this.inputType(`${typeName}Input`, {
    fields: (t) => ({
      clientMutationId: t.string({
        required: true,
        description:
          "Idempotency key: 1–255 printable ASCII characters, no spaces. A retry with the same key and input replays the first outcome.",
      }),
      ...options.inputFields(t),
    }),
  });

  const payloadType = this.objectRef<Record<string, unknown>>(`${typeName}Payload`).implement({
    fields: (t) => ({
      clientMutationId: t.string({ resolve: (payload) => payload.clientMutationId as string }),
      ...Object.fromEntries(
        Object.entries(options.outputFields as OutputFieldTypes<SchemaTypes>).map(([field, spec]) => {
          const nullable = (spec as { nullable?: unknown }).nullable === true;
          const type = nullable ? (spec as { type: TypeParam<SchemaTypes> }).type : spec;
          return [field, t.field({ type: type as "String", nullable, resolve: (payload) => payload[field] as never })];
        }),
      ),
    }),
  });

  const configStore = this.configStore;
  const spec: Spec = {
    mutation: name,
    sensitive: options.sensitive ?? false,
    onlyDatabaseEffects: options.onlyDatabaseEffects ?? false,
    errorClasses,
    run: options.run as Spec["run"],
    errorTypeName: (error) => {
      const errorClass = answerClassOf(error, errorClasses);
      if (!errorClass) return undefined;
      try {
        return configStore.getTypeConfig(errorClass as never).name;
      } catch {
        return undefined;
      }
    },
  };
  this.mutationField(name, (t) =>
    t.field({
      description: options.description,
      type: payloadType,
      nullable: true,
      args: { input: t.arg({ type: inputType, required: true }) },
      // @pothos/plugin-errors: the result is the union of the payload and the errors.
      ...({ errors: { types: declared, union: { name: `${typeName}Result` }, directResult: true } } as object),
      resolve: (_root, args, ctx, info) =>
        resolveIdempotent(spec, plugin, (args as unknown as { input: { clientMutationId: string } }).input, ctx, info) as never,
    }),
  );
  return { inputType, payloadType } as never;
};

/**
 * The resolver behind every idempotent mutation field: checks the clientMutationId, fingerprints
 * the input, runs the mutation at most once through the runner, and reports what happened in the
 * response's extensions (see useIdempotency) and to `onMutation`.
 */
async function resolveIdempotent(
  spec: Spec,
  plugin: IdempotencyPluginOptions<SchemaTypes>,
  input: { clientMutationId: string } & Record<string, unknown>,
  ctx: object,
  info: GraphQLResolveInfo,
): Promise<Record<string, unknown>> {
  const started = performance.now();
  const { clientMutationId, ...sent } = input;
  const state = requestState(ctx);
  const field = info.path.key as string;
  const scope = plugin.scope(ctx);
  let status = "FAILED";
  try {
    assertValidClientMutationId(clientMutationId);
    const rest = plugin.prepareInput ? plugin.prepareInput(sent, ctx, info) : sent;
    const { fingerprint, canonical } = fingerprintOf(spec.mutation, rest);
    const runner = typeof plugin.runner === "function" ? plugin.runner(ctx) : plugin.runner;
    const result = await runner.run({
      scope,
      clientMutationId,
      mutation: spec.mutation,
      fingerprint,
      canonicalInput: canonical,
      sensitive: spec.sensitive,
      onlyDatabaseEffects: spec.onlyDatabaseEffects,
      errorClasses: spec.errorClasses,
      execute: async (tx, { sql, checkpoint, foundEarlier }) => {
        const idFor = (namespace: string) => uuidv5(`${scope}:${clientMutationId}:${fingerprint}`, namespace);
        try {
          return await spec.run(rest as never, { tx, sql, scope, idFor, checkpoint, foundEarlier }, ctx, info);
        } catch (error) {
          throw await unlessUnshowable(error, spec, ctx, info);
        }
      },
    });
    status = result.status;
    state.log.push({ field, clientMutationId, status: result.status });
    if (!result.outcome.ok) throw result.outcome.error;
    return { ...result.outcome.payload, clientMutationId };
  } catch (error) {
    // An error of the stored outcome is answered as data; any other failure left nothing of the
    // key, unless it was the commit's reply that was lost.
    if (state.log.some((entry) => entry.field === field)) throw error;
    state.failures.set(field, outcomeOfFailure(error));
    if (error instanceof GraphQLError && typeof error.extensions.code === "string") {
      status = error.extensions.code.replace(/^IDEMPOTENCY_KEY_/, "");
    }
    // A declared error refused before anything ran (by prepareInput) is shown as data, as always.
    throw answerClassOf(error, spec.errorClasses) ? error : markedFailure(error);
  } finally {
    plugin.onMutation?.(
      {
        mutation: spec.mutation,
        scope,
        clientMutationId: clientMutationId.slice(0, 255),
        status,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
      },
      ctx,
    );
  }
}

/**
 * An answering error is stored as the key's outcome and replayed for the whole TTL: one that
 * cannot be shown as its GraphQL type (a count past Int, say) would fail every replay the same
 * way. Such an answer is a bug, not an outcome: it fails as one, so nothing is stored and the key
 * stays free, and once the bug is fixed the same key runs again.
 */
async function unlessUnshowable(error: unknown, spec: Spec, ctx: object, info: GraphQLResolveInfo): Promise<unknown> {
  if (!(error instanceof Error) || !answerClassOf(error, spec.errorClasses)) return error;
  // The member of the result union it is shown as: the errors plugin resolves it from the error's
  // class (its object types need no isTypeOf), so it is looked up here the same way.
  const name = spec.errorTypeName(error);
  const member = name === undefined ? undefined : info.schema.getType(name);
  const type: GraphQLOutputType = member && isObjectType(member) ? member : info.returnType;
  const why = await whyNotShowable(type, error, ctx, info);
  if (!why) return error;
  return new Error(`${info.fieldName} answered a ${error.constructor.name} that cannot be shown, so it is not stored: ${why}`, {
    cause: error,
  });
}
