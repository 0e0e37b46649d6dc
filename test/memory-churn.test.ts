/**
 * Memory comes back: insert many keys, delete them all, several rounds; and keys handed out keep
 * no store memory alive. Measured in a child process run with `--expose-gc`, which reads
 * `process.memoryUsage()` after full GCs (see test/memory/churn-child.ts).
 *
 * The bounds are on what the library controls: the V8 heap (the manager's objects, handed-out
 * AuthKeys) and external memory, which includes every ArrayBuffer (the key table's pages, slot and
 * expiry arrays, records copied to keys). The WebAssembly core's memory has a fixed size, and the
 * library allocates no other native memory, so nothing it keeps escapes these readings.
 * Resident memory (RSS) is not bounded (issue 18): after a round's ~30 MB is freed, the allocator
 * may keep the pages. On Node 24 RSS climbed 198 → 287 MB over 10 rounds and then levelled off
 * while heap + external stayed at 11 MB, failing a "25% over 4 rounds" bound on a correct library.
 * It is printed for diagnosis only.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const ROUNDS = 4;
const PER_ROUND = 100_000;
const HELD = 3000;
/** Bytes of one record (256 key bytes, 20 digest bytes): what a held key owns once it is removed. */
const RECORD = 276;
/** Bytes of one page of the store: what a held key would pin if it still pointed into the store. */
const PAGE = 256 * RECORD;
/**
 * Fixed allowance over 10% of the empty reading, for buffers Node itself keeps between readings
 * (stdio, the module loader): 256 KiB, under 0.1% of the 100,000 keys' ~30 MB of records.
 */
const ALLOWANCE = 256 * 1024;

interface Reading {
  arrayBuffers: number;
  /** heapUsed + external (external includes arrayBuffers). */
  total: number;
  /** Resident set size: reported, not bounded (see the top of the file). */
  rss: number;
}
interface Holding {
  reading: Reading;
  intact: boolean;
  held: number;
}
interface Result {
  empty: Reading;
  afterRounds: Reading[];
  /** After every key was looked up, HELD of them kept, and all removed by delKey or by clear(). */
  holding: { delKey: Holding; clear: Holding };
}

function runChild(): Result {
  const out = execFileSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', 'test/memory/churn-child.ts', String(ROUNDS), String(PER_ROUND), String(HELD)],
    { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as Result;
}

describe('AuthKeyManager memory', () => {
  const result = runChild();

  it('after deleting every key, memory returns to within 10% of the empty manager, round after round', () => {
    const { empty, afterRounds } = result;
    const mb = (r: Reading) => `${(r.total / 2 ** 20).toFixed(1)} MB heap+external, ${(r.rss / 2 ** 20).toFixed(0)} MB rss`;
    console.log(`churn: empty ${mb(empty)}; after each round ${afterRounds.map(mb).join('; ')}`);
    expect(afterRounds).toHaveLength(ROUNDS);
    for (const r of afterRounds) {
      expect(r.arrayBuffers).toBeLessThanOrEqual(1.1 * empty.arrayBuffers + ALLOWANCE);
      expect(r.total).toBeLessThanOrEqual(1.1 * empty.total + ALLOWANCE);
    }
    // No growth round over round: the last round is no bigger than the first, give or take the
    // allowance (a leak of even 1% of a round's records, ~300 KB a round, would show).
    const first = afterRounds[0];
    const last = afterRounds[ROUNDS - 1];
    expect(last.arrayBuffers).toBeLessThanOrEqual(first.arrayBuffers + ALLOWANCE);
    expect(last.total).toBeLessThanOrEqual(first.total + ALLOWANCE);
  });

  // Held keys point into the store's pages until the store lets go of them; then each gets a copy
  // of its own record. Pages still pinned would be at least min(held, pages) × 70 KiB (391 pages
  // for 100,000 keys: ~27 MB), far above the held keys' own 3000 × 276 B (~0.8 MB).
  for (const how of ['delKey', 'clear'] as const) {
    it(`keys held after ${how === 'clear' ? 'clear()' : 'delKey of every key'} are unchanged and keep only their own records, not store pages`, () => {
      const { empty } = result;
      const { reading, intact, held } = result.holding[how];
      expect(held).toBe(HELD);
      expect(intact).toBe(true);
      const grown = reading.arrayBuffers - empty.arrayBuffers;
      expect(grown).toBeLessThanOrEqual(1.1 * HELD * RECORD + ALLOWANCE);
      expect(grown).toBeLessThan(Math.ceil(PER_ROUND / 256) * PAGE);
    });
  }
});
