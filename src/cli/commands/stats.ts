/**
 * `redis stats`: what is in the store, without opening a value (so without secrets): how many
 * keys, how many expire, how many are stored raw and how many sealed under each secret version
 * (`RedisAuthKeyManager#stats`). Whether each value is intact is `redis verify`'s question.
 * @internal
 */
import type { CommandSpec, ParsedArgs } from '../args.js';
import { EXIT } from '../exit.js';
import { type Output, count, table } from '../output.js';
import { OUTPUT_OPTIONS, REDIS_OPTIONS, WALK_OPTIONS, storeAddress } from './common.js';
import { interrupted, isInterrupt } from './interrupt.js';
import { openStore } from './store.js';

export const spec: CommandSpec = {
  name: 'redis stats',
  summary: 'count keys: expiring, raw, sealed by secret version (opens no value; needs no secret)',
  synopsis: '',
  positionals: { min: 0, max: 0 },
  options: { ...REDIS_OPTIONS, ...WALK_OPTIONS, ...OUTPUT_OPTIONS },
  description: [
    'Scans the store (SCAN, never KEYS; every master of a Cluster) and counts its keys by the length',
    'of their value: 256 bytes (a raw key), 285 bytes (sealed; the secret version is the first byte,',
    'read with GETRANGE) or anything else (not a key: `redis verify` names them). Opens no value, so',
    'it needs no secret and cannot tell a damaged value from a good one of the same length.',
    '',
    'Exit code 0 whatever it finds.',
  ].join('\n'),
};

/** Runs `redis stats`; returns the exit code. */
export async function run(args: ParsedArgs, out: Output): Promise<number> {
  const address = storeAddress(args, out.io);
  const store = await openStore(address, undefined);
  const shown = out.progress('stats', 'keys');
  let totals: Awaited<ReturnType<typeof store.manager.stats>>;
  try {
    totals = await store.manager.stats({ batch: address.batch, signal: out.io.signal, onProgress: (done, total) => shown.update(done, total) });
    shown.end('done');
  } catch (error) {
    if (isInterrupt(error, out)) return interrupted(out, 'redis stats', shown);
    shown.end('stopped');
    throw error;
  } finally {
    await store.close();
  }
  const { keys, expiring, raw, sealed, other } = totals;
  const sealedTotal = Object.values(sealed).reduce((a, b) => a + b, 0);
  out.result(
    { command: 'redis stats', prefix: address.prefix, keys, expiring, raw, sealed, other },
    table([
      ['keys', count(keys)],
      ['expiring', count(expiring)],
      ['raw (256 bytes)', count(raw)],
      [
        'sealed (285 bytes)',
        `${count(sealedTotal)}${
          sealedTotal === 0
            ? ''
            : ` (${Object.entries(sealed)
                .map(([v, n]) => `version ${v}: ${count(n)}`)
                .join(', ')})`
        }`,
      ],
      ['other', `${count(other)}${other === 0 ? '' : ' (not a key: run redis verify)'}`],
    ]),
  );
  return EXIT.OK;
}
