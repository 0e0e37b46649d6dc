/**
 * Inputs and baselines shared by the bench files: random auth keys in the layouts the API takes,
 * the node:crypto auth key objects that our AuthKey is measured against (the obvious one and the
 * fastest we found), the garbage that gives timed calls realistic GC pressure, the id and packet
 * helpers of the lookup benches (manager, cache) and the clean-up of the Redis benches (redis, cache).
 *
 * The fastest node:crypto routes on Node 20 (bench/sha1-key.bench.ts and auth-key.bench.ts show
 * them side by side): `crypto.hash` returning a string ('binary', which is latin1: one char per byte, or 'hex') takes about half the
 * time of the same call returning a Buffer, which costs an object from C++; 64-bit values are
 * then read from the string's char codes through a DataView, one bigint made per value, faster
 * than parsing `BigInt('0x' + hex.slice(…))` or `Buffer.readBigUInt64BE`.
 */
import { hash, randomFillSync } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type Case, consume } from './harness.ts';

/** Bytes of an auth key and of a SHA-1 digest. */
export const KEY_BYTES = 256;
export const DIGEST_BYTES = 20;
/** Bytes of a prepared packet: the 8 id bytes and a 16-byte msg_key, as an encrypted packet starts. */
export const PACKET_BYTES = 24;

/**
 * `n` random 256-byte keys back to back. The first byte is forced non-zero so every key is a full
 * 2048-bit number (as Diffie–Hellman results nearly always are) and none is the rejected zero key.
 */
export function randomKeys(n: number): Buffer {
  const keys = randomFillSync(Buffer.allocUnsafe(n * KEY_BYTES));
  for (let i = 0; i < n; i++) keys[i * KEY_BYTES] |= 0x80;
  return keys;
}

/** The keys of `contiguous` as separate 256-byte arrays, each owning its memory. */
export function splitKeys(contiguous: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < contiguous.length; at += KEY_BYTES) out.push(contiguous.slice(at, at + KEY_BYTES));
  return out;
}

/** A key's 256 big-endian bytes as a bigint. */
export function toBigint(key: Uint8Array): bigint {
  return BigInt('0x' + Buffer.from(key.buffer, key.byteOffset, key.length).toString('hex'));
}

/**
 * The auth key object a Node developer writes with node:crypto: a copy of the bytes, the SHA-1,
 * and id / aux hash ready as bigints (read big-endian, as mtpylon defines them). It is
 * what `new AuthKey` is compared with, computing the same observable things.
 */
export class NodeAuthKey {
  readonly bytes: Buffer;
  readonly hash: Buffer;
  readonly id: bigint;
  readonly auxHash: bigint;

  constructor(value: Uint8Array | bigint) {
    if (typeof value === 'bigint') {
      if (value < 1n || value >= 1n << 2048n) throw new RangeError('auth key out of range');
      this.bytes = Buffer.from(value.toString(16).padStart(2 * KEY_BYTES, '0'), 'hex');
    } else {
      if (value.length !== KEY_BYTES) throw new RangeError('auth key: expected 256 bytes');
      this.bytes = Buffer.from(value);
    }
    this.hash = hash('sha1', this.bytes, 'buffer');
    this.id = this.hash.readBigUInt64BE(12);
    this.auxHash = this.hash.readBigUInt64BE(0);
  }
}

/** Low byte of a bigint, to fold results into the sink cheaply. */
export function lowByte(x: bigint): number {
  return Number(x & 0xffn);
}

// Eight bytes are written here and read as one big-endian u64: one bigint made per value.
const u64Bytes = new Uint8Array(8);
const u64View = new DataView(u64Bytes.buffer);

/** The big-endian u64 in the 8 chars of the latin1 string `s` from `at` (one char per byte). */
export function latin1U64(s: string, at: number): bigint {
  for (let i = 0; i < 8; i++) u64Bytes[i] = s.charCodeAt(at + i);
  return u64View.getBigUint64(0);
}

/**
 * The auth key object by the fastest node:crypto route we found: the same observable things as
 * NodeAuthKey (a copy of the key, the digest, id and aux hash as bigints), with the copy taken
 * from Node's Buffer pool and the digest as a latin1 string, ids read by latin1U64.
 */
