// npm run issuer -- --port 4010 --card-limit 5: the card issuer simulator on its own, for several
// onceql servers to share (give each ONCEQL_ISSUER_URL=http://127.0.0.1:4010).
import { parseArgs } from "node:util";
import { startIssuerSimulator } from "./server.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "4010" },
    host: { type: "string", default: "127.0.0.1" },
    "card-limit": { type: "string", default: "5" },
    /** A JSON file that keeps the cards across restarts; without one they live in memory only. */
    "state-file": { type: "string" },
  },
});

function wholeNumber(name: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    console.error(`issuer: --${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    process.exit(1);
  }
  return Number(raw);
}

const simulator = await startIssuerSimulator({
  port: wholeNumber("port", values.port, 0, 65535),
  host: values.host,
  cardLimit: wholeNumber("card-limit", values["card-limit"], 1, 1_000_000),
  stateFile: values["state-file"],
}).catch((error: unknown) => {
  console.error(`issuer: cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
console.log(`issuer listening at ${simulator.url}`);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    simulator.close().then(() => process.exit(0));
  });
}
