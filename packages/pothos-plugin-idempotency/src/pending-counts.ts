import { setTimeout as sleep } from "node:timers/promises";
import { type RecordRef, type RecordStore, slotOf } from "./record-store.ts";
import type { IdempotencyLogger } from "./types.ts";

interface Counts {
  ref: RecordRef;
  replays: number;
  conflicts: number;
}

/**
 * Replays and conflicts counted in memory and added to their records a few times a second, in
 * one statement, so answering a retry writes nothing. A process that dies loses at most one
 * interval's counts; the outcomes themselves are never at stake.
 */
export class PendingCounts {
  private pending = new Map<string, Counts>();
  private flushing = new Map<string, Counts>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly store: RecordStore,
    private readonly logger: IdempotencyLogger,
    intervalMs = 250,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  add(ref: RecordRef, kind: "replays" | "conflicts"): void {
    const slot = slotOf(ref);
    const counts = this.pending.get(slot) ?? { ref, replays: 0, conflicts: 0 };
    counts[kind]++;
    this.pending.set(slot, counts);
  }

  /** Replays of this key not yet on its record. */
  replaysNotStored(ref: RecordRef): number {
    const slot = slotOf(ref);
    return (this.pending.get(slot)?.replays ?? 0) + (this.flushing.get(slot)?.replays ?? 0);
  }

  async flush(): Promise<void> {
    while (this.flushing.size > 0) await sleep(5);
    if (this.pending.size === 0) return;
    this.flushing = this.pending;
    this.pending = new Map();
    try {
      await this.store.addCounts([...this.flushing.values()]);
    } catch (error) {
      this.logger.warn({ err: error }, "could not store replay counts; will try again");
      for (const [slot, counts] of this.flushing) {
        const current = this.pending.get(slot);
        this.pending.set(
          slot,
          current
            ? { ref: counts.ref, replays: current.replays + counts.replays, conflicts: current.conflicts + counts.conflicts }
            : counts,
        );
      }
    } finally {
      this.flushing = new Map();
    }
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
