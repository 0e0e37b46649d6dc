/**
 * Making an ioredis client for the manager from URLs (the one factory behind the manager's `url`
 * option and `connectRedis`), and waiting for a client that is (re)connecting. `connectRedis` is
 * public (`mtproto-authkey/redis`); the rest is marked internal one by one.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { AuthKeyStoreUnavailable } from '../core/errors.js';
import { describe } from '../core/validate.js';
import { DEFAULT_TIMEOUT_MS, parseTimeoutMs } from './options.js';
import { scrub } from './stored-value.js';

const noop = (): void => undefined;

/** Options of `connectRedis`. */
export interface RedisConnectOptions {
  /**
   * Where Redis is: `redis://[user:password@]host:port[/db]` or `rediss://…` (TLS). One URL for a
   * standalone server; with `cluster`, one or more seed nodes of the Cluster (the user name,
   * password and TLS of the first apply to every node).
   */
  urls: string | readonly string[];
  /** The URLs are nodes of a Redis Cluster: make a `Cluster` client. Default false. */
  cluster?: boolean;
  /**
   * How long connecting may take, in milliseconds (TCP, TLS, AUTH and the ready check; for a
   * Cluster, learning its slots too). Default 2000. Also each connection attempt's limit later.
   */
  timeoutMs?: number;
}

/** The URLs checked: the protocol, and (for a Cluster) the credentials decoded. */
function parseUrls(urls: unknown, cluster: boolean, what: string): string[] {
  const list = typeof urls === 'string' ? [urls] : urls;
  if (!Array.isArray(list) || list.length === 0 || !list.every((u) => typeof u === 'string')) {
    throw new TypeError(`${what} urls: expected a redis:// URL or a non-empty array of them, got ${describe(urls)}`);
  }
  if (!cluster && list.length !== 1) throw new RangeError(`${what} urls: expected one URL for a standalone server (or cluster: true), got ${list.length}`);
  for (const url of list as string[]) checkUrl(url, what);
  return list as string[];
}

/** Refuses what is not a redis:// or rediss:// URL; the URL is not repeated, it may carry a password. */
function checkUrl(url: string, what: string): URL {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed === undefined || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:'))
    throw new RangeError(`${what} url: expected a redis:// or rediss:// URL`);
  return parsed;
}

/** A percent-encoded user name or password, decoded; a RangeError (without the text) if it is not valid. */
function decoded(text: string, which: string, what: string): string | undefined {
  if (text === '') return undefined;
  try {
    return decodeURIComponent(text);
  } catch {
    throw new RangeError(`${what} url: the ${which} is not valid percent-encoding (write % as %25)`);
  }
}

/** A URL as it may be shown: its user name and password replaced by `***`. @internal */
export function shownUrl(url: string): string {
  const parsed = new URL(url);
  const credentials = parsed.username !== '' || parsed.password !== '' ? '***@' : '';
  return `${parsed.protocol}//${credentials}${parsed.host}${parsed.pathname}`;
}

/**
 * The settings of every connection the manager's calls go over: auto-pipelined (the faster
 * setting with calls in flight, measured in bench/redis.bench.ts), and set up to fail fast rather
 * than queue, so that no command runs long after its caller was told it failed.
 * Options: https://github.com/redis/ioredis/blob/main/lib/redis/RedisOptions.ts
 */
function connectionOptions(timeoutMs: number): RedisOptions {
  return {
    // Commands issued in one event-loop turn are written together (https://github.com/redis/ioredis#autopipelining).
    enableAutoPipelining: true,
    // The manager holds calls itself while the client reconnects; a command the client cannot
    // write at once (an auto-pipeline batch flushed just as the connection broke) fails instead
    // of waiting in the offline queue.
    enableOfflineQueue: false,
    // Every reconnect attempt rejects the commands that were in flight when the connection
    // broke, rather than resending them later.
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    // disconnect() waits this long for a socket to close; one that never finished connecting
    // never reports it, and would hold the process for the default 2 s.
    disconnectTimeout: 100,
    // Retry soon after an outage, so the manager works again shortly after Redis is back.
    retryStrategy: (times) => Math.min(50 * times, 500),
  };
}

/** A client for the manager's `{ url }`: connecting at once, owned and ended by the manager. @internal */
export function openClient(url: unknown, timeoutMs: number): Redis {
  if (typeof url !== 'string') throw new TypeError(`RedisAuthKeyManager url: expected a string, got ${describe(url)}`);
  checkUrl(url, 'RedisAuthKeyManager');
  const client = new Redis(url, connectionOptions(timeoutMs));
  // Failures reach callers as rejected commands; without a listener ioredis logs every attempt.
  client.on('error', noop);
  return client;
}

/**
 * A connected ioredis client for `RedisAuthKeyManager` (its `client` option), with the settings the
 * manager's own `url` connection has: auto-pipelining, no offline queue, no retried commands, and
 * reconnection after an outage. A `Redis` for a standalone server, a `Cluster` with `cluster: true`.
 * It is yours: end it with `quit()` or `disconnect()` once the managers over it are closed.
 *
 * A standalone URL that names a node of a Redis Cluster is refused: a standalone client there sees
 * only that node's keys (the store operations would silently miss the rest).
 * @throws TypeError if options are missing or of a wrong type
 * @throws RangeError (rejects) if a URL is not redis:// or rediss://, its user name or password is
 *   not valid percent-encoding, more than one URL is given without `cluster`, `timeoutMs` is not in
 *   (0, 2**31), or a standalone URL names a Cluster node; no connection is left open
 * @throws AuthKeyStoreUnavailable (rejects) if Redis cannot be reached or is not ready within
 *   `timeoutMs`; the message names the server (credentials blanked) and why, and no connection is
 *   left open
 * @example
 * const client = await connectRedis({ urls: process.env.REDIS_URL!, timeoutMs: 5000 });
 * const manager = new RedisAuthKeyManager({ client });
 * // …
 * await manager.close();
 * await client.quit();
 */
