import path from "node:path";
import lockfile from "proper-lockfile";

/** Raised when another process already has the embedded database open. */
export class DataDirInUseError extends Error {
  constructor(dataDir: string) {
    super(
      `The embedded database in ${dataDir} is in use by another onceql process ` +
        `(a server, the CLI or a sweep). PGlite allows one process at a time: stop the other one, ` +
        `or set DATABASE_URL to use PostgreSQL.`,
    );
    this.name = "DataDirInUseError";
  }
}

/**
 * PGlite corrupts its files when two processes open them, so one process at a time holds the
 * folder. The lock is refreshed while held; a lock left by a killed process goes stale and is taken over.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  try {
    return await lockfile.lock(dataDir, {
      lockfilePath: path.join(dataDir, "pglite.lock"),
      stale: 10_000,
      update: 2_000,
      realpath: false,
      onCompromised: (error) => {
        throw new Error(`Lost the lock on the embedded database in ${dataDir}: ${error.message}`);
      },
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ELOCKED") throw new DataDirInUseError(dataDir);
    throw error;
  }
}
