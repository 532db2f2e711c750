import { readFileSync } from "node:fs";
import { generate } from "@graphql-codegen/cli";
import { expect, it } from "vitest";
import config from "../../codegen.ts";

it("src/sdk/generated.ts is what codegen makes of schema.graphql and the operations (run npm run codegen)", async () => {
  const [output] = await generate({ ...config, silent: true }, false);
  expect(output.filename).toBe("src/sdk/generated.ts");
  expect(readFileSync(output.filename, "utf8")).toBe(output.content);
});
