/**
 * Inputs and baselines shared by the bench files: random auth keys in the layouts the API takes,
 * and the "obvious" node:crypto auth key object that our AuthKey is measured against.
 */
import { hash, randomFillSync } from 'node:crypto';

/** Bytes of an auth key and of a SHA-1 digest. */
export const KEY_BYTES = 256;
export const DIGEST_BYTES = 20;

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
 * and id / aux hash ready as bigints (read big-endian, as the MTProto chapter defines them). It is
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
