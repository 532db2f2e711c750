import type { HoldStatus } from "../../generated/prisma/enums.ts";
import { userError } from "../../schema/errors.ts";
import type { Money } from "../../schema/money.ts";

export class WalletNotFoundError extends userError("WALLET_NOT_FOUND") {
  constructor(readonly walletId: string) {
    super(`No wallet ${JSON.stringify(walletId)} in this workspace.`);
  }
}

export class BalanceNotFoundError extends userError("BALANCE_NOT_FOUND") {
  constructor(
    readonly walletId: string,
    readonly name: string,
  ) {
    super(`Wallet ${walletId} has no balance named ${JSON.stringify(name)}.`);
  }
}

export class BalanceAlreadyExistsError extends userError("BALANCE_EXISTS") {
  constructor(
    readonly walletId: string,
    readonly name: string,
  ) {
    super(`Wallet ${walletId} already has a balance named ${JSON.stringify(name)}.`);
  }
}

export class InsufficientFundsError extends userError("INSUFFICIENT_FUNDS") {
  constructor(
    readonly requested: Money,
    readonly available: Money,
  ) {
    super(`Not enough ${requested.asset}: ${requested.value} requested, ${available.value} available in the balances asked for.`);
  }
}

export class HoldNotFoundError extends userError("HOLD_NOT_FOUND") {
  constructor(readonly holdId: string) {
    super(`No hold ${JSON.stringify(holdId)} in this workspace.`);
  }
}

export class HoldNotPendingError extends userError("HOLD_NOT_PENDING") {
  constructor(
    readonly holdId: string,
    readonly status: HoldStatus,
  ) {
    super(`Hold ${holdId} is ${status.toLowerCase()}: only a pending hold can be confirmed or voided.`);
  }
}

export class AmountExceedsHoldError extends userError("AMOUNT_EXCEEDS_HOLD") {
  constructor(
    readonly holdId: string,
    readonly remaining: Money,
  ) {
    super(`Hold ${holdId} has ${remaining.value} ${remaining.asset} remaining: confirm at most that.`);
  }
}
