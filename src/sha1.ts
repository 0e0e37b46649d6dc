import { DIGEST_BYTES, engine } from './wasm.js';
import { checkBytes } from './validate.js';

/**
 * SHA-1 (FIPS 180-4) of `data`, computed in WebAssembly.
 * @returns a new 20-byte digest
 * @throws TypeError if `data` is not a Uint8Array
 * @example sha1(new TextEncoder().encode('abc')) // a9993e36...
 */
export function sha1(data: Uint8Array): Uint8Array {
  checkBytes(data, 'sha1 data');
  const out = new Uint8Array(DIGEST_BYTES);
  engine.sha1Into(data, out, 0);
  return out;
}

/**
 * Streaming SHA-1: feed a message in pieces with `update`, then take the digest once.
 * Instances are independent; many can be open at once.
 * @example new Sha1().update(head).update(body).digest()
 */
export class Sha1 {
  #state: Uint8Array | undefined = new Uint8Array(engine.stateBytes);

  constructor() {
    engine.streamInit(this.#state!);
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
    const state = this.#live('digest');
    this.#state = undefined;
    return engine.streamFinal(state);
  }

  #live(method: string): Uint8Array {
    if (this.#state === undefined) {
      throw new Error(`Sha1.${method}: the digest was already taken; create a new Sha1 for another message`);
    }
    return this.#state;
  }
}
