/**
 * Every UserError class of the app, each built with the most extreme values its fields can take,
 * answered by a test mutation (and by a sensitive one, whose outcome is sealed at rest). Imported
 * (for its side effect) before the app, so the schema includes both; no other test file sees them.
 */

import { KeyNotFoundError, SecretNotKeptError } from "../../src/domains/api-keys/api-key.errors.ts";
import { CardLimitReachedError, CardNotFoundError, IdentityHasActiveCardError } from "../../src/domains/cards/card.errors.ts";
import {
  OrderNotFoundError,
  OrderNotPayableError,
  OutOfStockError,
  PaymentNotFoundError,
  ProductAlreadyExistsError,
  ProductNotFoundError,
  RefundExceedsPaymentError,
  type Shortage,
} from "../../src/domains/commerce/commerce.errors.ts";
import { IdentityAlreadyExistsError, IdentityNotFoundError } from "../../src/domains/identities/identity.errors.ts";
import {
  AmountExceedsHoldError,
  BalanceAlreadyExistsError,
  BalanceNotFoundError,
  HoldNotFoundError,
  HoldNotPendingError,
  InsufficientFundsError,
  WalletNotFoundError,
} from "../../src/domains/wallets/wallet.errors.ts";
import type { ApiKey, Prisma } from "../../src/generated/prisma/client.ts";
import { HoldStatus, OrderStatus } from "../../src/generated/prisma/enums.ts";
import { defineIdempotentMutation } from "../../src/idempotency/mutation-field.ts";
import { InvalidInputError, type UserError, type UserErrorClass } from "../../src/schema/errors.ts";
import type { Money } from "../../src/schema/money.ts";

export const INT_MAX = 2 ** 31 - 1;
export const INT_MIN = -(2 ** 31);
export const BIGINT_MAX = 2n ** 63n - 1n;
export const BIGINT_MIN = -(2n ** 63n);
/**
 * 10,000 characters of what stored text and JSON must keep as sent: astral characters (two UTF-16
 * units), NUL, quotes, a backslash, and a lone surrogate at the end.
 */
export const LONG = `${'é😀"\\\u0000\n'.repeat(1_666)}xyz\ud800`;
export const LONG_MIN_CHARACTERS = 10_000;

/** The first and last instants RFC 3339 (and so the DateTime scalar) can write. */
export const DATE_MIN = new Date("0001-01-01T00:00:00.000Z");
export const DATE_MAX = new Date("9999-12-31T23:59:59.999Z");
/** JSON at its edges: the longest text, 30 levels deep, the largest, smallest and least exact numbers. */
export const EXTREME_JSON: Prisma.JsonObject = {
  text: LONG,
  deep: Array.from({ length: 30 }).reduce<Prisma.JsonValue>((inner) => ({ inner }), "bottom"),
  largest: Number.MAX_VALUE,
  smallest: -Number.MAX_VALUE,
  tiniest: Number.MIN_VALUE,
  safe: Number.MAX_SAFE_INTEGER,
  each: [null, true, false, 0, -1.5, "", {}, []],
};

const texts = [LONG, ""];
const moneys: Money[] = [
  { asset: LONG, value: BIGINT_MAX },
  { asset: "", value: BIGINT_MIN },
];
const shortages: Shortage[][] = [
  [
    { sku: LONG, requested: INT_MAX, available: INT_MIN },
    { sku: "", requested: INT_MIN, available: INT_MAX },
  ],
  Array.from({ length: 100 }, (_, i) => ({ sku: `sku-${i}`, requested: INT_MAX - i, available: i })),
  [],
];

