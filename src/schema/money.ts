import { builder } from "./builder.ts";
import { InvalidInputError } from "./errors.ts";

/** An amount of one asset, in integer minor units. */
export interface Money {
  asset: string;
  value: bigint;
}

/** The largest amount a ledger account holds: PostgreSQL's bigint. */
export const MAX_AMOUNT = 2n ** 63n - 1n;

/**
 * An asset code: upper-case letters, digits or `_`, starting with a letter, up to 16 characters,
 * optionally followed by `/` and the number of decimal places of its minor unit (`USD/2`, `JPY`).
 * One asset has one spelling: the ledger keeps an account per asset text, so `USD/02` was an
 * asset of its own that could not pay a `USD/2` order. The scale is written without leading zeros,
 * and none is written for no decimals (`JPY`, not `JPY/0`).
 */
const ASSET = /^[A-Z][A-Z0-9_]{0,15}(\/[1-9][0-9]?)?$/;
const SPELLED_SCALE = /^([A-Z][A-Z0-9_]{0,15})\/([0-9]{1,2})$/;

export const MoneyType = builder.objectRef<Money>("Money").implement({
  description: "An amount of one asset, in integer minor units (a BigInt, serialized as a decimal string).",
  fields: (t) => ({
    asset: t.exposeString("asset"),
    value: t.expose("value", { type: "BigInt" }),
  }),
});

export const MoneyInput = builder.inputType("MoneyInput", {
  description: "An amount of one asset, in integer minor units: above 0 and at most 2^63−1.",
  fields: (t) => ({
    asset: t.string({
      required: true,
      description: "Such as USD/2 (cents), JPY or POINTS: A–Z, 0–9 and _, optionally /decimals (1–99, no leading zero).",
    }),
    value: t.field({ type: "BigInt", required: true }),
  }),
});

export function requireAsset(field: string, asset: string): string {
  const scaled = SPELLED_SCALE.exec(asset);
  if (scaled && !ASSET.test(asset)) {
    const [, code, scale] = scaled;
    const canonical = Number(scale) === 0 ? code : `${code}/${Number(scale)}`;
    throw new InvalidInputError(field, `${field} is written ${canonical}, not ${asset}: one asset has one spelling`);
  }
  if (!ASSET.test(asset)) {
    throw new InvalidInputError(
      field,
      `${field} must be an asset code such as USD/2 or POINTS (A–Z, 0–9, _; /decimals), got ${JSON.stringify(asset.slice(0, 40))}`,
    );
  }
  return asset;
}

/** An amount of money to move: above zero and within a ledger account's range. */
export function requireAmount(field: string, value: bigint): bigint {
  if (value <= 0n) throw new InvalidInputError(field, `${field} must be above 0, got ${value}`);
  if (value > MAX_AMOUNT) throw new InvalidInputError(field, `${field} must be at most ${MAX_AMOUNT} (2^63−1), got ${value}`);
  return value;
}

export function requireMoney(field: string, money: Money): Money {
  return { asset: requireAsset(`${field}.asset`, money.asset), value: requireAmount(`${field}.value`, money.value) };
}
