import type { IncomingMessage } from "node:http";

/**
 * The address a request came from, for limits kept per client. Behind `trustedProxyHops` proxies
 * that each append to X-Forwarded-For, the client is the entry they appended last but that many:
 * entries before it were written by the client itself and prove nothing. A request with no socket
 * (handed to `yoga.fetch` in-process) counts as one client, "in-process".
 */
export function clientAddress(request: Request, req: IncomingMessage | undefined, trustedProxyHops: number): string {
  const socketAddress = req?.socket?.remoteAddress ?? "in-process";
  if (trustedProxyHops === 0) return socketAddress;
  const forwarded = (request.headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  const chain = [...forwarded, socketAddress];
  return chain[Math.max(0, chain.length - 1 - trustedProxyHops)]!;
}
