import { NoSchemaIntrospectionCustomRule } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * Refuses, at validation, any operation that selects `__schema` or `__type` (graphql-js' own rule,
 * added as envelop's `useValidationRule` adds one); `__typename` stays allowed, since clients rely
 * on it to read unions. Nothing of such an operation runs.
 */
export function noIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
