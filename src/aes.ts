/**
 * STUB — TEMPORARY, replaced by the real module (AES-256-IGE in WebAssembly, branch aes-core)
 * when the branches are merged. It exists only so that the message layer can be written and
 * tested against the agreed interface now: AES-256-IGE with one node:crypto `aes-256-ecb` call
 * per block, slow and not for runtimes without node:crypto.
 *
 * IGE as in OpenSSL's AES_ige_encrypt (Telegram's convention): iv = y_0 (first 16 bytes) ‖ x_0
 * (last 16); y_i = E(x_i ⊕ y_{i−1}) ⊕ x_{i−1}, and x_i = D(y_i ⊕ x_{i−1}) ⊕ y_{i−1}.
 * @internal
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { checkBytes, plainBytes } from './validate.js';

function ige(data: Uint8Array, key: Uint8Array, iv: Uint8Array, encrypt: boolean, what: string): Uint8Array {
  const n = checkBytes(data, `${what} data`);
  checkBytes(key, `${what} key`, 32);
  checkBytes(iv, `${what} iv`, 32);
  if (n % 16 !== 0) throw new RangeError(`${what} data: expected a multiple of 16 bytes, got ${n}`);
  const src = plainBytes(data, n);
  const out = new Uint8Array(n);
  const c = encrypt ? createCipheriv('aes-256-ecb', key, null) : createDecipheriv('aes-256-ecb', key, null);
  c.setAutoPadding(false);
  // prevOut: the previous block on the output side (y for encryption, x for decryption);
  // prevIn: the previous block on the input side.
  const prevOut = new Uint8Array(16);
  const prevIn = new Uint8Array(16);
  if (encrypt) {
    prevOut.set(iv.subarray(0, 16));
    prevIn.set(iv.subarray(16, 32));
  } else {
    prevIn.set(iv.subarray(0, 16));
    prevOut.set(iv.subarray(16, 32));
  }
  const block = new Uint8Array(16);
  for (let at = 0; at < n; at += 16) {
    for (let i = 0; i < 16; i++) block[i] = src[at + i] ^ prevOut[i];
    const r = c.update(block);
    for (let i = 0; i < 16; i++) out[at + i] = r[i] ^ prevIn[i];
    r.fill(0);
    prevIn.set(src.subarray(at, at + 16));
    prevOut.set(out.subarray(at, at + 16));
  }
  block.fill(0);
  prevIn.fill(0);
  prevOut.fill(0);
  return out;
}

/**
 * STUB: AES-256-IGE encryption of `data` (a multiple of 16 bytes) with a 32-byte key and 32-byte IV.
 * @returns a new array
 * @throws TypeError if an argument is not a Uint8Array
 * @throws RangeError if the key or IV is not 32 bytes or the data not a multiple of 16
 */
export function aes256IgeEncrypt(data: Uint8Array, key: Uint8Array, iv: Uint8Array): Uint8Array {
  return ige(data, key, iv, true, 'aes256IgeEncrypt');
}

/**
 * STUB: AES-256-IGE decryption of `data` (a multiple of 16 bytes) with a 32-byte key and 32-byte IV.
 * @returns a new array
 * @throws TypeError if an argument is not a Uint8Array
 * @throws RangeError if the key or IV is not 32 bytes or the data not a multiple of 16
 */
export function aes256IgeDecrypt(data: Uint8Array, key: Uint8Array, iv: Uint8Array): Uint8Array {
  return ige(data, key, iv, false, 'aes256IgeDecrypt');
}
