import pino, { type DestinationStream, type Logger } from "pino";

/**
 * Structured JSON logs on stdout, one object per line; `mixin`'s fields on each (the active span's
 * trace_id and span_id, when traces are exported).
 */
export function createLogger(level: string, mixin?: () => Record<string, string>, destination?: DestinationStream): Logger {
  const options = { level, base: { service: "onceql" }, timestamp: pino.stdTimeFunctions.isoTime, ...(mixin ? { mixin } : {}) };
  return destination ? pino(options, destination) : pino(options);
}
