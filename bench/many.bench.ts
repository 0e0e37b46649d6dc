/**
 * `AuthKey.many` at 1,000, 10,000 and 1,000,000 keys (100,000 in a quick or smoke run): a bulk
 * import, against a loop of `new AuthKey(bytes)` and against loops making the node:crypto key
 * objects of fixtures.ts (`NodeAuthKey`, the obvious one, and `FastNodeAuthKey`, the fastest we
 * found). Every case reads the id of every key it made, as an import that indexes them does.
 *
 * Every case runs in a process that allocates: before each timed call, untimed, `garbage()`
 * allocates request-like objects (some of which survive a while). The timed calls then meet a
 * heap that fills and is collected, and pay for the collections their own allocations (one
 * object per key, and the node:crypto objects' Buffers) bring about, as they would in a server.
 *
 * Run alone: `npx tsx bench/many.bench.ts [--quick | --smoke]`.
 */
import { AuthKey } from '../src/index.ts';
import { type Case, type Report, type RunOptions, type Table, type Target, consume, measure, runIfMain, speedTarget } from './harness.ts';
import { FastNodeAuthKey, NodeAuthKey, garbage, lowByte, randomKeys, splitKeys } from './fixtures.ts';

/** Request-like garbage objects allocated before each timed call, at most. */
const GARBAGE_MAX = 100_000;

const MANY = 'ours AuthKey.many(arrays)';
const LOOP = 'ours new AuthKey(bytes) loop';
const NODE = 'node:crypto object loop (NodeAuthKey)';
const FAST_NODE = 'node:crypto object loop, latin1 digest (FastNodeAuthKey)';

/** The cases for `n` keys given as separate 256-byte arrays. */
function cases(keys: Uint8Array[]): Case[] {
  const n = keys.length;
  const beforeEach = () => garbage(Math.min(n, GARBAGE_MAX));
  // Calls of a million keys take a second or more: one per round (five in all) is plenty.
  const iterations = n >= 1_000_000 ? 1 : n >= 100_000 ? 2 : undefined;
  const idsOf = (made: { id: bigint }[]) => {
    let x = 0;
    for (let i = 0; i < n; i++) x ^= lowByte(made[i].id);
    consume(x);
  };
  return [
    { name: MANY, opsPerCall: n, beforeEach, iterations, fn: () => idsOf(AuthKey.many(keys)) },
    {
      name: LOOP,
      opsPerCall: n,
      beforeEach,
      iterations,
      fn: () => {
        const made = new Array<AuthKey>(n);
        for (let i = 0; i < n; i++) made[i] = new AuthKey(keys[i]);
        idsOf(made);
      },
    },
    {
      name: NODE,
      note: 'Buffer.from copy, crypto.hash to a Buffer, readBigUInt64BE',
      opsPerCall: n,
      beforeEach,
      iterations,
      fn: () => {
        const made = new Array<NodeAuthKey>(n);
        for (let i = 0; i < n; i++) made[i] = new NodeAuthKey(keys[i]);
        idsOf(made);
      },
    },
    {
      name: FAST_NODE,
      note: 'pooled Buffer copy, crypto.hash to a latin1 string, DataView reads',
      opsPerCall: n,
      beforeEach,
      iterations,
      fn: () => {
        const made = new Array<FastNodeAuthKey>(n);
        for (let i = 0; i < n; i++) made[i] = new FastNodeAuthKey(keys[i]);
        idsOf(made);
      },
    },
  ];
}

/** Measures AuthKey.many at three sizes. */
export async function run(options: RunOptions = {}): Promise<Report> {
  const started = performance.now();
  const quick = options.quick === true || options.smoke === true;
  const sizes: [string, number][] = [
    ['1k', 1_000],
    ['10k', 10_000],
    ['1m', quick ? 100_000 : 1_000_000],
  ];
  const tables: Table[] = [];
  const targets: Target[] = [];
  for (const [id, n] of sizes) {
    let keys: Uint8Array[] | undefined = splitKeys(randomKeys(n));
    const count = n.toLocaleString('en-US');
    const table = await measure(`AuthKey.many, ${count} keys`, 'key', [NODE, FAST_NODE], cases(keys), options);
    keys = undefined; // the next size's keys replace these
    tables.push(table);
    const label = `AuthKey.many of ${count} keys, per key`;
    targets.push(speedTarget(`many-${id}-vs-new`, label, table, MANY, LOOP, 2), speedTarget(`many-${id}-vs-node`, label, table, MANY, table.baseline, 3));
  }
  return {
    id: 'many',
    title: 'AuthKey.many',
    tables,
    extra: [],
    targets,
    notes: quick ? ['quick run: the largest batch is 100,000 keys, not 1,000,000'] : [],
    elapsedMs: performance.now() - started,
  };
}

await runIfMain(import.meta.url, run);
