// The sizes of the things the library handles, defined once. The WebAssembly core exports its
// own as globals, and an Engine (wasm.ts) refuses a core whose sizes differ from these.

/** Bytes of an auth key: 2048 bits, big-endian (https://core.telegram.org/mtproto/auth_key). */
export const KEY_BYTES = 256;
/** Bytes of a SHA-1 digest (FIPS 180-4). */
export const DIGEST_BYTES = 20;
/** Bytes of a key record: the key, then its digest (see records.ts). */
export const RECORD_BYTES = KEY_BYTES + DIGEST_BYTES;
/** Bytes of a SHA-256 digest (FIPS 180-4). */
export const SHA256_BYTES = 32;
/** 2**2048: keys are below it. */
export const KEY_LIMIT = 1n << 2048n;
/** Bytes of an AES-256 key (FIPS-197). */
export const AES_KEY_BYTES = 32;
/** Bytes of an IGE IV: the first ciphertext block y0, then the first plaintext block x0. */
export const AES_IV_BYTES = 32;
/** Bytes of an AES block: IGE data is a multiple of it. */
export const AES_BLOCK_BYTES = 16;
