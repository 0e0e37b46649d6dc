/**
 * `redis stats`: what is in the store, without opening a value (so without secrets): how many
 * keys, how many expire, how many are stored raw and how many sealed under each secret version.
 * Whether each value is intact is `redis verify`'s question.
 * @internal
 */
import { SEALED_BYTES } from '../../redis/sealer.js';
import { KEY_BYTES } from '../../core/sizes.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import { EXIT } from '../exit.js';
import { type Output, count, table } from '../output.js';
import { OUTPUT_OPTIONS, REDIS_OPTIONS, WALK_OPTIONS, storeAddress } from './common.js';
import { interrupted, isInterrupt } from './interrupt.js';
import { openStore, unavailable, within } from './store.js';

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

/** Ids looked at per round trip (their STRLENs go out together). */
const BATCH = 500;

/** Runs `redis stats`; returns the exit code. */
export async function run(args: ParsedArgs, out: Output): Promise<number> {
  const address = storeAddress(args, out.io);
  const store = await openStore(address, undefined);
  const shown = out.progress('stats', 'keys');
  const totals = { keys: 0, expiring: 0, raw: 0, sealed: {} as Record<number, number>, other: 0, vanished: 0 };
  try {
    const { client } = store;
    let batch: string[] = [];
    const flush = async () => {
      const names = batch;
      batch = [];
      const read = async (): Promise<[number[], Buffer[], number[]]> => {
        const lengths = await Promise.all(
          names.map((name) => client.strlen(name).catch((e: Error) => (e.message.startsWith('WRONGTYPE') ? -1 : Promise.reject(e)))),
        );
        const sealed = names.filter((_, i) => lengths[i] === SEALED_BYTES);
        // STRLEN is 0 for an empty value and for a key deleted since the scan: EXISTS tells them apart.
        const empty = names.filter((_, i) => lengths[i] === 0);
        const [versions, present] = await Promise.all([
          Promise.all(sealed.map((name) => client.getrangeBuffer(name, 0, 0))),
          Promise.all(empty.map((name) => client.exists(name))),
        ]);
        return [lengths, versions, present];
      };
      let lengths: number[];
      let versions: Buffer[];
      let present: number[];
      try {
        // Bounded like the scan (keys() bounds each SCAN): a server that stalls between the two
        // would otherwise hold these reads, and the command, forever.
        [lengths, versions, present] = await within(read(), address.timeoutMs);
      } catch (error) {
        throw unavailable('redis stats', error);
      }
      for (const n of lengths) {
        if (n === KEY_BYTES) totals.raw++;
        else if (n !== SEALED_BYTES && n !== 0) totals.other++;
      }
      for (const p of present) {
        if (p === 1) totals.other++;
        else totals.vanished++;
      }
      for (const v of versions) {
        // Deleted (and perhaps replaced by a raw key) between the two reads: it was counted as sealed.
        const version = v.length === 1 ? v[0] : -1;
        if (version < 0) totals.vanished++;
        else totals.sealed[version] = (totals.sealed[version] ?? 0) + 1;
      }
    };
    for await (const info of store.manager.keys({ batch: address.batch, signal: out.io.signal, onProgress: (done, total) => shown.update(done, total) })) {
      totals.keys++;
      if (info.expiresAt !== undefined) totals.expiring++;
      batch.push(store.nameOf(info.id));
      if (batch.length >= (address.batch ?? BATCH)) await flush();
    }
    if (batch.length > 0) await flush();
    shown.end('done');
  } catch (error) {
    if (isInterrupt(error, out)) return interrupted(out, 'redis stats', shown);
    shown.end('stopped');
    throw error;
  } finally {
    await store.close();
  }
  const sealedTotal = Object.values(totals.sealed).reduce((a, b) => a + b, 0);
  // Keys deleted between the scan and the length read are not in the store any more.
  const keys = totals.keys - totals.vanished;
  out.result(
    { command: 'redis stats', prefix: address.prefix, keys, expiring: totals.expiring, raw: totals.raw, sealed: totals.sealed, other: totals.other },
    table([
      ['keys', count(keys)],
      ['expiring', count(totals.expiring)],
      ['raw (256 bytes)', count(totals.raw)],
      [
        'sealed (285 bytes)',
        `${count(sealedTotal)}${
          sealedTotal === 0
            ? ''
            : ` (${Object.entries(totals.sealed)
                .map(([v, n]) => `version ${v}: ${count(n)}`)
                .join(', ')})`
        }`,
      ],
      ['other', `${count(totals.other)}${totals.other === 0 ? '' : ' (not a key: run redis verify)'}`],
    ]),
  );
  return EXIT.OK;
}
