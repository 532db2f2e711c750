import { readFileSync } from "node:fs";
import { generate } from "@graphql-codegen/cli";
import { expect, it } from "vitest";
import config from "../../codegen.ts";

it("packages/client/src/generated.ts is what codegen makes of schema.graphql and the operations (run npm run codegen)", async () => {
  const [output] = await generate({ ...config, silent: true }, false);
  expect(output.filename).toBe("packages/client/src/generated.ts");
  expect(readFileSync(output.filename, "utf8")).toBe(output.content);
});
