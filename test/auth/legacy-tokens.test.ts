import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { hashSecret } from "../../src/auth/tokens.ts";
import { findWorkspaceByToken, revokeTokens, rotateTokens } from "../../src/auth/workspace-tokens.ts";
import { migrationsDir } from "../../src/db/migrations.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

/** The data step of the migration that brought workspace_tokens: what it does to tokens issued before it. */
function copyTokensAsTheMigrationDoes(): Promise<number> {
  const sql = readFileSync(path.join(migrationsDir, "20261206042132_workspace_tokens", "migration.sql"), "utf8");
  const insert = sql.slice(sql.indexOf('INSERT INTO "workspace_tokens"'));
  return t.db.prisma.$executeRawUnsafe(insert);
}

it("a token issued before tokens named their workspace works after the migration, and is rotated and revoked like any other", async () => {
  const legacy = `oq_ws_${randomBytes(24).toString("base64url")}`;
  const prisma = t.db.prisma;
  const workspace = await prisma.workspace.create({ data: { name: "from before", legacyTokenHash: hashSecret(legacy) } });
  await copyTokensAsTheMigrationDoes();
  const query = "{ __typename }";
  expect((await t.gql(query, {}, { token: legacy })).status).toBe(200);
  expect((await findWorkspaceByToken(prisma, legacy))?.workspace.id).toBe(workspace.id);

  const rotatedAt = new Date();
  const { token: fresh } = await rotateTokens(prisma, workspace.id, 60_000, rotatedAt);
  expect(fresh).toMatch(new RegExp(`^oq_ws_${workspace.id.replaceAll("-", "")}_`));
  expect((await findWorkspaceByToken(prisma, legacy, new Date(rotatedAt.getTime() + 59_000)))?.workspace.id).toBe(workspace.id);
  expect(await findWorkspaceByToken(prisma, legacy, new Date(rotatedAt.getTime() + 60_000))).toBeNull();
  expect((await t.gql(query, {}, { token: fresh })).status).toBe(200);

  expect(await revokeTokens(prisma, workspace.id)).toBe(2);
  expect(await findWorkspaceByToken(prisma, legacy)).toBeNull();
  expect(await findWorkspaceByToken(prisma, fresh)).toBeNull();
  const stored = await prisma.workspaceToken.findMany({ where: { workspaceId: workspace.id } });
  expect(stored.map((row) => row.tokenHash).sort()).toEqual([hashSecret(legacy), hashSecret(fresh)].sort());
});
