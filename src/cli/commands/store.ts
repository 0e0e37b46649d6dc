/**
 * Opens the store for a `redis` command: imports `mtproto-authkey/redis` (and so ioredis) only
 * now, so that `inspect` runs without ioredis installed; connects with `connectRedis` (a short,
 * clear failure when Redis cannot be reached) and makes the manager over that connection.
 * @internal
 */
import type { RedisAuthKeyManager } from '../../redis.js';
import { CliError, EXIT, UsageError, redactUrlCredentials } from '../exit.js';
import type { AtRestSecrets } from '../secrets.js';
import type { StoreAddress } from './common.js';

/** An open store: the manager, and how to close it and its connection. */
export interface OpenStore {
  manager: RedisAuthKeyManager;
  close(): Promise<void>;
}

/** How long `close` waits for the connection to end politely (QUIT) before dropping it. */
const QUIT_WAIT_MS = 1000;

/**
 * Connects to the store at `address` and makes a manager over the connection (sealing with
 * `encryption` if given). The secrets of `encryption` are wiped once it returns or fails: the
 * manager keeps its own copies.
 * @throws CliError (exit 3) if ioredis is not installed or Redis cannot be reached
 * @throws UsageError if a standalone URL names a Cluster node (it would see a third of the keys)
 */
export async function openStore(address: StoreAddress, encryption: AtRestSecrets | undefined): Promise<OpenStore> {
  try {
    return await connectStore(address, encryption);
  } finally {
    if (encryption !== undefined) for (const secret of Object.values(encryption.secrets)) secret.fill(0);
  }
}

async function connectStore(address: StoreAddress, encryption: AtRestSecrets | undefined): Promise<OpenStore> {
  let redis: typeof import('../../redis.js');
  try {
    redis = await import('../../redis.js');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes("'ioredis'")) {
      throw new CliError('the redis commands need the ioredis package, an optional peer dependency of mtproto-authkey: npm install ioredis', EXIT.UNAVAILABLE);
    }
    throw error;
  }
  const { urls, cluster, timeoutMs, prefix } = address;
  let client: Awaited<ReturnType<typeof redis.connectRedis>>;
  try {
    client = await redis.connectRedis({ urls, cluster, timeoutMs });
  } catch (error) {
    if (error instanceof redis.AuthKeyStoreUnavailable) {
      // The library's sentence (the server, credentials blanked, and why) without its class's lead-in.
      throw new CliError(error.message.replace(/^auth key store unavailable: /, ''), EXIT.UNAVAILABLE);
    }
    // The URLs were checked already (common.ts), so what is left to refuse is a Cluster node
    // named without --cluster.
    if (error instanceof RangeError && /is a node of a Redis Cluster/.test(error.message)) {
      throw new UsageError(
        `${urls.map((u) => redactUrlCredentials(u)).join(', ')} is a node of a Redis Cluster: add --cluster, so that every master is scanned`,
      );
    }
    if (error instanceof TypeError || error instanceof RangeError) throw new UsageError(error.message);
    throw error;
  }
  let manager: RedisAuthKeyManager;
  try {
    manager = new redis.RedisAuthKeyManager({ client, prefix, timeoutMs, encryption });
  } catch (error) {
    client.disconnect();
    throw new UsageError((error as Error).message);
  }
  return {
    manager,
    async close() {
      await manager.close();
      // QUIT lets replies in flight arrive; a server that does not answer is not waited for.
      await Promise.race([client.quit().catch(() => undefined), new Promise((r) => setTimeout(r, QUIT_WAIT_MS).unref())]);
      client.disconnect();
    },
  };
}
