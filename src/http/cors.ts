import type { Plugin } from "graphql-yoga";

/** Headers of ours a page must be let read: browsers show it only the CORS-safelisted ones. */
const EXPOSED_HEADERS = ["Idempotent-Replayed", "Retry-After"];

interface CorsAnswer {
  origin: string;
  credentials: false;
  methods: string[];
  exposedHeaders: string[];
}

/**
 * yoga's `cors` option. Its default reflects any Origin with credentials, and a list of origins
 * answers `null` to the others, which is the Origin of any sandboxed frame: so a listed origin
 * alone gets an answer, naming itself, and without credentials (auth is a bearer token, never a
 * cookie). With none listed, yoga adds no CORS header at all.
 */
export function corsOption(origins: readonly string[]): false | ((request: Request) => CorsAnswer | false) {
  if (!origins.length) return false;
  return (request) => {
    const origin = origins.find((listed) => listed === request.headers.get("origin"));
    return origin ? { origin, credentials: false, methods: ["GET", "POST"], exposedHeaders: EXPOSED_HEADERS } : false;
  };
}

/** An answer then depends on the Origin, so a cache must not hand one origin's to another. */
export function varyOnOrigin(origins: readonly string[]): Plugin {
  if (!origins.length) return {};
  return {
    onResponse({ response }) {
      response.headers.append("Vary", "Origin");
    },
  };
}
