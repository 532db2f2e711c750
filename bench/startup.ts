// How long a server takes to start: from spawn to its first answer over HTTP, onceql's
// (src/server.ts, as npm start runs it, on PostgreSQL with its migrations applied) against the
// bare graphql-yoga server (bench/bare-server.ts). Both run bundled under plain node, as npm start
// runs the server (node dist/server.js), and, for comparison, both as TypeScript under tsx.
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { entryArgs, spawnNode } from "../scripts/fleet.ts";
import { compiledBenchEntry } from "./harness.ts";
import { median, round } from "./stats.ts";

async function timeToFirstAnswer(
  argv: string[],
  env: Record<string, string>,
  urlOf: (output: string) => string | undefined,
): Promise<number> {
  const started = performance.now();
  const server = spawnNode(argv, env);
  try {
    for (;;) {
      const url = urlOf(server.output());
      if (url) {
        const answer = await fetch(`${url}/graphql?query=${encodeURIComponent("{ __typename }")}`).catch(() => undefined);
        if (answer) return performance.now() - started;
      }
      if (server.child.exitCode !== null) throw new Error(`${argv.join(" ")} exited: ${server.output()}`);
      await sleep(5);
    }
  } finally {
    const exited = server.exited;
    server.child.kill("SIGTERM");
    await exited;
  }
}

const onceqlUrl = (output: string) => /GraphQL (?:and GraphiQL )?at (\S+)\/graphql/.exec(output)?.[1];
const bareUrl = (output: string) => /"url":"([^"]+)"/.exec(output)?.[1];
/** How the two ran before they were compiled: TypeScript under tsx's loader, for comparison in the same run. */
const underTsx = (entry: string) => ["--conditions=onceql-source", "--import", "tsx", path.resolve(import.meta.dirname, "..", entry)];

export async function measureStartup(env: Record<string, string>, options: { rounds: number; progress(what: string): void }) {
  const bareEntry = path.relative(path.resolve(import.meta.dirname, ".."), await compiledBenchEntry("bare-server.ts"));
  const times: Record<"onceql" | "bare" | "onceqlTsx" | "bareTsx", number[]> = { onceql: [], bare: [], onceqlTsx: [], bareTsx: [] };
  for (let r = 0; r < options.rounds; r++) {
    options.progress(`startup: round ${r + 1} of ${options.rounds}`);
    times.onceql.push(await timeToFirstAnswer(entryArgs("src/server.ts"), env, onceqlUrl));
    times.bare.push(await timeToFirstAnswer(entryArgs(bareEntry), env, bareUrl));
    times.onceqlTsx.push(await timeToFirstAnswer(underTsx("src/main.ts"), env, onceqlUrl));
    times.bareTsx.push(await timeToFirstAnswer(underTsx("bench/bare-server.ts"), env, bareUrl));
  }
  const [startMs, bareStartMs, tsxStartMs, bareTsxStartMs] = [times.onceql, times.bare, times.onceqlTsx, times.bareTsx].map(median) as [
    number,
    number,
    number,
    number,
  ];
  return {
    summary: {
      start_ms: round(startMs),
      bare_start_ms: round(bareStartMs),
      start_vs_bare: round(startMs / bareStartMs),
      tsx_start_ms: round(tsxStartMs),
      bare_tsx_start_ms: round(bareTsxStartMs),
      tsx_start_vs_bare_tsx: round(tsxStartMs / bareTsxStartMs),
    },
  };
}
