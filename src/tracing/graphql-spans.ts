import { context, type Span, SpanStatusCode, type Tracer, trace } from "@opentelemetry/api";
import { AttributeNames, SpanNames } from "@pothos/tracing-opentelemetry";
import { getOperationAST } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * A span for each step of an operation, parse, validate and execute, under the request's. Execute's
 * is active while the operation runs, so the root fields' spans (the schema's tracing plugin) nest
 * under it. Neither the document nor the variables are recorded: either may hold an input in clear.
 */
export function graphqlSpans(tracer: Tracer): Plugin {
  return {
    onParse: () => {
      const span = tracer.startSpan(SpanNames.PARSE);
      return ({ result }) => end(span, result instanceof Error ? result : undefined);
    },
    onValidate: () => {
      const span = tracer.startSpan(SpanNames.VALIDATE);
      return ({ valid, result }) => end(span, valid ? undefined : result[0]);
    },
    onExecute: ({ args, executeFn, setExecuteFn }) => {
      const operation = getOperationAST(args.document, args.operationName);
      const span = tracer.startSpan(SpanNames.EXECUTE, {
        attributes: {
          [AttributeNames.OPERATION_TYPE]: operation?.operation ?? "unknown",
          [AttributeNames.OPERATION_NAME]: operation?.name?.value ?? "anonymous",
        },
      });
      const active = trace.setSpan(context.active(), span);
      setExecuteFn((executeArgs) => context.with(active, () => executeFn(executeArgs)));
      return {
        onExecuteDone: ({ result }) => {
          const errors = "errors" in result ? result.errors : undefined;
          if (errors?.length) span.setAttribute("graphql.errors.count", errors.length);
          span.end();
        },
      };
    },
  };
}

/** A failed parse or validation is marked, without its message: that may quote the document. */
function end(span: Span, error: Error | undefined): void {
  if (error) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}
