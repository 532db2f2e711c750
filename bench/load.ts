// The load generator, in a process of its own so it does not share a CPU queue with the server:
// receives a phase over IPC, drives the server with autocannon, answers with every latency.
import autocannon from "autocannon";

export interface Phase {
  url: string;
  token: string;
  /** The operation; `%N%` in a body is replaced by a per-request counter starting at `from`. */
  body: string;
  connections: number;
  amount?: number;
  durationS?: number;
  from?: number;
  /** Cycle the counter over this many values (replays of keys executed before). */
  cycle?: number;
  headers?: Record<string, string>;
  /** `%W%` in a body is replaced by one of these, in turn (a different wallet, sku or identity per request). */
  each?: string[];
  /** Every answer must hold this text; the others are counted as mismatches. */
  expectText?: string;
}

export interface PhaseResult {
  latenciesMs: number[];
  requests: number;
  durationS: number;
  non2xx: number;
  errors: number;
  mismatches: number;
}

function run(phase: Phase): Promise<PhaseResult> {
  let i = 0;
  const latenciesMs: number[] = [];
  const next = () => {
    const n = (phase.from ?? 0) + (phase.cycle ? i % phase.cycle : i);
    i++;
    const body = phase.body.replaceAll("%N%", String(n));
    return phase.each ? body.replaceAll("%W%", phase.each[n % phase.each.length]!) : body;
  };
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${phase.url}/graphql`,
        method: "POST",
        connections: phase.connections,
        ...(phase.amount ? { amount: phase.amount } : { duration: phase.durationS }),
        headers: { "content-type": "application/json", authorization: `Bearer ${phase.token}`, ...phase.headers },
        requests: [{ setupRequest: (request) => ({ ...request, body: next() }) }],
        ...(phase.expectText ? { verifyBody: (body: string | Buffer | undefined) => String(body ?? "").includes(phase.expectText!) } : {}),
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          latenciesMs,
          requests: result.requests.total,
          durationS: result.duration,
          non2xx: result.non2xx,
          errors: result.errors,
          mismatches: (result as { mismatches?: number }).mismatches ?? 0,
        });
      },
    );
    instance.on("response", (_client, _status, _bytes, responseTime: number) => latenciesMs.push(responseTime));
  });
}

process.on("message", (phase: Phase) => {
  run(phase).then(
    (result) => process.send!({ ok: true, result }),
    (error: unknown) => process.send!({ ok: false, error: String(error) }),
  );
});
