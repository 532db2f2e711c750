import { hostname, userInfo } from "node:os";
import type { Logger } from "pino";
import type { Workspace } from "../generated/prisma/client.ts";

export type TokenAction = "rotate" | "revoke";

/**
 * One JSON line per token change, for whoever reads the logs after a leak: which workspace, what
 * was done, and by whom from where as far as this process can tell. Never a token or its hash.
 */
export function auditTokenChange(logger: Logger, workspace: Workspace, action: TokenAction, details: Record<string, unknown>): void {
  logger.info(
    {
      audit: `workspace.token.${action}`,
      action,
      workspace: { id: workspace.id, name: workspace.name },
      ...details,
      by: { user: operator(), host: hostname(), pid: process.pid },
    },
    `workspace token ${action}`,
  );
}

function operator(): string | undefined {
  // sudo keeps who asked for it; the process's own user is then root.
  if (process.env.SUDO_USER) return process.env.SUDO_USER;
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}
