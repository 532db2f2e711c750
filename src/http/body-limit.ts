import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";

const CONTENT_LENGTH = /^\d+$/;

function tooLarge(): GraphQLError {
  return new GraphQLError("Request body too large", { extensions: { http: { status: 413 }, code: "REQUEST_ENTITY_TOO_LARGE" } });
}

/**
 * yoga's `maxRequestBodySize`, without its cost on every request. yoga wraps every body in a
 * TransformStream and a new Request to count its bytes, even one whose Content-Length bounds it
 * already (node's HTTP parser reads that many bytes of it and no more), and finishing that stream
 * pipeline costs an AbortError per request. Here a body with a valid Content-Length is judged by it
 * alone; only one without (chunked) is counted as it streams in, refused at the limit before it is
 * parsed, as yoga does. The answers are yoga's: 413 REQUEST_ENTITY_TOO_LARGE, 400 for a malformed
 * Content-Length. (With `maxRequestBodySize: false`, so that yoga's own does not run too.)
 */
export function limitRequestBodySize(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const length = request.headers.get("content-length");
      if (length != null) {
        // Only a single non-negative integer: anything else (a list, as request smuggling sends) is refused.
        if (!CONTENT_LENGTH.test(length)) {
          throw new GraphQLError("Content-Length header is invalid.", { extensions: { http: { status: 400 }, code: "BAD_REQUEST" } });
        }
        if (Number(length) > limit) throw tooLarge();
        return;
      }
      if (!requestParser || !request.body) return;
      setRequestParser((incoming) => requestParser(counted(incoming, limit, fetchAPI)));
    },
  };
}

/** The request with a body that fails at `limit` bytes (what yoga does to every body). */
function counted(request: Request, limit: number, fetchAPI: { Request: typeof Request; TransformStream: typeof TransformStream }): Request {
  const body = request.body!;
  // A native stream needs a native TransformStream, a ponyfilled one the ponyfill's (yoga's workaround, graphql-yoga#4583).
  const Transform = body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
  let bytes = 0;
  const limited = body.pipeThrough(
    new Transform<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        if (bytes > limit) return controller.error(tooLarge());
        controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, {
    method: request.method,
    headers: request.headers,
    signal: request.signal,
    body: limited,
    duplex: "half",
  } as RequestInit);
}
