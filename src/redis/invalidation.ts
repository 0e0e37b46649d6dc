/**
 * The invalidation link of the near cache: Redis's server-assisted client-side caching in
 * broadcasting mode (https://redis.io/docs/latest/develop/reference/client-side-caching/), one
 * tracking connection per Redis node, each telling which key names under a prefix were modified.
 *
 * Each connection speaks RESP2 (ioredis 6 defaults to RESP3, over which the redirected messages
 * never arrive) and arms tracking for itself: `CLIENT TRACKING on REDIRECT <its own id> BCAST
 * PREFIX <prefix>`, then `SUBSCRIBE __redis__:invalidate`. Redirecting to itself means one
 * connection carries both the tracking state and the messages, so they cannot fail apart: if it
 * closes, tracking ends with it and the link reports itself down.
 *
 * In a Redis Cluster every node is tracked, replicas too: a replica reports the writes it
 * receives by replication as well (a few ms after its master), so every write is reported once
 * per node holding it, and a failover finds tracking already armed on the promoted replica. The
 * set of nodes follows the Cluster client's own view (`+node`, `-node`, `refresh`); Redis 7.0
 * lists a replica in CLUSTER SLOTS only after its first replication traffic, and its arrival
 * empties the cache once (an untracked node is a gap).
 *
 * SWAPDB changes every key of the database under the connections, and Redis 7.0 reports nothing
 * of it (no invalidation, no keyspace event). On a standalone server the link therefore also asks
 * `INFO commandstats` every SWAP_CHECK_MS on the manager's own connection (the tracking one is
 * subscribed, and takes no other command) and empties the cache when the count of SWAPDB calls
 * moved. A Cluster refuses SWAPDB, so nothing is asked there.
 * @internal
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';

/** What the link reports to the cache. */
export interface InvalidationListener {
  /** These key names (bytes, under the prefix) were modified, deleted, expired or evicted. */
  invalidate(names: readonly Buffer[]): void;
  /** A node's data was flushed (FLUSHALL, FLUSHDB). */
  flush(): void;
  /**
   * The link went down (some node's tracking is not armed or not answering) or came back up
   * (every node armed). Invalidations were or may be missed in between.
   */
  linkChanged(linked: boolean): void;
}

const CHANNEL = '__redis__:invalidate';
/** The name of tracking connections in `CLIENT LIST`. */
export const TRACKING_CONNECTION_NAME = 'mtproto-authkey-invalidation';

/** One node's tracking connection. */
class Tracker {
  readonly #connection: Redis;
  readonly #prefix: string;
  readonly #changed: () => void;
  /** Tracking armed on the current connection and the last ping answered. */
  armed = false;
  #arming = 0;
  #pingOutstanding = false;
  readonly #pinger: ReturnType<typeof setInterval>;
  #closed = false;

