/**
 * Run by test/redis-cache.test.ts as
 * `node --expose-gc --import tsx test/memory/redis-cache-churn-child.ts <redis url> <prefix>`:
 * a cached RedisAuthKeyManager (maxKeys 1,000) reads 43,000 distinct keys through its cache,
 * checking the cache size after every read; prints one JSON line with the largest size seen, the
 * cache's counters, and `process.memoryUsage()` readings taken after full GCs.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { AuthKey } from '../../src/index.ts';
import { RedisAuthKeyManager, type RedisAuthKeyManagerOptions } from '../../src/redis.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('cache churn child: run with --expose-gc');
const [url, prefix] = process.argv.slice(2);
const MAX_KEYS = 1000;
const WARM = 3000;
const CHURN = 20_000;

async function settle(): Promise<{ arrayBuffers: number; total: number; rss: number }> {
  for (let i = 0; i < 3; i++) {
    gc!();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  return { arrayBuffers: m.arrayBuffers, total: m.heapUsed + m.external, rss: m.rss };
}

const raw = new Redis(url);
const keys: AuthKey[] = Array.from({ length: WARM + 2 * CHURN }, () => new AuthKey(randomBytes(256)));
const names = keys.map((k) => prefix + Buffer.from(k.idBytes).toString('hex'));
for (let i = 0; i < keys.length; i += 1000) {
  const pipeline = raw.pipeline();
  for (let j = i; j < Math.min(i + 1000, keys.length); j++) pipeline.set(names[j], Buffer.from(keys[j].bytes));
  await pipeline.exec();
}

const manager = new RedisAuthKeyManager({ url, prefix, cache: { maxKeys: MAX_KEYS } } as unknown as RedisAuthKeyManagerOptions);
for (const start = Date.now(); !manager.cacheStats().linked; await new Promise((r) => setTimeout(r, 5))) {
  if (Date.now() - start > 10_000) throw new Error('cache churn child: the cache did not link within 10 s');
}

let maxSize = 0;
let wrong = 0;
/** Reads keys [from, to) through the cache, 200 at a time. */
async function read(from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 200) {
    await Promise.all(
      Array.from({ length: Math.min(200, to - i) }, async (_, j) => {
        const key = keys[i + j];
        const got = await manager.getKey(key.idBytes);
        if (!got.equals(key)) wrong++;
        const size = manager.cacheStats().size;
        if (size > maxSize) maxSize = size;
      }),
    );
  }
}

await read(0, WARM);
const full = await settle();
await read(WARM, WARM + CHURN);
const churned = await settle();
await read(WARM + CHURN, WARM + 2 * CHURN);
const again = await settle();
const stats = manager.cacheStats();
await manager.close();
for (let i = 0; i < names.length; i += 1000) await raw.unlink(...names.slice(i, i + 1000));
raw.disconnect();
process.stdout.write(JSON.stringify({ maxKeys: MAX_KEYS, distinct: CHURN, maxSize, wrong, stats, readings: [full, churned, again] }) + '\n');
