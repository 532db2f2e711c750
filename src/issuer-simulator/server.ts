import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CardDeletedError,
  CardLimitError,
  type Faults,
  ISSUER_CARD_STATUSES,
  type IssuerCard,
  type IssuerCardStatus,
  IssuerState,
  NO_FAULTS,
} from "./state.ts";

export interface IssuerSimulatorOptions {
  /** 0 (the default): any free port. */
  port?: number;
  host?: string;
  /** Cards that are not DELETED, per user (default 5). */
  cardLimit?: number;
  /** Where its cards are kept across restarts (a JSON file); without one they live in memory only. */
  stateFile?: string;
}

export interface IssuerSimulator {
  /** Its base URL, such as http://127.0.0.1:4010: what ONCEQL_ISSUER_URL names. */
  url: string;
  /** Its state, for audits and tests in the same process; onceql itself only speaks HTTP to it. */
  state: IssuerState;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;
/** Enough for a test to find its own calls' among those of a few servers. */
const TRACEPARENTS_KEPT = 100;

/**
 * A card issuer over HTTP, with the API of the real one and none of its idempotency:
 * `POST/GET /users/{userId}/cards`, `PATCH /cards/{id}`, and `POST/DELETE /_faults` to make the
 * next requests fail, lose their responses, or answer slowly; `GET /_traceparents` lists the W3C
 * trace contexts the last requests carried (a traced onceql sends one with each call).
 */
export async function startIssuerSimulator(options: IssuerSimulatorOptions = {}): Promise<IssuerSimulator> {
  const { stateFile } = options;
  const saved = stateFile && existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, "utf8")) as { cards: IssuerCard[] }).cards : [];
  const state = new IssuerState(options.cardLimit ?? 5, saved, (cards) => {
    if (!stateFile) return;
    mkdirSync(path.dirname(stateFile), { recursive: true });
    writeFileSync(`${stateFile}.tmp`, JSON.stringify({ cards }));
    renameSync(`${stateFile}.tmp`, stateFile);
  });
  const server = createServer((req, res) => {
    handle(state, req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { message: error instanceof Error ? error.message : String(error) });
      else res.destroy();
    });
  });
  // Node's 5 s default closes an idle connection just as a client on a busy machine may reuse it
  // (the client keeps it 4 s by the Keep-Alive hint, its timer as late as the server's): that race
  // was a card request lost to ECONNRESET now and then. A minute leaves the closing to the client.
  server.keepAliveTimeout = 60_000;
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`, state, close: () => close(server) };
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function handle(state: IssuerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { pathname } = new URL(req.url ?? "/", "http://issuer");
  const method = req.method ?? "GET";
  const body = await readJson(req);
  if (body === invalid) return send(res, 400, { message: "the body is not JSON" });

  if (pathname === "/_faults") {
    if (method === "DELETE") state.faults = { ...NO_FAULTS };
    else if (method === "POST") {
      const changes = faultsFrom(body);
      if (!changes) return send(res, 400, { message: "loseNextCreates, failNext and delayMs are whole numbers" });
      state.faults = { ...state.faults, ...changes };
    } else if (method !== "GET") return send(res, 405, { message: "GET, POST or DELETE" });
    return send(res, 200, state.faults);
  }

  if (pathname === "/_traceparents") {
    if (method !== "GET") return send(res, 405, { message: "GET" });
    return send(res, 200, { traceparents: state.traceparents });
  }

  state.requests++;
  const traceparent = req.headers.traceparent;
  if (typeof traceparent === "string") {
    state.traceparents.push(traceparent);
    if (state.traceparents.length > TRACEPARENTS_KEPT) state.traceparents.shift();
  }
  const { delayMs } = state.faults;
  const respond = async (status: number, payload: unknown) => {
    if (delayMs > 0) await sleep(delayMs);
    send(res, status, payload);
  };
  if (state.faults.failNext > 0) {
    state.faults.failNext--;
    return respond(503, { message: "service unavailable (injected)" });
  }

  const userCards = /^\/users\/([^/]+)\/cards$/.exec(pathname);
  if (userCards) {
    const userId = decodeURIComponent(userCards[1]!);
    if (method === "GET") return respond(200, { cards: state.list(userId) });
    if (method !== "POST") return respond(405, { message: "GET or POST" });
    try {
      const card = state.create(userId);
      if (state.faults.loseNextCreates > 0) {
        state.faults.loseNextCreates--;
        // The card exists; the caller never learns it.
        req.socket.destroy();
        return;
      }
      return respond(201, card);
    } catch (error) {
      if (error instanceof CardLimitError) return respond(400, { message: error.message });
      throw error;
    }
  }

  const oneCard = /^\/cards\/([^/]+)$/.exec(pathname);
  if (oneCard) {
    if (method !== "PATCH") return respond(405, { message: "PATCH" });
    const status = (body as { status?: unknown } | undefined)?.status;
    if (!ISSUER_CARD_STATUSES.includes(status as IssuerCardStatus)) {
      return respond(400, { message: `status must be one of ${ISSUER_CARD_STATUSES.join(", ")}` });
    }
    try {
      const card = state.setStatus(decodeURIComponent(oneCard[1]!), status as IssuerCardStatus);
      return card ? respond(200, card) : respond(404, { message: "card not found" });
    } catch (error) {
      if (error instanceof CardDeletedError) return respond(409, { message: error.message });
      throw error;
    }
  }
  return respond(404, { message: "not found" });
}

function faultsFrom(body: unknown): Partial<Faults> | undefined {
  if (body === undefined) return {};
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const changes: Partial<Faults> = {};
  for (const name of Object.keys(NO_FAULTS) as (keyof Faults)[]) {
    const value = (body as Record<string, unknown>)[name];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || (value as number) < 0) return undefined;
    changes[name] = value as number;
  }
  return changes;
}

const invalid: unique symbol = Symbol("invalid JSON");

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return invalid;
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return invalid;
  }
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(payload));
}