export async function connectRedis(options: RedisConnectOptions): Promise<Redis | Cluster> {
  const what = 'connectRedis';
  if (options === null || typeof options !== 'object') throw new TypeError(`${what}: expected { urls, cluster?, timeoutMs? }, got ${describe(options)}`);
  const { urls: given, cluster = false, timeoutMs = DEFAULT_TIMEOUT_MS } = options;
  if (typeof cluster !== 'boolean') throw new TypeError(`${what} cluster: expected a boolean, got ${describe(cluster)}`);
  parseTimeoutMs(timeoutMs, what);
  const urls = parseUrls(given, cluster, what);
  const shown = urls.map(shownUrl).join(', ');
  let client: Redis | Cluster;
  let lastError = '';
  let lastNodeError = '';
  if (cluster) {
    const seeds = urls.map((u) => new URL(u));
    const first = seeds[0];
    const username = decoded(first.username, 'user name', what);
    const password = decoded(first.password, 'password', what);
    const { enableAutoPipelining, enableOfflineQueue, retryStrategy, ...perNode } = connectionOptions(timeoutMs);
    client = new Cluster(
      seeds.map((u) => ({ host: u.hostname, port: u.port === '' ? 6379 : Number(u.port) })),
      {
        enableAutoPipelining,
        enableOfflineQueue,
        lazyConnect: true,
        clusterRetryStrategy: retryStrategy,
        redisOptions: { ...perNode, username, password, tls: first.protocol === 'rediss:' ? {} : undefined },
      },
    );
    // A Cluster's own error ('Failed to refresh slots cache') does not say why; its nodes' do.
    client.on('node error', (error: unknown) => {
      lastNodeError = error instanceof Error ? error.message : String(error);
    });
  } else {
    const url = new URL(urls[0]);
    decoded(url.username, 'user name', what);
    decoded(url.password, 'password', what);
    client = new Redis(urls[0], { ...connectionOptions(timeoutMs), lazyConnect: true });
  }
  client.on('error', (error: unknown) => {
    lastError = error instanceof Error ? error.message : String(error);
  });
  try {
    // connectTimeout covers the TCP connect only: a server that accepts and then never answers
    // (stopped, overloaded) would hold the ready check, and the caller, forever.
    await within(timeoutMs, what, () => client.connect());
  } catch (error) {
    client.disconnect();
    // The client's last error says why (connect ECONNREFUSED …); connect() only that it closed.
    // within() gives a failure its cause; running out of time has none.
    const cause = (error as { cause?: unknown }).cause;
    const failure = cause === undefined ? `no answer within ${timeoutMs} ms` : cause instanceof Error ? cause.message : String(cause);
    const why = [lastError !== '' ? lastError : failure, lastNodeError]
      .filter((m) => m !== '')
      .map((m) => m.replace(/\.$/, ''))
      .join(': ');
    throw new AuthKeyStoreUnavailable(`cannot connect to ${cluster ? 'the Redis Cluster at ' : ''}${shown}: ${why}`);
  }
  if (!cluster) {
    // A Cluster node answers a plain client, but sees only its own keys.
    let info = '';
    try {
      info = await within(timeoutMs, what, () => (client as Redis).info('cluster'));
    } catch {
      // Servers that refuse INFO: nothing to learn.
    }
    if (/cluster_enabled:1/.test(info)) {
      client.disconnect();
      throw new RangeError(`${what}: ${shown} is a node of a Redis Cluster: connect with cluster: true, so that every master is reached`);
    }
  }
  return client;
}

/** Whether `client` is a Cluster client (without importing the class where only types are). @internal */
export function isCluster(client: Redis | Cluster): client is Cluster {
  return (client as { isCluster?: unknown }).isCluster === true;
}

/**
 * Whether a command given to `client` now would fail or queue because it is connecting or
 * reconnecting. `wait` (lazyConnect: the first command connects) and `end` (commands fail at
 * once) need no wait.
 * @internal
 */
export function mustWait(client: Redis | Cluster): boolean {
  const status = client.status;
  return !(status === 'ready' || status === 'wait' || status === 'end' || status === undefined);
}

/**
 * What `send()` resolves with, or AuthKeyStoreUnavailable if it fails or does not settle within
 * `timeoutMs`. With `client`, `send` is called only once the client can take a command at once
 * (waiting while it (re)connects, within the same `timeoutMs`), and never once the time is up,
 * so a step that timed out is never sent later. Errors are scrubbed first: a failed write carries
 * the values sent.
 * @internal
 */
export function within<T>(timeoutMs: number, what: string, send: () => Promise<T>, client?: Redis | Cluster): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const stopWaiting = (): void => {
      client?.off('ready', onStatus);
      client?.off('end', onStatus);
    };
    const failed = (error: unknown): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const cause = scrub(error);
      reject(new AuthKeyStoreUnavailable(`${what}: ${cause instanceof Error ? cause.message : String(cause)}`, cause));
    };
    const go = (): void => {
      let reply: Promise<T>;
      try {
        reply = send();
      } catch (error) {
        failed(error);
        return;
      }
      reply.then((value) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(value);
      }, failed);
    };
    // ioredis emits status events on the next tick; the status may have moved on since.
    const onStatus = (): void => {
      if (done || mustWait(client!)) return;
      stopWaiting();
      go();
    };
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      stopWaiting();
      reject(new AuthKeyStoreUnavailable(`${what}: Redis did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    if (client === undefined || !mustWait(client)) go();
    else {
      client.on('ready', onStatus);
      client.on('end', onStatus);
    }
  });
}
