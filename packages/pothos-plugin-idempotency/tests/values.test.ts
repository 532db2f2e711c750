import { copyFileSync, mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import IdempotencyPlugin, { createIdempotency, type MutationRunner, type ValueClass } from "@onceql/pothos-plugin-idempotency";
import { pgliteDriver } from "@onceql/pothos-plugin-idempotency/pglite";
import { useIdempotency } from "@onceql/pothos-plugin-idempotency/yoga";
import SchemaBuilder from "@pothos/core";
import ErrorsPlugin from "@pothos/plugin-errors";
import { Decimal } from "@prisma/client/runtime/client";
import { createYoga } from "graphql-yoga";
import { describe, expect, test } from "vitest";
import { isDecimal, prismaValues } from "../src/drivers/prisma-values.ts";
import { TypedJson } from "../src/typed-json.ts";
import type { Context, Queryable } from "./example/schema.ts";
import { call } from "./example/server.ts";
import { forEachDriver, newTenant, recordsOf } from "./helpers/example.ts";

/** An adopter's own value class: an amount in minor units (a BigInt, as money is here) and its asset. */
class Money {
  constructor(
    readonly asset: string,
    readonly minor: bigint,
  ) {}
  toString(): string {
    return `${this.minor} ${this.asset}`;
  }
}

const money: ValueClass<Money, { asset: string; minor: bigint }> = {
  name: "Money",
  is: (value) => value instanceof Money,
  // A BigInt inside what toJSON gives is stored and revived like any other.
  toJSON: (value) => ({ asset: value.asset, minor: value.minor }),
  fromJSON: (json) => new Money(json.asset, json.minor),
};

/** What the same value looks like to a check of its class and contents. */
function shape(value: unknown): unknown {
  if (value instanceof Decimal) return { Decimal: value.toString(), negative: value.isNegative() };
  if (Buffer.isBuffer(value)) return { Buffer: [...value] };
  if (value instanceof Uint8Array) return { Uint8Array: [...value] };
  if (value instanceof Money) return { Money: value.toString() };
  if (value instanceof Date) return { Date: value.toISOString() };
  if (typeof value === "bigint") return { BigInt: value.toString() };
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shape(item)]));
  }
  return value;
}

const json = new TypedJson([...prismaValues(), money]);
const roundTrip = (value: unknown) => json.parse(json.stringify(value));