export class FastNodeAuthKey {
  readonly bytes: Buffer;
  /** The 20 digest bytes, one latin1 char each. */
  readonly hash: string;
  readonly id: bigint;
  readonly auxHash: bigint;

  constructor(value: Uint8Array | bigint) {
    if (typeof value === 'bigint') {
      if (value < 1n || value >= 1n << 2048n) throw new RangeError('auth key out of range');
      this.bytes = Buffer.from(value.toString(16).padStart(2 * KEY_BYTES, '0'), 'hex');
    } else {
      if (value.length !== KEY_BYTES) throw new RangeError('auth key: expected 256 bytes');
      this.bytes = Buffer.allocUnsafe(KEY_BYTES);
      this.bytes.set(value);
    }
    this.hash = hash('sha1', this.bytes, 'binary');
    this.id = latin1U64(this.hash, 12);
    this.auxHash = latin1U64(this.hash, 0);
  }
}

/** Objects that outlive a few garbage() calls, as a server's in-flight requests do. */
const survivors: unknown[] = new Array(4096).fill(null);
let survivorAt = 0;

/**
 * Allocates what a busy server allocates besides its keys: `n` short-lived request-like objects
 * (a small object, a 64-byte array, a string), a few of which survive into the next calls.
 * Called untimed between timed calls, so that the timed work meets a heap that fills up and
 * is collected, and pays for the collections its own allocations bring about.
 */
export function garbage(n: number): void {
  for (let i = 0; i < n; i++) {
    const request = { seq: i, body: new Uint8Array(64), tag: `req-${i}` };
    if ((i & 15) === 0) {
      survivors[survivorAt] = request;
      survivorAt = (survivorAt + 1) & (survivors.length - 1);
    }
  }
}

/** In place, a random order of the `n` 8-byte ids in `ids` (Fisher–Yates). */
export function shuffleIds(ids: Uint8Array, n: number): void {
  const tmp = new Uint8Array(8);
  const rand = new Uint32Array(1);
  for (let i = n - 1; i > 0; i--) {
    randomFillSync(rand);
    const j = rand[0] % (i + 1);
    tmp.set(ids.subarray(i * 8, i * 8 + 8));
    ids.copyWithin(i * 8, j * 8, j * 8 + 8);
    ids.set(tmp, j * 8);
  }
}

/** Prepared packets and their 8 id bytes: packets and the id views into them. */
export interface Packets {
  packets: Buffer[];
  idViews: Buffer[];
}

/**
 * `count` packets, each its own Buffer as a socket hands them over: the 8 bytes `idOf(i)` gives,
 * then random bytes up to PACKET_BYTES; `idViews[i]` is the id as a subarray of packet i.
 */
export function makePackets(count: number, idOf: (i: number) => Uint8Array): Packets {
  const packets: Buffer[] = [];
  const idViews: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const p = randomFillSync(Buffer.alloc(PACKET_BYTES));
    p.set(idOf(i), 0);
    packets.push(p);
    idViews.push(p.subarray(0, 8));
  }
  return { packets, idViews };
}

/**
 * Makes cases of `perCall` lookups of prepared packets. They cycle over the largest power of two
 * of them (so the index is a mask; a quick run has fewer), and each case keeps its own cursor, so
 * every case walks the same sequence.
 */
export function packetLookups(packets: readonly Buffer[], perCall: number): (name: string, note: string, hit: (p: Buffer) => unknown) => Case {
  const mask = (1 << Math.floor(Math.log2(packets.length))) - 1;
  return (name, note, hit) => {
    let at = 0;
    return {
      name,
      note,
      opsPerCall: perCall,
      fn: () => {
        let hits = 0;
        for (let i = 0; i < perCall; i++) if (hit(packets[(at + i) & mask]) !== undefined) hits++;
        at = (at + perCall) & mask;
        consume(hits);
      },
    };
  };
}
/** Removes what a run stored under `prefix` (for a REDIS_URL server that outlives the run). */
export async function dropKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, names] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 10_000);
    cursor = next;
    if (names.length > 0) await client.unlink(...names);
  } while (cursor !== '0');
}
