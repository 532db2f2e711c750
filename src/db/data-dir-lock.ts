import { randomBytes } from "node:crypto";
import { linkSync, mkdirSync, readFileSync, rmdirSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** Raised when another process already has the embedded database open. */
export class DataDirInUseError extends Error {
  constructor(dataDir: string, holder: LockHolder | undefined) {
    super(
      `The embedded database in ${dataDir} is in use by another onceql process ` +
        `(${holder ? `pid ${holder.pid} on ${holder.host}: ` : ""}a server, the CLI or a sweep). ` +
        `PGlite allows one process at a time: stop the other one, or set DATABASE_URL to use PostgreSQL.`,
    );
    this.name = "DataDirInUseError";
  }
}

/** Who holds the folder: enough to tell, on the same host, whether that very process still runs. */
interface LockHolder {
  pid: number;
  /** The process's start time (Linux: clock ticks since boot, from /proc), so a reused pid is not taken for it. */
  startTime: string | undefined;
  host: string;
}

const LOCK_FILE = "pglite.lock";
/** Held only for a few synchronous file operations, so one this old was left by a process killed inside them. */
const GUARD_STALE_MS = 2_000;
const OLD_LOCK_STALE_MS = 10_000;
/**
 * How long a start waits for a running holder to let go before refusing: a server stopping (or
 * killed, its process not yet reaped) releases within it, so a restart right after it succeeds.
 */
export const HOLDER_WAIT_MS = 5_000;
const HOLDER_POLL_MS = 100;

/**
 * PGlite corrupts its files when two processes open them, so one process at a time holds the
 * folder. The lock file names its holder (pid and start time), so a lock whose process is gone
 * (SIGKILL, a crash, a second Ctrl-C, a zombie not yet reaped) is taken at once, and one whose
 * process runs is waited for up to `waitMs`, then refused.
 */
export async function lockDataDir(dataDir: string, options: { waitMs?: number } = {}): Promise<() => Promise<void>> {
  const lockPath = path.join(dataDir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, startTime: procStatOf(process.pid)?.startTime, host: hostname() };
  const mine = JSON.stringify(me);
  const deadline = Date.now() + (options.waitMs ?? HOLDER_WAIT_MS);
  for (;;) {
    const taken = withGuard(dataDir, () => {
      const holder = readHolder(lockPath);
      if (holder === undefined || (holder !== null && isRunning(holder))) return { holder };
      if (holder !== null) unlinkSync(lockPath);
      create(lockPath, mine);
      return undefined;
    });
    if (!taken) break;
    if (Date.now() >= deadline) throw new DataDirInUseError(dataDir, taken.holder);
    await sleep(HOLDER_POLL_MS);
  }
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    withGuard(dataDir, () => {
      if (readFileOrNull(lockPath) === mine) unlinkSync(lockPath);
    });
  };
}

/**
 * Checking the holder and replacing the file is one step for every process: a directory made
 * with mkdir (atomic) guards it, so two processes finding the same dead holder never both take over.
 */
function withGuard<T>(dataDir: string, work: () => T): T {
  const guard = path.join(dataDir, `${LOCK_FILE}.guard`);
  for (let attempt = 0; ; attempt++) {
    try {
      mkdirSync(guard);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      if (Date.now() - mtimeOf(guard) > GUARD_STALE_MS) rmdirSync(guard);
      else if (attempt > 200) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
  try {
    return work();
  } finally {
    rmdirSync(guard);
  }
}

/** Written whole, then linked into place, so a reader never sees half a record. */
function create(lockPath: string, record: string): void {
  const temporary = `${lockPath}.${randomBytes(6).toString("hex")}`;
  writeFileSync(temporary, record);
  try {
    linkSync(temporary, lockPath);
  } finally {
    unlinkSync(temporary);
  }
}

/** null: no lock; undefined: a lock whose holder cannot be told, taken for a running one. */
function readHolder(lockPath: string): LockHolder | null | undefined {
  let text: string | null;
  try {
    text = readFileOrNull(lockPath);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EISDIR") throw error;
    // An older onceql's lock, a directory its holder touched every 2 s: stale after 10 s.
    if (Date.now() - mtimeOf(lockPath) < OLD_LOCK_STALE_MS) return undefined;
    rmdirSync(lockPath);
    return null;
  }
  if (text === null) return null;
  try {
    const holder = JSON.parse(text) as LockHolder;
    return Number.isInteger(holder.pid) && typeof holder.host === "string" ? holder : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(holder: LockHolder): boolean {
  // Another host's process cannot be seen from here (a shared folder): assume it runs.
  if (holder.host !== hostname()) return true;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  const stat = procStatOf(holder.pid);
  // A zombie has exited and closed every file: all that is left of it is its exit status, kept
  // until its parent reaps it (for ever where PID 1 reaps nothing, as in a container without init).
  if (stat?.state === "Z" || stat?.state === "X") return false;
  return stat === undefined || holder.startTime === undefined || stat.startTime === holder.startTime;
}

/**
 * Fields 3 (state) and 22 (start time) of /proc/<pid>/stat; undefined where there is no /proc
 * (then the pid alone is checked).
 */
function procStatOf(pid: number): { state: string | undefined; startTime: string | undefined } | undefined {
  const stat = readFileOrNull(`/proc/${pid}/stat`);
  if (stat === null) return undefined;
  // The command name, field 2, is in parentheses and may hold spaces: count from the last one.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0], startTime: fields[19] };
}

function readFileOrNull(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

function mtimeOf(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return Date.now();
  }
}
