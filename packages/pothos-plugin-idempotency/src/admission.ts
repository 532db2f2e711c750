import type { GraphQLError } from "graphql";
import { DATABASE_BUSY_RETRY_AFTER_MS, databaseBusy } from "./errors.ts";

/**
 * How many attempts may hold a database connection at once (createIdempotency's `concurrency`).
 * An attempt holds one for its whole transaction, a call to another service included, so these
 * are connections: keep `total` below the pool's size and what is left is for everything else
 * (reads, authentication) whatever the attempts do.
 */
export interface ConcurrencyOptions {
  /** Attempts at once in this process, every scope together. */
  total: number;
  /** Attempts of one scope (tenant) at once: below `total`, so that no scope takes every connection. */
  perScope: number;
  /**
   * Attempts at once of mutations not declared `onlyDatabaseEffects` (they may wait on another
   * service while holding their connection), every scope together. Default: `total`.
   */
  outside?: number;
  /** The same, for one scope. Default: half of `outside` (rounded up), at most `perScope`. */
  outsidePerScope?: number;
  /**
   * How long an attempt may wait for its turn, in milliseconds; past it, it is refused with
   * DATABASE_BUSY and `retryAfterMs`, having run nothing (its key stays free). Default 2000.
   */
  queueMs?: number;
}

/** Who asks: the attempt's scope, and whether it may call the outside world. */
export interface AdmissionRequest {
  scope: string;
  onlyDatabaseEffects?: boolean;
}

/**
 * Lets attempts in within the limits of `ConcurrencyOptions`, first come first served in each
 * queue. A scope's own limits are taken before the shared ones, so a shared queue holds at most
 * `perScope` waiters of any one scope: another scope waits behind that many at most, never behind
 * a whole flood. Every attempt takes its slots in the same order, so none waits on another in a
 * cycle.
 */
export class Admission {
  private readonly total: Slots;
  private readonly outside: Slots;
  private readonly scopes = new Map<string, { all: Slots; outside: Slots }>();
  private readonly perScope: number;
  private readonly outsidePerScope: number;
  private readonly queueMs: number;

  constructor(options: ConcurrencyOptions) {
    const whole = (name: string, value: number, min: number) => {
      if (!Number.isInteger(value) || value < min) throw new RangeError(`concurrency.${name} must be a whole number of at least ${min}`);
      return value;
    };
    this.total = new Slots(whole("total", options.total, 1));
    this.perScope = Math.min(whole("perScope", options.perScope, 1), options.total);
    const outside = Math.min(whole("outside", options.outside ?? options.total, 1), options.total);
    this.outside = new Slots(outside);
    this.outsidePerScope = Math.min(whole("outsidePerScope", options.outsidePerScope ?? Math.ceil(outside / 2), 1), outside, this.perScope);
    this.queueMs = whole("queueMs", options.queueMs ?? 2_000, 0);
  }

  /** Waits for the attempt's turn; the function it resolves to ends it. DATABASE_BUSY past `queueMs`. */
  async admit(request: AdmissionRequest): Promise<() => void> {
    const scope = this.scopeOf(request.scope);
    const queues = request.onlyDatabaseEffects ? [scope.all, this.total] : [scope.outside, scope.all, this.outside, this.total];
    const deadline = Date.now() + this.queueMs;
    const held: Slots[] = [];
    const release = () => {
      for (const slots of held.splice(0)) slots.release();
      this.forget(request.scope);
    };
    try {
      for (const slots of queues) {
        await slots.acquire(deadline);
        held.push(slots);
      }
    } catch (error) {
      release();
      throw error;
    }
    return release;
  }

  private scopeOf(scope: string): { all: Slots; outside: Slots } {
    let slots = this.scopes.get(scope);
    if (!slots) {
      slots = { all: new Slots(this.perScope), outside: new Slots(this.outsidePerScope) };
      this.scopes.set(scope, slots);
    }
    return slots;
  }

  /** A scope with nothing running or waiting costs no memory: tenants come and go. */
  private forget(scope: string): void {
    const slots = this.scopes.get(scope);
    if (slots?.all.idle && slots.outside.idle) this.scopes.delete(scope);
  }
}

/** A counting semaphore whose waiters give up at a deadline, leaving the queue as they do. */
class Slots {
  private used = 0;
  private readonly waiting = new Set<{ admit(): void }>();

  constructor(private readonly size: number) {}

  get idle(): boolean {
    return this.used === 0 && this.waiting.size === 0;
  }

  acquire(deadline: number): Promise<void> {
    if (this.used < this.size && this.waiting.size === 0) {
      this.used++;
      return Promise.resolve();
    }
    const wait = deadline - Date.now();
    if (wait <= 0) return Promise.reject(refused());
    return new Promise((resolve, reject) => {
      const waiter = {
        admit: () => {
          clearTimeout(timer);
          this.used++;
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiting.delete(waiter);
        reject(refused());
      }, wait);
      this.waiting.add(waiter);
    });
  }

  release(): void {
    this.used--;
    // A Set iterates in insertion order: the longest waiting goes first.
    const next = this.waiting.values().next();
    if (!next.done) {
      this.waiting.delete(next.value);
      next.value.admit();
    }
  }
}

/**
 * Spread over half to one and a half times the usual hint, so a burst refused at once does not
 * come back at once.
 */
function refused(): GraphQLError {
  return databaseBusy(
    Math.round(DATABASE_BUSY_RETRY_AFTER_MS * (0.5 + Math.random())),
    "Too many mutations are running for this caller (or on this server): this one waited too long for its turn, and ran nothing.",
  );
}
