// How long a server takes to start: from spawn to its first answer over HTTP, onceql's
// (src/server.ts, as npm start runs it, on PostgreSQL with its migrations applied) against the
// bare graphql-yoga server (bench/bare-server.ts). Both run under tsx, as npm start does.
import { setTimeout as sleep } from "node:timers/promises";
import { spawnEntry } from "../scripts/fleet.ts";
import { median, round } from "./stats.ts";

async function timeToFirstAnswer(
  entry: string,
  env: Record<string, string>,
  urlOf: (output: string) => string | undefined,
): Promise<number> {
  const started = performance.now();
  const server = spawnEntry(entry, [], env);
  try {
    for (;;) {
      const url = urlOf(server.output());
      if (url) {
        const answer = await fetch(`${url}/graphql?query=${encodeURIComponent("{ __typename }")}`).catch(() => undefined);
        if (answer) return performance.now() - started;
      }
      if (server.child.exitCode !== null) throw new Error(`${entry} exited: ${server.output()}`);
      await sleep(5);
    }
  } finally {
    const exited = server.exited;
    server.child.kill("SIGTERM");
    await exited;
  }
}

export async function measureStartup(env: Record<string, string>, options: { rounds: number; progress(what: string): void }) {
  const onceql: number[] = [];
  const bare: number[] = [];
  for (let r = 0; r < options.rounds; r++) {
    options.progress(`startup: round ${r + 1} of ${options.rounds}`);
    onceql.push(await timeToFirstAnswer("src/server.ts", env, (output) => /GraphiQL at (\S+)\/graphql/.exec(output)?.[1]));
    bare.push(await timeToFirstAnswer("bench/bare-server.ts", env, (output) => /"url":"([^"]+)"/.exec(output)?.[1]));
  }
  const startMs = median(onceql);
  const bareStartMs = median(bare);
  return { summary: { start_ms: round(startMs), bare_start_ms: round(bareStartMs), start_vs_bare: round(startMs / bareStartMs) } };
}
