/**
 * Opens the store for a `redis` command: imports ioredis and `mtproto-authkey/redis` only now
 * (so `inspect` runs without ioredis installed), connects with a short, clear failure when Redis
 * cannot be reached, and makes the manager over that connection.
 * @internal
 */
import type { Cluster, Redis } from 'ioredis';
import { idHexOf } from '../../core/ids.js';
import type { RedisAuthKeyManager } from '../../redis.js';
import { CliError, EXIT, UsageError } from '../exit.js';
import { redactUrlCredentials } from '../exit.js';
import type { AtRestSecrets } from '../secrets.js';
import type { StoreAddress } from './common.js';

/** An open store: the manager, the connection under it, and how to close both. */
export interface OpenStore {
  manager: RedisAuthKeyManager;
  client: Redis | Cluster;
  /** The key name of an id: prefix + 16 lowercase hex digits. */
  nameOf(id: bigint): string;
  close(): Promise<void>;
}

/** ioredis, and the module that needs it: loaded only by the `redis` commands. */
function loadModules() {
  return Promise.all([import('ioredis'), import('../../redis.js')]);
}

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
  let ioredis: Awaited<ReturnType<typeof loadModules>>[0];
  let redis: Awaited<ReturnType<typeof loadModules>>[1];
  try {
    [ioredis, redis] = await loadModules();
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes("'ioredis'")) {
      throw new CliError('the redis commands need the ioredis package, an optional peer dependency of mtproto-authkey: npm install ioredis', EXIT.UNAVAILABLE);
    }
    throw error;
  }
  const { urls, cluster, timeoutMs, prefix } = address;
  let lastError = '';
  let lastNodeError = '';
  const remember = (error: unknown) => {
    lastError = error instanceof Error ? error.message : String(error);
  };
  const common = {
    // Commands of one event-loop turn go out in one write: the per-key commands of a batch.
    enableAutoPipelining: true,
    connectTimeout: timeoutMs,
    // A command that cannot be sent fails at once, to the manager, which answers for it.
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    lazyConnect: true,
    // disconnect() waits this long for a socket to close; one that failed to connect never
    // reports it, and the command would sit idle for the default 2 s before exiting.
    disconnectTimeout: 100,
  };
  let client: Redis | Cluster;
  const shown = urls.map((u) => redactUrlCredentials(u)).join(', ');
  if (cluster) {
    const seeds = urls.map((u) => new URL(u));
    const first = seeds[0];
    client = new ioredis.Cluster(
      seeds.map((u) => ({ host: u.hostname, port: u.port === '' ? 6379 : Number(u.port) })),
      {
        enableAutoPipelining: true,
        enableOfflineQueue: false,
        lazyConnect: true,
        // A handful of attempts to find the cluster again after a failover, then give up.
        clusterRetryStrategy: (times) => (times > 5 ? null : 100 * times),
        redisOptions: {
          connectTimeout: timeoutMs,
          disconnectTimeout: 100,
          maxRetriesPerRequest: 0,
          username: first.username === '' ? undefined : decodeURIComponent(first.username),
          password: first.password === '' ? undefined : decodeURIComponent(first.password),
          tls: first.protocol === 'rediss:' ? {} : undefined,
        },
      },
    );
    // A Cluster's own error ('Failed to refresh slots cache') does not say why; its nodes' do.
    client.on('node error', (error: unknown) => {
      lastNodeError = error instanceof Error ? error.message : String(error);
    });
  } else {
    client = new ioredis.Redis(urls[0], {
      ...common,
      // A few reconnects over a few seconds (a restart, a failover), then commands fail.
      retryStrategy: (times) => (times > 5 ? null : 200 * times),
    });
  }
  client.on('error', remember);
  try {
    // connectTimeout covers the TCP connect only: a server that accepts and then never answers
    // (stopped, overloaded) would hold the ready check, and the command, forever.
    await within(client.connect(), timeoutMs);
  } catch (error) {
    client.disconnect();
    // The client's last error says why (connect ECONNREFUSED …); connect() only that it closed.
    const why = [lastError !== '' ? lastError : error instanceof Error ? error.message : String(error), lastNodeError]
      .filter((m) => m !== '')
      .map((m) => m.replace(/\.$/, ''))
      .join(': ');
    throw new CliError(`cannot connect to ${cluster ? 'the Redis Cluster at ' : ''}${shown}: ${why}`, EXIT.UNAVAILABLE);
  }
  if (!cluster) {
    // A Cluster node answers a plain client, but SCAN there sees only that node's keys.
    let info = '';
    try {
      info = await within((client as Redis).info('cluster'), timeoutMs);
    } catch {
      // Servers that refuse INFO: nothing to learn.
    }
    if (/cluster_enabled:1/.test(info)) {
      client.disconnect();
      throw new UsageError(`${shown} is a node of a Redis Cluster: add --cluster, so that every master is scanned`);
    }
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
    client,
    nameOf: (id) => prefix + idHexOf(id),
    async close() {
      await manager.close();
      // QUIT lets replies in flight arrive; a server that does not answer is not waited for.
      await Promise.race([client.quit().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
      client.disconnect();
    },
  };
}

/** `promise`, or a rejection saying Redis did not answer within `ms`. */
/** `promise`, or a rejection once `ms` have passed without it settling. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A failure of a command sent on the store's connection: exit 3, the message without credentials. */
export function unavailable(what: string, error: unknown): CliError {
  return new CliError(`${what}: Redis failed: ${redactUrlCredentials(error instanceof Error ? error.message : String(error))}`, EXIT.UNAVAILABLE);
}
