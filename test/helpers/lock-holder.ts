/**
 * Holds an embedded database folder's lock, as a server does, until SIGTERM; then takes
 * `releaseAfterMs` to let go (a server closing its database) and exits. Prints "locked" once it holds it.
 * Usage: lock-holder.ts <dataDir> [releaseAfterMs]
 */
import { setTimeout as sleep } from "node:timers/promises";
import { lockDataDir } from "../../src/db/data-dir-lock.ts";

const [dataDir, releaseAfterMs = "0"] = process.argv.slice(2);
const unlock = await lockDataDir(dataDir!, { waitMs: 0 });
process.once("SIGTERM", async () => {
  await sleep(Number(releaseAfterMs));
  await unlock();
  process.exit(0);
});
console.log("locked");
setInterval(() => {}, 60_000);