/** Each class with the instances it is answered as; a test fails for a UserError type missing here. */
export const EXTREME_USER_ERRORS = new Map<UserErrorClass, UserError[]>([
  [InvalidInputError, texts.map((text) => new InvalidInputError(text, text))],
  [IdentityAlreadyExistsError, texts.map((text) => new IdentityAlreadyExistsError(text))],
  [IdentityNotFoundError, texts.map((text) => new IdentityNotFoundError(text))],
  [KeyNotFoundError, texts.map((text) => new KeyNotFoundError(text))],
  [
    SecretNotKeptError,
    [
      { id: LONG, name: LONG, meta: EXTREME_JSON, expiresAt: DATE_MAX, createdAt: DATE_MIN, updatedAt: DATE_MAX },
      { id: "", name: "", meta: null, expiresAt: DATE_MIN, createdAt: DATE_MAX, updatedAt: DATE_MIN },
      { id: "k", name: null, meta: LONG, expiresAt: null, createdAt: DATE_MIN, updatedAt: DATE_MIN },
    ].map((fields) => new SecretNotKeptError(apiKey(fields))),
  ],
  [WalletNotFoundError, texts.map((text) => new WalletNotFoundError(text))],
  [BalanceNotFoundError, texts.map((text) => new BalanceNotFoundError(text, text))],
  [BalanceAlreadyExistsError, texts.map((text) => new BalanceAlreadyExistsError(text, text))],
  [InsufficientFundsError, [new InsufficientFundsError(moneys[0]!, moneys[1]!), new InsufficientFundsError(moneys[1]!, moneys[0]!)]],
  [HoldNotFoundError, texts.map((text) => new HoldNotFoundError(text))],
  [HoldNotPendingError, Object.values(HoldStatus).map((status, i) => new HoldNotPendingError(texts[i % 2]!, status))],
  [AmountExceedsHoldError, moneys.map((money, i) => new AmountExceedsHoldError(texts[i]!, money))],
  [CardNotFoundError, texts.map((text) => new CardNotFoundError(text))],
  [CardLimitReachedError, texts.map((text) => new CardLimitReachedError(text))],
  [IdentityHasActiveCardError, texts.map((text) => new IdentityHasActiveCardError(text, text))],
  [ProductAlreadyExistsError, texts.map((text) => new ProductAlreadyExistsError(text))],
  [ProductNotFoundError, texts.map((text) => new ProductNotFoundError(text))],
  [OutOfStockError, shortages.map((list) => new OutOfStockError(list))],
  [OrderNotFoundError, texts.map((text) => new OrderNotFoundError(text))],
  [OrderNotPayableError, Object.values(OrderStatus).map((status, i) => new OrderNotPayableError(texts[i % 2]!, status))],
  [PaymentNotFoundError, texts.map((text) => new PaymentNotFoundError(text))],
  [RefundExceedsPaymentError, moneys.map((money, i) => new RefundExceedsPaymentError(texts[i]!, money))],
]);

/** A key row as createKey's SecretNotKeptError holds it: no identity, so nothing is read live. */
function apiKey(fields: Pick<ApiKey, "id" | "name" | "meta" | "expiresAt" | "createdAt" | "updatedAt">): ApiKey {
  return { workspaceId: "00000000-0000-4000-8000-000000000000", identityId: null, secretHash: "not a secret", ...fields };
}

function answer({ type, variant }: { type: string; variant: number }): Promise<{ ok: boolean }> {
  const errorClass = [...EXTREME_USER_ERRORS.keys()].find((candidate) => candidate.name === type);
  const error = errorClass && EXTREME_USER_ERRORS.get(errorClass)?.[variant];
  if (!error) throw new Error(`no extreme ${type} #${variant}`);
  return Promise.reject(error);
}

// InvalidInputError is every mutation's already.
const errors = [...EXTREME_USER_ERRORS.keys()].filter((errorClass) => errorClass !== InvalidInputError);
for (const [name, sensitive] of [
  ["answerWithUserError", false],
  ["answerWithSealedUserError", true],
] as const) {
  defineIdempotentMutation(name, {
    input: (t) => ({ type: t.string({ required: true }), variant: t.int({ required: true }) }),
    payload: { ok: "Boolean" },
    errors,
    sensitive,
    run: (input) => answer(input),
  });
}
