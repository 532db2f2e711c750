import type { Plugin } from "graphql-yoga";

export const MAX_BODY_BYTES = 1024 * 1024;

/** Refuses request bodies over the limit before they are read or parsed. */
export function bodyLimitPlugin(maxBytes = MAX_BODY_BYTES): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      const length = Number(request.headers.get("content-length") ?? 0);
      if (length > maxBytes) {
        endResponse(
          fetchAPI.Response.json(
            {
              errors: [
                { message: `Request body is ${length} bytes; the limit is ${maxBytes}.`, extensions: { code: "PAYLOAD_TOO_LARGE" } },
              ],
            },
            { status: 413 },
          ),
        );
      }
    },
  };
}
