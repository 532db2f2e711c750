import { LRUCache } from "lru-cache";
import type { SealedOutcome } from "./outcome-codec.ts";
import { type RecordRef, slotOf } from "./record-store.ts";

export interface CachedOutcome {
  mutation: string;
  fingerprint: string;
  sealed: SealedOutcome;
  /** The input as stored (sealed like the outcome), to say what a reuse of the key changed. */
  input: SealedOutcome | null;
  /** When the record expires, epoch ms by the database's clock; then the key runs again (and finds what its first run made). */
  expiresAt: number;
}

/** Entries are dropped this long before their record expires, for clocks that disagree a little. */
const CLOCK_SKEW_MARGIN_MS = 1_000;

/**
 * Completed outcomes this process has seen, so a retry is answered without asking the database.
 * Safe across servers: a completed record never changes until it expires, and entries are not
 * used past their record's expiry. After a failover or a restore the database may have lost
 * records this cache holds: it is then cleared (see DatabaseContinuity), so no server answers from
 * memory what its database no longer holds. Bounded in entries and bytes (sealed outcomes are kept as
 * stored, encrypted where they hold secrets).
 */
export class OutcomeCache {
  private readonly lru: LRUCache<string, CachedOutcome>;

  constructor(options: { maxEntries?: number; maxBytes?: number } = {}) {
    this.lru = new LRUCache({
      max: options.maxEntries ?? 10_000,
      maxSize: options.maxBytes ?? 32 * 1024 * 1024,
      sizeCalculation: (value, slot) =>
        slot.length + value.fingerprint.length + value.sealed.text.length + (value.input?.text.length ?? 0) + 64,
    });
  }

  get(ref: RecordRef): CachedOutcome | undefined {
    const slot = slotOf(ref);
    const entry = this.lru.get(slot);
    if (entry && entry.expiresAt <= Date.now()) {
      this.lru.delete(slot);
      return undefined;
    }
    return entry;
  }

  /** Forgets everything: the database may no longer hold these outcomes (see DatabaseContinuity). */
  clear(): void {
    this.lru.clear();
  }

  set(ref: RecordRef, entry: CachedOutcome): void {
    const expiresAt = entry.expiresAt - CLOCK_SKEW_MARGIN_MS;
    if (expiresAt > Date.now()) this.lru.set(slotOf(ref), { ...entry, expiresAt });
  }
}
