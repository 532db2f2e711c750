import type { InputFieldMap, InputShapeFromFields, ShapeFromTypeParam, TypeParam } from "@pothos/core";
import type { GraphQLResolveInfo } from "graphql";
import type { Context } from "../context.ts";
import { builder, type Types } from "../schema/builder.ts";
import { InvalidInputError, UserError, type UserErrorClass } from "../schema/errors.ts";
import { type MutationScope, resolveIdempotent } from "./resolve-mutation.ts";
import { whyNotShowable } from "./showable.ts";

type InputFields = PothosSchemaTypes.InputFieldBuilder<Types, "InputObject">;
/** A payload field: its type, or `{ type, nullable: true }` for one that may be null. */
type PayloadField = TypeParam<Types> | { type: TypeParam<Types>; nullable: true };
type PayloadFields = Record<string, PayloadField>;
type PayloadShape<P extends PayloadFields> = {
  [K in keyof P]: P[K] extends { type: infer T extends TypeParam<Types>; nullable: true }
    ? ShapeFromTypeParam<Types, T, true>
    : P[K] extends TypeParam<Types>
      ? ShapeFromTypeParam<Types, P[K], false>
      : never;
};

export interface IdempotentMutationOptions<Fields extends InputFieldMap, Payload extends PayloadFields> {
  description?: string;
  /** The input's fields; `clientMutationId: String!` is added. */
  input: (t: InputFields) => Fields;
  /** The payload's fields and their types; `clientMutationId` is added. */
  payload: Payload;
  /** Expected outcomes, as UserError classes; they become members of the result union. */
  errors?: UserErrorClass[];
  /** The payload holds a secret: its stored outcome is encrypted at rest. */
  sensitive?: boolean;
  /** The business rule: runs at most once per key, in the transaction that stores its outcome. */
  run: (input: InputShapeFromFields<Fields>, scope: MutationScope) => Promise<PayloadShape<Payload>>;
}

/**
 * Declares an idempotent mutation in one call: `name(input: NameInput!): NameResult`, where
 * NameResult is NamePayload or one of its UserErrors, every call going through the wrapper.
 */
export function defineIdempotentMutation<Fields extends InputFieldMap, Payload extends PayloadFields>(
  name: string,
  options: IdempotentMutationOptions<Fields, Payload>,
): void {
  const typeName = name[0]!.toUpperCase() + name.slice(1);
  const errorClasses = [...(options.errors ?? []), InvalidInputError];
  // A stored error is revived by its code: two classes with one code could not be told apart.
  const codes = errorClasses.map((errorClass) => errorClass.code);
  const repeated = codes.find((code, index) => codes.indexOf(code) !== index);
  if (repeated) throw new Error(`${name} lists two errors with the code ${repeated}`);

  const inputRef = builder.inputType(`${typeName}Input`, {
    fields: (t) => ({
      clientMutationId: t.string({
        required: true,
        description:
          "Idempotency key: 1–255 printable ASCII characters, no spaces. A retry with the same key and input replays the first outcome.",
      }),
      ...options.input(t),
    }),
  });

  type Shape = PayloadShape<Payload> & { clientMutationId: string };
  const payloadRef = builder.objectRef<Record<string, unknown>>(`${typeName}Payload`).implement({
    fields: (t) => ({
      clientMutationId: t.string({ resolve: (payload) => payload.clientMutationId as string }),
      ...Object.fromEntries(
        Object.entries(options.payload).map(([field, spec]) => {
          const nullable = (spec as { nullable?: unknown }).nullable === true;
          const type = nullable ? (spec as { type: TypeParam<Types> }).type : spec;
          return [field, t.field({ type: type as "String", nullable, resolve: (payload) => payload[field] as never })];
        }),
      ),
    }),
  });

  const spec = { mutation: name, sensitive: options.sensitive ?? false, errorClasses, run: options.run };
  builder.mutationField(name, (t) =>
    t.field({
      description: options.description,
      type: payloadRef,
      nullable: true,
      args: { input: t.arg({ type: inputRef, required: true }) },
      errors: { types: options.errors ?? [], union: { name: `${typeName}Result` } },
      resolve: (_root, args, ctx, info) =>
        resolveIdempotent(
          { ...spec, run: showableAnswers(spec.run, ctx, info) } as never,
          (args as unknown as { input: { clientMutationId: string } }).input,
          ctx,
          info,
        ) as Promise<Shape>,
    }),
  );
}

/**
 * A UserError is stored as the key's outcome and replayed for the whole TTL: one that cannot be
 * shown as its GraphQL type (a count past Int, say) would fail every replay the same way. Such an
 * answer is a bug, not an outcome: it fails as one, so nothing is stored and the key stays free,
 * and once the bug is fixed the same key runs again.
 */
function showableAnswers<Input, Payload>(
  run: (input: Input, scope: MutationScope) => Promise<Payload>,
  ctx: Context,
  info: GraphQLResolveInfo,
): (input: Input, scope: MutationScope) => Promise<Payload> {
  return async (input, scope) => {
    try {
      return await run(input, scope);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      const why = await whyNotShowable(info.returnType, error, ctx, info);
      if (why) {
        throw new Error(`${info.fieldName} answered a ${error.constructor.name} that cannot be shown, so it is not stored: ${why}`, {
          cause: error,
        });
      }
      throw error;
    }
  };
}
