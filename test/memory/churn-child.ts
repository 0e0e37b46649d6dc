/**
 * Run by test/memory-churn.test.ts as `node --expose-gc --import tsx test/memory/churn-child.ts`:
 * a process of its own, so that `global.gc` exists and no other test shares the heap. Prints one
 * JSON line of `process.memoryUsage()` readings taken after GC.
 */
import { randomFillSync } from 'node:crypto';
import { AuthKey, AuthKeyManager } from '../../src/index.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('churn child: run with --expose-gc');
const [rounds, perRound, held] = process.argv.slice(2).map(Number);

/** Memory after full GCs. One key made alone first leaves AuthKey's record arena on its small page. */
async function settle(): Promise<{ arrayBuffers: number; total: number; rss: number }> {
  if (new AuthKey(1n).id === 0n) throw new Error('unreachable');
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  return { arrayBuffers: m.arrayBuffers, total: m.heapUsed + m.external, rss: m.rss };
}

/** Inserts `n` random keys in batches; returns their ids as 8-byte arrays. */
function insert(manager: AuthKeyManager, n: number): Uint8Array {
  const ids = new Uint8Array(n * 8);
  const bytes = new Uint8Array(256 * 1024);
  for (let done = 0; done < n; done += 1024) {
    const count = Math.min(1024, n - done);
    randomFillSync(bytes);
    const keys = AuthKey.many(Array.from({ length: count }, (_, i) => bytes.subarray(i * 256, (i + 1) * 256)));
    keys.forEach((k, i) => {
      manager.setKeySync(k);
      ids.set(k.idBytes, (done + i) * 8);
    });
  }
  bytes.fill(0);
  return ids;
}

const manager = new AuthKeyManager();
// Warm every path once so code and caches made on first use are in the empty reading too.
{
  const ids = insert(manager, 2048);
  for (let i = 0; i < 2048; i++) manager.peekKey(ids, i * 8);
  for (let i = 0; i < 2048; i++) await manager.delKey(ids.subarray(i * 8, i * 8 + 8));
}
const empty = await settle();
const afterRounds = [];
for (let round = 0; round < rounds; round++) {
  const ids = insert(manager, perRound);
  // Every key is looked up once, so the manager keeps an AuthKey for each, and then deleted.
  for (let i = 0; i < perRound; i++) if (manager.peekKey(ids, i * 8) === undefined) throw new Error('churn child: key missing');
  for (let i = 0; i < perRound; i++) await manager.delKey(ids.subarray(i * 8, i * 8 + 8));
  if (manager.size !== 0) throw new Error(`churn child: ${manager.size} keys left`);
  afterRounds.push(await settle());
}

// Held keys: look up every key of a full store and keep `held` of them (spread over all pages),
// then let the store go of them, by `how`. The ids live only inside the function, so they are
// garbage by the reading. Returns the kept keys and their bytes as read before.
async function holdThenRemove(how: 'delKey' | 'clear'): Promise<{ keep: AuthKey[]; bytes: string[] }> {
  const ids = insert(manager, perRound);
  const keep: AuthKey[] = [];
  for (let i = 0; i < perRound; i++) {
    const at = i * 8;
    const key = i % 2 === 0 ? manager.peekKey(ids, at)! : await manager.getKey(ids.subarray(at, at + 8));
    if (i % Math.floor(perRound / held) === 0 && keep.length < held) keep.push(key);
  }
  const bytes = keep.map((k) => Buffer.from(k.bytes).toString('hex'));
  if (how === 'clear') await manager.clear();
  else for (let i = 0; i < perRound; i++) await manager.delKey(ids.subarray(i * 8, i * 8 + 8));
  if (manager.size !== 0) throw new Error(`churn child: ${manager.size} keys left`);
  return { keep, bytes };
}
/** The reading with the held keys alive; they die with this call, before the next one. */
async function holding(how: 'delKey' | 'clear'): Promise<{ reading: Awaited<ReturnType<typeof settle>>; intact: boolean; held: number }> {
  const { keep, bytes } = await holdThenRemove(how);
  const reading = await settle();
  // The held keys are unchanged after the store let go of them.
  const intact = keep.every((k, i) => Buffer.from(k.bytes).toString('hex') === bytes[i]);
  return { reading, intact, held: keep.length };
}
const readings = { delKey: await holding('delKey'), clear: await holding('clear') };
process.stdout.write(JSON.stringify({ empty, afterRounds, holding: readings }) + '\n');
