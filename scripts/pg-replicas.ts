import { execFile } from "node:child_process";
import { appendFile, chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);
const binDir = process.env.ONCEQL_PG_BIN ?? "/usr/lib/postgresql/15/bin";
/** The replica's name to the primary (its walreceiver's application_name is its cluster_name). */
export const REPLICA_NAME = "onceql_replica";

/** PostgreSQL refuses to run as root: as root, its tools run as the postgres OS user. */
async function pgTool(tool: string, args: string[]): Promise<string> {
  const command = path.join(binDir, tool);
  const [file, argv] = process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
  try {
    return (await run(file, argv, { maxBuffer: 16 * 1024 * 1024 })).stdout;
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`${tool} ${args.join(" ")} failed:\n${stderr || stdout || (error as Error).message}`);
  }
}

async function postgresOwner(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const [uid, gid] = await Promise.all([run("id", ["-u", "postgres"]), run("id", ["-g", "postgres"])]);
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

export interface ReplicaPairOptions {
  primaryPort: number;
  replicaPort: number;
  /** Where the replica reaches the primary for streaming: a proxy in front of it, to cut replication. */
  replicationVia: { host: string; port: number };
  synchronous: boolean;
}

/**
 * A throwaway primary and streaming replica (initdb, then pg_basebackup -R -X stream with a
 * replication slot), each on its own loopback port, in a temporary directory that `destroy()`
 * removes (even half made). With `synchronous`, the primary names the replica in synchronous_standby_names and
 * keeps synchronous_commit on: a commit is answered once the replica has flushed it.
 */
export class ReplicaPair {
  private constructor(
    readonly dir: string,
    readonly options: ReplicaPairOptions,
  ) {}

  /** Only the directory: `start()` makes and starts the clusters, so `destroy()` can be arranged first. */
  static async create(options: ReplicaPairOptions): Promise<ReplicaPair> {
    return new ReplicaPair(await mkdtemp(path.join(tmpdir(), "onceql-failover-")), options);
  }

  get primaryDir(): string {
    return path.join(this.dir, "primary");
  }

  get replicaDir(): string {
    return path.join(this.dir, "replica");
  }

  url(port: number, database: string): string {
    return `postgresql://postgres@127.0.0.1:${port}/${database}`;
  }

  async start(): Promise<void> {
    const owner = await postgresOwner();
    if (owner) await chown(this.dir, owner.uid, owner.gid);
    await pgTool("initdb", ["-D", this.primaryDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
    // initdb's pg_hba.conf with --auth=trust already lets local and loopback replication in.
    await appendFile(
      path.join(this.primaryDir, "postgresql.conf"),
      [
        "listen_addresses = '127.0.0.1'",
        `port = ${this.options.primaryPort}`,
        `unix_socket_directories = '${this.dir}'`,
        "wal_level = replica",
        "max_wal_senders = 4",
        "max_replication_slots = 4",
        "wal_keep_size = '64MB'",
        "shared_buffers = '32MB'",
        "cluster_name = 'onceql_primary'",
        "",
      ].join("\n"),
    );
    await pgTool("pg_ctl", ["-D", this.primaryDir, "-l", path.join(this.dir, "primary.log"), "-w", "start"]);
    const via = this.options.replicationVia;
    await pgTool("pg_basebackup", [
      ...["-h", via.host, "-p", String(via.port), "-U", "postgres"],
      ...["-D", this.replicaDir, "-R", "-X", "stream", "-C", "-S", REPLICA_NAME],
    ]);
    await appendFile(
      path.join(this.replicaDir, "postgresql.conf"),
      `port = ${this.options.replicaPort}\ncluster_name = '${REPLICA_NAME}'\n`,
    );
    await pgTool("pg_ctl", ["-D", this.replicaDir, "-l", path.join(this.dir, "replica.log"), "-w", "start"]);
    if (this.options.synchronous) {
      await this.primarySql(`ALTER SYSTEM SET synchronous_standby_names = '"${REPLICA_NAME}"'`);
      await this.primarySql("ALTER SYSTEM SET synchronous_commit = 'on'");
      await this.primarySql("SELECT pg_reload_conf()");
    }
    await this.waitForReplica(this.options.synchronous ? "sync" : "async");
  }

  /** Runs one statement on the primary's maintenance database, directly (not through any proxy). */
  async primarySql(sql: string): Promise<pg.QueryResult> {
    const client = new pg.Client({ connectionString: this.url(this.options.primaryPort, "postgres") });
    await client.connect();
    try {
      return await client.query(sql);
    } finally {
      await client.end();
    }
  }

  private async waitForReplica(syncState: string): Promise<void> {
    for (let waited = 0; waited < 100; waited++) {
      const { rows } = await this.primarySql(
        `SELECT sync_state FROM pg_stat_replication WHERE application_name = '${REPLICA_NAME}' AND state = 'streaming'`,
      );
      if (rows[0]?.sync_state === syncState) return;
      await sleep(100);
    }
    throw new Error(`the replica is not streaming (${syncState}) after 10 s; see ${this.dir}/replica.log`);
  }

  /** The primary crashes: every process ends at once, nothing is flushed or sent on. */
  async crashPrimary(): Promise<void> {
    await pgTool("pg_ctl", ["-D", this.primaryDir, "-m", "immediate", "stop"]);
  }

  async promoteReplica(): Promise<void> {
    await pgTool("pg_ctl", ["-D", this.replicaDir, "-w", "promote"]);
  }

  /** Stops whatever still runs and removes every file; safe to call more than once. */
  async destroy(): Promise<void> {
    for (const dataDir of [this.replicaDir, this.primaryDir]) {
      await pgTool("pg_ctl", ["-D", dataDir, "-m", "immediate", "stop"]).catch(() => {});
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}