  constructor(options: RedisOptions, prefix: string, timeoutMs: number, listener: InvalidationListener, changed: () => void) {
    this.#prefix = prefix;
    this.#changed = changed;
    this.#connection = new Redis({
      ...options,
      // Invalidation messages arrive only over RESP2 with ioredis (see the module comment).
      protocol: 2,
      connectionName: TRACKING_CONNECTION_NAME,
      // Tracking is armed again by hand on every new connection, before subscribing.
      autoResubscribe: false,
      enableAutoPipelining: false,
      enableOfflineQueue: true,
      // Channel and PREFIX are given whole; a client-side key prefix is already part of `prefix`.
      keyPrefix: undefined,
      lazyConnect: false,
      readOnly: false,
      connectTimeout: timeoutMs,
      retryStrategy: (times) => Math.min(50 * times, 1000),
    });
    const connection = this.#connection;
    // Failures show as the link being down; without a listener ioredis logs every reconnect.
    connection.on('error', () => undefined);
    connection.on('ready', () => void this.#arm());
    connection.on('close', () => this.#lost());
    connection.on('messageBuffer', (channel: Buffer, message: Buffer | Buffer[] | null) => {
      if (channel.toString('latin1') !== CHANNEL) return;
      if (message === null) listener.flush();
      else listener.invalidate(Array.isArray(message) ? message : [message]);
    });
    // A ping not answered by the next tick (timeoutMs later) means the connection hangs: it is
    // dropped and made again, and the link is down meanwhile.
    this.#pinger = setInterval(() => this.#ping(), timeoutMs);
    this.#pinger.unref();
  }

  async #arm(): Promise<void> {
    const attempt = ++this.#arming;
    const connection = this.#connection;
    try {
      const id = await connection.client('ID');
      await connection.call('CLIENT', 'TRACKING', 'on', 'REDIRECT', String(id), 'BCAST', 'PREFIX', this.#prefix);
      await connection.subscribe(CHANNEL);
    } catch {
      // Refused (an ACL, say) or the connection broke meanwhile: try again on a new connection.
      if (attempt === this.#arming && !this.#closed) connection.disconnect(true);
      return;
    }
    if (attempt !== this.#arming || this.#closed || connection.status !== 'ready') return;
    this.#pingOutstanding = false;
    this.armed = true;
    this.#changed();
  }

  #lost(): void {
    this.#arming++;
    this.#pingOutstanding = false;
    if (!this.armed) return;
    this.armed = false;
    this.#changed();
  }

  #ping(): void {
    if (!this.armed) return;
    if (this.#pingOutstanding) {
      this.#lost();
      this.#connection.disconnect(true);
      return;
    }
    this.#pingOutstanding = true;
    const arming = this.#arming;
    this.#connection.ping().then(
      () => {
        if (arming === this.#arming) this.#pingOutstanding = false;
      },
      () => undefined,
    );
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#pinger);
    this.#arming++;
    this.armed = false;
    this.#connection.disconnect();
  }
}

/** How often a standalone server is asked whether a SWAPDB ran, ms: keys of a swapped-out database are served for about this long. */
export const SWAP_CHECK_MS = 500;

/** The `calls=` count of `command` in an INFO commandstats reply (0 when it never ran). */
function callsIn(info: string, command: string): number {
  const match = new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info);
  return match === null ? 0 : Number(match[1]);
}

/**
 * Watches a standalone server for SWAPDB through its command statistics. Counts, unlike
 * invalidation messages, miss nothing while no one looks: the first answer after a gap still
 * shows a swap made during it. `armed` once a first count is known and while answers keep coming
 * (one not back within timeoutMs, or a refusal such as an ACL without INFO, unarms it): only
 * then may the cache be trusted.
 */
class SwapWatch {
  readonly #client: Redis;
  readonly #timeoutMs: number;
  readonly #listener: InvalidationListener;
  readonly #changed: () => void;
  readonly #timer: ReturnType<typeof setInterval>;
  armed = false;
  #swaps = 0;
  #infos = 0;
  #outstanding = false;
  /** performance.now() of the last answer (or of the start). */
  #answeredAt = performance.now();
  #closed = false;

  constructor(client: Redis, timeoutMs: number, listener: InvalidationListener, changed: () => void) {
    this.#client = client;
    this.#timeoutMs = timeoutMs;
    this.#listener = listener;
    this.#changed = changed;
    this.#timer = setInterval(() => this.#check(), SWAP_CHECK_MS);
    this.#timer.unref();
    this.#check();
  }

