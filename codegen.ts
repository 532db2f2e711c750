import type { CodegenConfig } from "@graphql-codegen/cli";

// The typed SDK is generated from the committed schema.graphql (never a running server) and the
// operations in sdk/operations. Until the SDK lands this only checks that the operations are valid.
const config: CodegenConfig = {
  schema: "schema.graphql",
  documents: ["sdk/operations/**/*.graphql"],
  ignoreNoDocuments: true,
  generates: {},
};

export default config;
