import pino, { type Logger } from "pino";

/** Structured JSON logs on stdout, one object per line. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "onceql" }, timestamp: pino.stdTimeFunctions.isoTime });
}