  #check(): void {
    if (this.#closed) return;
    if (this.armed && performance.now() - this.#answeredAt > this.#timeoutMs + SWAP_CHECK_MS) this.#unarm();
    if (this.#outstanding) return;
    const status = this.#client.status;
    // While the connection is down the manager's calls wait for it; the count is read once it is back.
    if (status !== 'ready' && status !== 'wait') return;
    this.#outstanding = true;
    this.#client.info('commandstats').then(
      (info) => this.#answer(info),
      () => {
        this.#outstanding = false;
        this.#unarm();
      },
    );
  }

  #answer(info: string): void {
    this.#outstanding = false;
    if (this.#closed) return;
    this.#answeredAt = performance.now();
    const swaps = callsIn(info, 'swapdb');
    const infos = callsIn(info, 'info');
    if (this.armed) {
      // Our own last INFO is counted by now, so a count that did not grow means CONFIG RESETSTAT,
      // which may have hidden a SWAPDB: both empty the cache.
      if (swaps !== this.#swaps || infos <= this.#infos) this.#listener.flush();
    }
    this.#swaps = swaps;
    this.#infos = infos;
    if (!this.armed) {
      this.armed = true;
      this.#changed();
    }
  }

  #unarm(): void {
    if (!this.armed) return;
    this.armed = false;
    this.#changed();
  }

  close(): void {
    this.#closed = true;
    this.armed = false;
    clearInterval(this.#timer);
  }
}

/** `host:port` of a Cluster node, as ioredis names them. */
function nodeKey(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}

/**
 * Tracking on every node of `client` (its server, or every node of a Cluster), reported to
 * `listener` as one link: up when every node's tracking is armed.
 */
export class InvalidationLink {
  readonly #trackers = new Map<string, Tracker>();
  readonly #client: Redis | Cluster;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #listener: InvalidationListener;
  readonly #reconcile: () => void;
  /** SWAPDB's watch (standalone only). */
  readonly #swapWatch: SwapWatch | undefined;
  #linked = false;
  #closed = false;

  constructor(client: Redis | Cluster, prefix: string, timeoutMs: number, listener: InvalidationListener) {
    this.#client = client;
    this.#prefix = prefix;
    this.#timeoutMs = timeoutMs;
    this.#listener = listener;
    this.#reconcile = () => this.#track();
    if (client instanceof Cluster) {
      // `+node` comes synchronously when the client opens a connection to a node, before it sends
      // a command there (a MOVED redirect included), so no read reaches an untracked node unseen.
      client.on('+node', this.#reconcile);
      client.on('-node', this.#reconcile);
      client.on('refresh', this.#reconcile);
      client.on('ready', this.#reconcile);
      this.#track();
      this.#swapWatch = undefined;
    } else {
      this.#add('server', (client as Redis).options);
      this.#swapWatch = new SwapWatch(client as Redis, timeoutMs, listener, () => this.#changed());
      this.#changed();
    }
  }

  /** Tracking is armed on every node: invalidations are arriving. */
  get linked(): boolean {
    return this.#linked;
  }

  /** Tracks exactly the nodes the Cluster client knows now. */
  #track(): void {
    if (this.#closed) return;
    const cluster = this.#client as Cluster;
    const nodes = new Map(cluster.nodes('all').map((node) => [nodeKey(node), node] as const));
    for (const [key, tracker] of this.#trackers) {
      if (!nodes.has(key)) {
        // A node the client dropped (it died, say) may have changed keys it never reported: its
        // tracker may not have seen its connection close yet, so what is cached goes.
        if (tracker.armed) this.#listener.flush();
        tracker.close();
        this.#trackers.delete(key);
      }
    }
    for (const [key, node] of nodes) if (!this.#trackers.has(key)) this.#add(key, node.options);
    this.#changed();
  }

  #add(key: string, options: RedisOptions): void {
    this.#trackers.set(key, new Tracker(options, this.#prefix, this.#timeoutMs, this.#listener, () => this.#changed()));
  }

  #changed(): void {
    if (this.#closed) return;
    let linked = this.#trackers.size > 0 && (this.#swapWatch === undefined || this.#swapWatch.armed);
    for (const tracker of this.#trackers.values()) linked &&= tracker.armed;
    if (linked === this.#linked) return;
    this.#linked = linked;
    this.#listener.linkChanged(linked);
  }

  /** Closes every tracking connection; the link stays down. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const client = this.#client;
    client.off('+node', this.#reconcile);
    client.off('-node', this.#reconcile);
    client.off('refresh', this.#reconcile);
    client.off('ready', this.#reconcile);
    for (const tracker of this.#trackers.values()) tracker.close();
    this.#trackers.clear();
    this.#swapWatch?.close();
    if (this.#linked) {
      this.#linked = false;
      this.#listener.linkChanged(false);
    }
  }
}
