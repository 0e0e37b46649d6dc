import { engine } from './engine.js';
import { KEY_BYTES } from './sizes.js';
import type { Stream } from './wasm.js';
import { checkBytes } from './validate.js';

/**
 * SHA-1 (FIPS 180-4) of `data`, computed in WebAssembly.
 * @returns a new 20-byte digest
 * @throws TypeError if `data` is not a Uint8Array (a Proxy of one, or one on a detached buffer, is not)
 * @example sha1(new TextEncoder().encode('abc')) // a9993e36...
 */
export function sha1(data: Uint8Array): Uint8Array {
  checkBytes(data, 'sha1 data');
  return engine.sha1(data);
}

/**
 * Streaming SHA-1: feed a message in pieces with `update`, then take the digest once.
 * Instances are independent; many can be open at once.
 * @example new Sha1().update(head).update(body).digest()
 */
export class Sha1 {
  // The message's state lives in the WebAssembly core while this is the stream in use there.
  #stream: Stream | undefined = { saved: null };

  constructor() {
    engine.streamInit(this.#stream!);
  }

  /**
   * Adds `data` to the message.
   * @returns this, for chaining
   * @throws TypeError if `data` is not a Uint8Array
   * @throws Error if `digest()` was already called
   */
  update(data: Uint8Array): this {
    checkBytes(data, 'Sha1.update data');
    engine.streamUpdate(this.#live('update'), data);
    return this;
  }

  /**
   * Finishes the message.
   * @returns its 20-byte digest
   * @throws Error if called twice
   */
  digest(): Uint8Array {
    const stream = this.#live('digest');
    this.#stream = undefined;
    return engine.streamFinal(stream);
  }

  #live(method: string): Stream {
    if (this.#stream === undefined) {
      throw new Error(`Sha1.${method}: the digest was already taken; create a new Sha1 for another message`);
    }
    return this.#stream;
  }
}

/**
 * SHA-1 of many auth keys at once: `keys` holds n keys of 256 bytes back to back; the result
 * holds their n digests of 20 bytes in the same order. Hashes four keys per pass where the
 * runtime has WebAssembly SIMD, with one WebAssembly call per chunk of keys.
 * @throws TypeError if `keys` is not a Uint8Array
 * @throws RangeError if its length is not a multiple of 256
 * @example const digests = sha1AuthKeys(keys); // digests.subarray(20 * i, 20 * i + 20) is key i's
 */
export function sha1AuthKeys(keys: Uint8Array): Uint8Array {
  const n = checkBytes(keys, 'sha1AuthKeys keys');
  if (n % KEY_BYTES !== 0) {
    throw new RangeError(`sha1AuthKeys keys: expected a multiple of ${KEY_BYTES} bytes (n keys back to back), got ${n}`);
  }
  return engine.sha1AuthKeys(keys);
}