describe("typed JSON", () => {
  const bytes = new Uint8Array([0, 1, 2, 254, 255]);
  const every = () => ({
    price: new Decimal("12345678901234567890.123456789"),
    tiny: new Decimal("1e-40"),
    negativeZero: new Decimal("-0"),
    bytes,
    buffer: Buffer.from("héllo"),
    total: new Money("EUR", 12_345n),
    at: new Date("2024-02-29T12:34:56.789Z"),
    big: 2n ** 70n,
    json: { a: [1, "two", null, true], nested: { deep: 1.5 } },
  });

  test("every type round-trips, as the class it went in as, nested in objects and arrays", () => {
    const value = { payload: { ...every(), list: [every(), [every()]] } };
    const back = roundTrip(value) as typeof value;
    expect(shape(back)).toEqual(shape(value));
    expect(back.payload.price).toBeInstanceOf(Decimal);
    expect(back.payload.price.toFixed()).toBe("12345678901234567890.123456789");
    expect(back.payload.negativeZero.isNegative()).toBe(true);
    expect(Buffer.isBuffer(back.payload.bytes)).toBe(false);
    expect(back.payload.bytes).toEqual(bytes);
    expect(Buffer.isBuffer(back.payload.buffer)).toBe(true);
    expect(back.payload.buffer.toString()).toBe("héllo");
  });

  test("a Decimal is stored as its exact string, never a number", () => {
    const text = json.stringify({ price: new Decimal("0.1000000000000000000000000000001") });
    expect(text).toContain('["0.1000000000000000000000000000001"]');
    expect(JSON.parse(text).types).toEqual([[["price"], "value:Decimal"]]);
  });

  test("each type round-trips at the root", () => {
    for (const value of Object.values(every())) expect(shape(roundTrip(value))).toEqual(shape(value));
  });

  test("a view into a larger buffer stores its own bytes only", () => {
    const whole = new Uint8Array([9, 9, 1, 2, 3, 9]);
    const view = whole.subarray(2, 5);
    expect(roundTrip(view)).toEqual(new Uint8Array([1, 2, 3]));
  });

  test("keys named __proto__, constructor and prototype stay data, whatever is under them", () => {
    const value = JSON.parse('{"__proto__": {"x": 1}, "constructor": {"prototype": {"y": 2}}, "list": [{"__proto__": 3}]}');
    // Reflect reads the own "__proto__" key JSON.parse made; the accessor would be Object.prototype's.
    Reflect.get(value, "__proto__").price = new Decimal("1.5");
    value.constructor.prototype.bytes = new Uint8Array([7]);
    Object.defineProperty(value.list[0], "__proto__", { value: new Money("USD", 1n), enumerable: true });
    const back = roundTrip(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.hasOwn(back, "__proto__")).toBe(true);
    expect(shape(back)).toEqual(shape(value));
    expect(({} as Record<string, unknown>).price).toBeUndefined();
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  test("a value under a __proto__ key at the root of a value class's JSON is revived in place", () => {
    const tagged: ValueClass<Money, unknown> = {
      name: "Tagged",
      is: (value) => value instanceof Money,
      toJSON: (value) => JSON.parse(`{"__proto__": {"minor": "${value.minor}"}}`),
      fromJSON: (stored) => new Money("X", BigInt(Reflect.get(stored as object, "__proto__").minor)),
    };
    const codec = new TypedJson([tagged]);
    expect(shape(codec.parse(codec.stringify([new Money("X", 5n)])))).toEqual(shape([new Money("X", 5n)]));
  });

  test("text stored by the version before (tags bigint and date only) still parses", () => {
    const old =
      '{"v":1,"data":{"payload":{"__proto__":{"n":"90071992547409930"},"at":"2024-01-01T00:00:00.000Z","list":["1",{"d":"2024-01-02T00:00:00.000Z"}]}},' +
      '"types":[[["payload","__proto__","n"],"bigint"],[["payload","at"],"date"],[["payload","list",0],"bigint"],[["payload","list",1,"d"],"date"]]}';
    for (const codec of [new TypedJson(), json]) {
      const back = codec.parse(old) as { payload: Record<string, unknown> };
      expect(Object.hasOwn(back.payload, "__proto__")).toBe(true);
      expect(shape(back.payload)).toEqual({
        ["__proto__"]: { n: { BigInt: "90071992547409930" } },
        at: { Date: "2024-01-01T00:00:00.000Z" },
        list: [{ BigInt: "1" }, { d: { Date: "2024-01-02T00:00:00.000Z" } }],
      });
    }
  });

  test("values of the version before are written as it wrote them, so its servers read them", () => {
    const text = new TypedJson(prismaValues()).stringify({ payload: { n: 5n, at: new Date(0), s: "x" } });
    expect(text).toBe(
      '{"v":1,"data":{"payload":{"n":"5","at":"1970-01-01T00:00:00.000Z","s":"x"}},"types":[[["payload","n"],"bigint"],[["payload","at"],"date"]]}',
    );
  });

  test("a new tag's JSON is never a bare string, which the version before would revive as a Date", () => {
    const encoded = JSON.parse(json.stringify({ a: new Decimal("1"), b: new Uint8Array([1]), c: Buffer.from([2]), d: new Money("X", 1n) }));
    for (const key of ["a", "b", "c", "d"]) expect(Array.isArray(encoded.data[key])).toBe(true);
  });

  test("an unregistered class is refused, naming where it was and its class, and suggesting `values`", () => {
    class Unregistered {}
    const value = { payload: { product: { price: new Decimal("1") }, list: [new Unregistered()] } };
    expect(() => new TypedJson().stringify(value)).toThrow(/found a Decimal2? at payload\.product\.price.*`values`.*prismaValues\(\)/);
    expect(() => json.stringify(value)).toThrow(/found a Unregistered at payload\.list\.0\. Register its class in `values`/);
    expect(() => json.stringify(new Map())).toThrow(/found a Map at the root/);
    expect(() => json.stringify({ a: new Int16Array(2) })).toThrow(/found a Int16Array at a\b/);
  });

  test("a stored value whose class is no longer registered is refused by name", () => {
    const text = json.stringify({ total: new Money("EUR", 1n) });
    expect(() => new TypedJson(prismaValues()).parse(text)).toThrow(/holds a Money, and no class named Money is registered/);
  });

  test("value classes are checked when registered", () => {
    expect(() => new TypedJson([money, money])).toThrow(/two value classes in `values` are named Money/);
    expect(() => new TypedJson([{ ...money, name: "" }])).toThrow(/needs a name/);
    expect(() => new TypedJson([{ ...money, fromJSON: undefined } as never])).toThrow(/Money in `values` has no fromJSON/);
    const loop: ValueClass<Money, Money> = { name: "Loop", is: money.is, toJSON: (value) => value, fromJSON: (value) => value };
    expect(() => new TypedJson([loop]).stringify({ m: new Money("X", 1n) })).toThrow(/Loop's toJSON gave a Loop again, at m/);
  });

  test("a Decimal of another copy of Prisma's runtime is recognised, and comes back as Prisma's", () => {
    // A copy of Prisma's runtime utilities loaded from elsewhere: its Decimal is another class, as a second install's would be.
    const here = createRequire(import.meta.url);
    const copy = join(mkdtempSync(join(tmpdir(), "other-prisma-")), "index.js");
    copyFileSync(here.resolve("@prisma/client-runtime-utils"), copy);
    const { Decimal: OtherDecimal } = here(copy) as { Decimal: typeof Decimal };
    const other = new OtherDecimal("-3.14159265358979323846264338327950288");
    expect(other).not.toBeInstanceOf(Decimal);
    expect(isDecimal(other)).toBe(true);
    const back = roundTrip({ other }) as { other: Decimal };
    expect(back.other).toBeInstanceOf(Decimal);
    expect(back.other.toString()).toBe("-3.14159265358979323846264338327950288");
    expect(isDecimal({ toFixed: () => "1", isZero: () => false, isNegative: () => false })).toBe(false);
    expect(isDecimal(new Date())).toBe(false);
  });

  test("prismaValues revives with the Decimal class it is given", () => {
    class MyDecimal {
      constructor(readonly text: string) {}
    }
    const codec = new TypedJson(prismaValues({ Decimal: MyDecimal as never }));
    expect(codec.parse(codec.stringify({ d: new Decimal("2.50") }))).toEqual({ d: new MyDecimal("2.5") });
  });
});

/** An error a mutation answers with, holding a Decimal: stored and replayed like a payload. */
class PriceTooLowError extends Error {
  static readonly code = "PRICE_TOO_LOW";
  readonly code = "PRICE_TOO_LOW";
  constructor(readonly minimum: Decimal) {
    super(`the price must be at least ${minimum.toString()}`);
    this.name = "PriceTooLowError";
  }
}

interface Priced {
  price: Decimal;
  bytes: Uint8Array;
  buffer: Buffer;
  total: Money;
  at: Date;
  big: bigint;
  meta: unknown;
}

function failWith(message: string): never {
  throw new TypeError(message);
}

/** A schema whose scalars serialize only the classes they expect: a replay of anything else fails the response. */
function pricedServer(runner: MutationRunner, runs: { count: number }) {
  const builder = new SchemaBuilder<{ Context: Context; Idempotency: { Tx: Queryable } }>({
    plugins: [ErrorsPlugin, IdempotencyPlugin],
    idempotency: { runner, scope: (ctx: Context) => ctx.tenant },
  } as never);
  // Each scalar serializes only its own class, so a replay that gave back anything else fails the response.
  const scalars: Record<string, (value: unknown) => string | undefined> = {
    Decimal: (value) => (value instanceof Decimal ? value.toString() : undefined),
    Bytes: (value) => (value instanceof Uint8Array && !Buffer.isBuffer(value) ? Buffer.from(value).toString("hex") : undefined),
    Buffer: (value) => (Buffer.isBuffer(value) ? value.toString("hex") : undefined),
    Money: (value) => (value instanceof Money ? value.toString() : undefined),
    Instant: (value) => (value instanceof Date ? value.toISOString() : undefined),
    Big: (value) => (typeof value === "bigint" ? value.toString() : undefined),
  };
  for (const [name, show] of Object.entries(scalars)) {
    builder.scalarType(name as never, {
      serialize: (value: unknown) => show(value) ?? failWith(`${name} got a ${Object.prototype.toString.call(value)}`),
      parseValue: () => failWith("output only"),
    });
  }

  const PricedRef = builder.objectRef<Priced>("Priced").implement({
    fields: (t) => ({
      price: t.field({ type: "Decimal" as never, resolve: (parent) => parent.price as never }),
      bytes: t.field({ type: "Bytes" as never, resolve: (parent) => parent.bytes as never }),
      buffer: t.field({ type: "Buffer" as never, resolve: (parent) => parent.buffer as never }),
      total: t.field({ type: "Money" as never, resolve: (parent) => parent.total as never }),
      at: t.field({ type: "Instant" as never, resolve: (parent) => parent.at as never }),
      big: t.field({ type: "Big" as never, resolve: (parent) => parent.big as never }),
      meta: t.string({ resolve: (parent) => JSON.stringify(parent.meta) }),
    }),
  });
  builder.objectType(PriceTooLowError, {
    name: "PriceTooLowError",
    fields: (t) => ({
      message: t.exposeString("message"),
      minimum: t.field({ type: "Decimal" as never, resolve: (error) => error.minimum as never }),
    }),
  });
  builder.queryType({ fields: (t) => ({ ok: t.boolean({ resolve: () => true }) }) });
  builder.mutationType({});
  builder.idempotentMutationField("price", {
    inputFields: (t) => ({ amount: t.string({ required: true }), keep: t.string() }),
    outputFields: { priced: PricedRef, unstorable: "Boolean" },
    errors: { types: [PriceTooLowError] },
    run: async (input) => {
      runs.count += 1;
      const price = new Decimal(input.amount);
      if (price.lessThan("0.01")) throw new PriceTooLowError(new Decimal("0.0100"));
      const priced: Priced = {
        price,
        bytes: new Uint8Array([0, 127, 128, 255]),
        buffer: Buffer.from("ünïcode"),
        total: new Money("EUR", 10n ** 20n),
        at: new Date("2024-02-29T00:00:00.000Z"),
        big: 2n ** 64n,
        meta: JSON.parse('{"__proto__": {"polluted": true}, "constructor": 1}'),
      };
      // A Set is what no value class covers: the payload cannot be stored.
      return { priced, unstorable: input.keep === "unstorable" ? (new Set([1]) as never) : false };
    },
  });
  return createYoga<object, Context>({
    schema: builder.toSchema(),
    context: ({ request }) => ({ tenant: request.headers.get("x-tenant") ?? "public" }),
    plugins: [useIdempotency()],
    // The refusal's own message, which a masked error would hide from the tests.
    maskedErrors: false,
    logging: false,
  });
}

const PRICE = `mutation Price($input: PriceInput!) {
  price(input: $input) {
    __typename
    ... on PricePayload { clientMutationId priced { price bytes buffer total at big meta } }
    ... on PriceTooLowError { message minimum }
  }
}`;

forEachDriver((db, kind) => {
  test("a Decimal, bytes, a Buffer and a registered class in a payload are stored and replayed equal, as their classes", async () => {
    const runs = { count: 0 };
    const options = { values: [...prismaValues(), money] };
    const server = pricedServer(await db().runner(options), runs);
    const tenant = newTenant();
    const variables = { input: { clientMutationId: "priced-1", amount: "123456789012345678.987654321" } };

    const first = await call(server, tenant, PRICE, variables);
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data.price).toEqual({
      __typename: "PricePayload",
      clientMutationId: "priced-1",
      priced: {
        price: "123456789012345678.987654321",
        bytes: "007f80ff",
        buffer: Buffer.from("ünïcode").toString("hex"),
        total: "100000000000000000000 EUR",
        at: "2024-02-29T00:00:00.000Z",
        big: "18446744073709551616",
        meta: '{"__proto__":{"polluted":true},"constructor":1}',
      },
    });
    expect(first.body.extensions.idempotency[0].status).toBe("EXECUTED");

    // A fresh server over the same database: the replay comes from the stored record, not a cache.
    for (const again of [server, pricedServer(await db().runner(options), runs)]) {
      const retry = await call(again, tenant, PRICE, variables);
      expect(retry.body.errors).toBeUndefined();
      expect(retry.body.data).toEqual(first.body.data);
      expect(retry.body.extensions.idempotency[0].status).toBe("REPLAYED");
    }
    expect(runs.count).toBe(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test("a stored error holding a Decimal is replayed equal, its Decimal a Decimal", async () => {
    const runs = { count: 0 };
    const server = pricedServer(await db().runner({ values: prismaValues() }), runs);
    const tenant = newTenant();
    const variables = { input: { clientMutationId: "too-low-1", amount: "0.001" } };

    const first = await call(server, tenant, PRICE, variables);
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data.price).toEqual({
      __typename: "PriceTooLowError",
      message: "the price must be at least 0.01",
      minimum: "0.01",
    });
    const retry = await call(pricedServer(await db().runner({ values: prismaValues() }), runs), tenant, PRICE, variables);
    expect(retry.body.errors).toBeUndefined();
    expect(retry.body.data).toEqual(first.body.data);
    expect(retry.body.extensions.idempotency[0].status).toBe("REPLAYED");
    expect(runs.count).toBe(1);
  });

  test.runIf(kind.startsWith("prisma"))(
    "prismaDriver brings Prisma's Decimal: with no values given, only the Money is refused",
    async () => {
      const runs = { count: 0 };
      const tenant = newTenant();
      const variables = { input: { clientMutationId: "driver-values-1", amount: "1.00" } };
      const failed = await call(pricedServer(await db().runner(), runs), tenant, PRICE, variables);
      expect(failed.body.errors![0].extensions.outcome).toBe("NOT_STORED");
      expect(failed.body.errors![0].message).toMatch(/found a Money at payload\.priced\.total/);
      const fixed = await call(pricedServer(await db().runner({ values: [money] }), runs), tenant, PRICE, variables);
      expect(fixed.body.errors).toBeUndefined();
      expect(fixed.body.extensions.idempotency[0].status).toBe("EXECUTED");
    },
  );

  test.skipIf(kind.startsWith("prisma"))(
    "without prismaValues a Decimal is refused: nothing stored, the key free, and the message names the field",
    async () => {
      const runs = { count: 0 };
      const server = pricedServer(await db().runner(), runs);
      const tenant = newTenant();
      const variables = { input: { clientMutationId: "no-values-1", amount: "1.00" } };

      const failed = await call(server, tenant, PRICE, variables);
      expect(failed.body.data.price).toBeNull();
      expect(failed.body.errors![0].extensions.outcome).toBe("NOT_STORED");
      expect(failed.body.errors![0].message).toMatch(/found a Decimal2? at payload\.priced\.price.*`values`.*prismaValues\(\)/);
      expect(await recordsOf(db(), tenant)).toHaveLength(0);

      // Registered, the same key runs afresh and stores.
      const retry = await call(pricedServer(await db().runner({ values: prismaValues() }), runs), tenant, PRICE, variables);
      expect(retry.body.errors?.[0].message).toMatch(/found a Money at payload\.priced\.total/);
      const fixed = await call(pricedServer(await db().runner({ values: [...prismaValues(), money] }), runs), tenant, PRICE, variables);
      expect(fixed.body.errors).toBeUndefined();
      expect(fixed.body.extensions.idempotency[0].status).toBe("EXECUTED");
      expect(runs.count).toBe(3);
    },
  );

  test("a class no value class covers is refused by the path of the field holding it", async () => {
    const server = pricedServer(await db().runner({ values: [...prismaValues(), money] }), { count: 0 });
    const tenant = newTenant();
    const failed = await call(server, tenant, PRICE, { input: { clientMutationId: "set-1", amount: "1", keep: "unstorable" } });
    expect(failed.body.data.price).toBeNull();
    expect(failed.body.errors![0].extensions.outcome).toBe("NOT_STORED");
    expect(failed.body.errors![0].message).toMatch(/found a Set at payload\.unstorable\. Register its class in `values`/);
    expect(await recordsOf(db(), tenant)).toHaveLength(0);
  });
});

test("a driver's value classes are used beside the option's (as prismaDriver brings Prisma's Decimal)", async () => {
  const database = new PGlite();
  try {
    const driver = Object.assign(pgliteDriver(database), { values: prismaValues() });
    const runner = createIdempotency({ driver, values: [money] });
    await runner.ensureSchema();
    const runs = { count: 0 };
    const variables = { input: { clientMutationId: "driver-1", amount: "9.99" } };
    const first = await call(pricedServer(runner, runs), "t", PRICE, variables);
    expect(first.body.errors).toBeUndefined();
    const again = await call(pricedServer(createIdempotency({ driver, values: [money] }), runs), "t", PRICE, variables);
    expect(again.body.data).toEqual(first.body.data);
    expect(again.body.extensions.idempotency[0].status).toBe("REPLAYED");
    expect(runs.count).toBe(1);
    await runner.close();
  } finally {
    await database.close();
  }
});
