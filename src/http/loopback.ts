import { isIPv4 } from "node:net";

/**
 * Names and addresses only this machine reaches. Any other name may resolve here too (DNS
 * rebinding), and then its pages are same-origin with the server; an IP literal or localhost cannot.
 */
export function isLoopbackHost(hostname: string): boolean {
  const bare = hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  return bare === "localhost" || bare === "::1" || (isIPv4(bare) && bare.startsWith("127."));
}

/** The hostname of a Host header's value (`name:port`, `[v6]:port`), or "" when it is none. */
export function hostnameOf(host: string): string {
  return URL.canParse(`http://${host}`) ? new URL(`http://${host}`).hostname : "";
}
