import { type IssuerSimulator, type IssuerSimulatorOptions, startIssuerSimulator } from "../../src/issuer-simulator/server.ts";
import type { Faults } from "../../src/issuer-simulator/state.ts";

export interface TestIssuer extends IssuerSimulator {
  /** Faults set as a test would set them on any issuer: `POST /_faults`. */
  faults(faults: Partial<Faults>): Promise<void>;
  /** `DELETE /_faults`. */
  clearFaults(): Promise<void>;
  /** Creates a card straight at the issuer, as an attempt whose response was lost leaves one. */
  createDirectly(userId: string): Promise<{ id: string }>;
  setStatusDirectly(cardId: string, status: "ACTIVE" | "FROZEN" | "DELETED"): Promise<void>;
  /** API requests the issuer has received so far: onceql's, not the test's own direct calls or fault settings. */
  requests(): number;
  /** The user's cards at the issuer, oldest first. */
  cardsOf(userId: string): { id: string; status: string }[];
}

/** One issuer simulator for a test file: every app and server process of the file gets its URL. */
export async function startTestIssuer(options: IssuerSimulatorOptions = {}): Promise<TestIssuer> {
  const simulator = await startIssuerSimulator(options);
  const send = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(new URL(path, simulator.url), {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  return {
    ...simulator,
    faults: async (faults) => void (await send("POST", "/_faults", faults)),
    clearFaults: async () => void (await send("DELETE", "/_faults")),
    createDirectly: async (userId) => {
      const requests = simulator.state.requests;
      const card = await send("POST", `/users/${userId}/cards`);
      simulator.state.requests = requests;
      return card;
    },
    setStatusDirectly: async (cardId, status) => {
      const requests = simulator.state.requests;
      await send("PATCH", `/cards/${cardId}`, { status });
      simulator.state.requests = requests;
    },
    requests: () => simulator.state.requests,
    cardsOf: (userId) => simulator.state.list(userId),
  };
}
