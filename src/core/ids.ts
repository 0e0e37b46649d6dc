/**
 * auth_key_id in its two machine forms: the 64-bit unsigned integer (the 64 lower-order bits of
 * SHA-1 of the key, https://core.telegram.org/mtproto/description#key-identifier-auth-key-id)
 * as two big-endian 32-bit halves, and its one text form, 16 lowercase hex digits.
 * @internal
 */

/** An auth key id as its high and low 32-bit halves (unsigned). */
export interface IdHalves {
  readonly hi: number;
  readonly lo: number;
}

const U32_MASK = 0xffffffffn;

/** Two lowercase hex digits of each byte value. */
const BYTE_HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** The id (hi, lo) as 16 lowercase hex digits: the one text form of an id (toString, Redis key names, error messages). */
export function idHex(hi: number, lo: number): string {
  // Byte by byte from a table: `(hi >>> 0).toString(16)` of a half at or above 2**31 (a heap
  // number, not a small integer) measured about 1 µs in V8, on the path of every Redis call.
  return (
    BYTE_HEX[hi >>> 24] +
    BYTE_HEX[(hi >>> 16) & 255] +
    BYTE_HEX[(hi >>> 8) & 255] +
    BYTE_HEX[hi & 255] +
    BYTE_HEX[lo >>> 24] +
    BYTE_HEX[(lo >>> 16) & 255] +
    BYTE_HEX[(lo >>> 8) & 255] +
    BYTE_HEX[lo & 255]
  );
}

/** The id `id` (in [0, 2**64)) as 16 lowercase hex digits. */
export function idHexOf(id: bigint): string {
  return idHex(Number((id >> 32n) & U32_MASK), Number(id & U32_MASK));
}

/** The id (hi, lo) as a bigint. */
export function idBigint(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** The halves of the id `id` (in [0, 2**64)). */
export function idHalvesOf(id: bigint): IdHalves {
  return { hi: Number(id >> 32n), lo: Number(id & U32_MASK) };
}

/** Big-endian u32 at `at` of `b`. */
export function u32be(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

/**
 * The 32-bit value of the 8 lowercase hex digits at `at` of `b` (as `idHex` writes them), or -1
 * if they are not exactly that: Redis key names arrive as bytes in invalidation messages.
 */
export function hexU32(b: Uint8Array, at: number): number {
  let v = 0;
  for (let i = at; i < at + 8; i++) {
    const c = b[i];
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}
