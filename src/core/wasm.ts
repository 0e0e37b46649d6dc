/**
 * The single boundary between TypeScript and the WebAssembly core: the only module that names
 * `WebAssembly`. It compiles and instantiates a core (for engine.ts, which picks which core and
 * when), lists its exports with their types, and is the only code that reads or writes its linear
 * memory. Everything crossing it is copied in, computed, and copied out; no view into wasm memory
 * ever leaves this module.
 *
 * The callers in src/ validate their arguments first, with their own messages; this module checks
 * again whatever it is handed (lengths by the intrinsic getters of validate.ts, offsets against
 * the real array), so no call can write or read past a staging buffer of the core, and a refused
 * call leaves nothing staged for the next one.
 * @internal
 */
import { AES_BLOCK_BYTES, AES_IV_BYTES, AES_KEY_BYTES, DIGEST_BYTES, KEY_BYTES, KEY_LIMIT, RECORD_BYTES, SHA256_BYTES } from './sizes.js';
import { checkBytes, describe, plainBytes } from './validate.js';

/** Every export of `assembly/scalar.ts` and `assembly/simd.ts`. */
interface CoreExports {
  readonly memory: WebAssembly.Memory;
  readonly SIMD: WebAssembly.Global;
  readonly KEY_BYTES: WebAssembly.Global;
  readonly DIGEST_BYTES: WebAssembly.Global;
  readonly RECORD_BYTES: WebAssembly.Global;
  readonly INPUT_BYTES: WebAssembly.Global;
  readonly OUTPUT_BYTES: WebAssembly.Global;
  readonly KEYS_PER_CALL: WebAssembly.Global;
  readonly RECORDS_PER_CALL: WebAssembly.Global;
  readonly STATE_BYTES: WebAssembly.Global;
  inputPtr(): number;
  outputPtr(): number;
  statePtr(): number;
  hexPtr(): number;
  sha1Init(): void;
  sha1Update(len: number): void;
  sha1Final(): void;
  sha1Digest(len: number): void;
  sha1AuthKeys(n: number): void;
  sha1KeyRecords(n: number): void;
  hexToKey(len: number): void;
  keyToHex(): void;
  /** Zeroes the first `len` bytes of INPUT and the 512 hex digits: staged key material. */
  wipe(len: number): void;
  readonly SHA256_DIGEST_BYTES: WebAssembly.Global;
  readonly SHA256_STATE_BYTES: WebAssembly.Global;
  sha256StatePtr(): number;
  sha256Init(): void;
  sha256Update(len: number): void;
  sha256Final(): void;
  sha256Digest(len: number): void;
  sha256KeyIv(): void;
  readonly AES_DATA_BYTES: WebAssembly.Global;
  readonly AES_KEY_BYTES: WebAssembly.Global;
  readonly AES_ROUND_KEY_BYTES: WebAssembly.Global;
  aesDataPtr(): number;
  aesKeyPtr(): number;
  aesRoundKeysPtr(): number;
  aesSetKey(decrypt: number): void;
  aesIgeEncrypt(len: number): void;
  aesIgeDecrypt(len: number): void;
  aesWipe(len: number): void;
}

/** Hex digits of the largest key: the most the bigint route ever stages. */
const HEX_DIGITS = 2 * KEY_BYTES;

const encoder = new TextEncoder();
// Only ASCII hex digits are ever decoded, which every single-byte decoder maps alike.
const decoder = new TextDecoder('latin1');

/** The value of the exported global `name` of a core, as a number. */
function globalOf(core: CoreExports, name: keyof CoreExports): number {
  const g = core[name] as unknown;
  if (!(g instanceof WebAssembly.Global)) throw new Error(`mtproto-authkey: the WebAssembly core does not export ${name}; rebuild it (npm run build)`);
  return Number(g.value);
}

/** Throws if the core's sizes are not the ones this module is written for. */
function checkSizes(core: CoreExports): void {
  const sizes: Array<[keyof CoreExports, number]> = [
    ['KEY_BYTES', KEY_BYTES],
    ['DIGEST_BYTES', DIGEST_BYTES],
    ['RECORD_BYTES', RECORD_BYTES],
    ['SHA256_DIGEST_BYTES', SHA256_BYTES],
  ];
  for (const [name, expected] of sizes) {
    const got = globalOf(core, name);
    if (got !== expected) {
      throw new Error(
        `mtproto-authkey: the WebAssembly core has ${name} = ${got}, but this build of mtproto-authkey expects ${expected}; the core and the TypeScript were built from different sources (rebuild with npm run build)`,
      );
    }
  }
}

/** A streamed SHA-1 message: where its state is kept while another uses the core. */
export interface Stream {
  saved: Uint8Array | null;
}

/** One instantiated core with its buffers. */
export class Engine {
  /** Whether this core hashes auth keys four at a time with WebAssembly SIMD. */
  readonly simd: boolean;
  /** Bytes of the streaming state that `Sha1` keeps between calls. */
  readonly stateBytes: number;
  /** Most records `records` stages and hashes in one call. */
  readonly recordsPerCall: number;
  readonly #core: CoreExports;
  // The core has no allocator, so its memory never grows and these views stay valid.
  readonly #mem: Uint8Array;
  readonly #input: number;
  readonly #output: number;
  readonly #state: number;
  // Fixed views of the staging areas, so the hot paths copy without making a subarray.
  readonly #inputKey: Uint8Array;
  readonly #inputRecord: Uint8Array;
  readonly #outputDigest: Uint8Array;
  readonly #outputSha256: Uint8Array;
  // The 512 hex digits of a key, for the bigint routes.
  readonly #hexView: Uint8Array;
  readonly #inputBytes: number;
  readonly #keysPerCall: number;
  readonly #recordsPerCall: number;
  // The stream whose state lives in the core's state buffer right now, if any.
  #resident: Stream | null = null;
  // AES-IGE staging: the data area (AES_DATA_BYTES), and the key (32) then IV (32) area.
  readonly #aesData: number;
  readonly #aesKey: number;
  readonly #aesDataBytes: number;
  readonly #aesRoundKeys: number;
  readonly #aesRoundKeyBytes: number;

  /**
   * Takes a core, instantiated here from its bytes (synchronously) or already instantiated (by
   * `loadEngine`), and checks it against this module: its sizes and the layout of its staging
   * areas (each inside memory, none overlapping another).
   * @throws Error if the core's sizes or layout differ from what this module expects
   * @throws RangeError (and whatever else the runtime throws) if the runtime refuses to compile
   *   or instantiate the bytes synchronously
   */
  constructor(source: Uint8Array<ArrayBuffer> | Core) {
    const instance = source instanceof WebAssembly.Instance ? source : instantiateSync(source);
    const core = instance.exports as unknown as CoreExports;
    checkSizes(core);
    this.#core = core;
    this.#mem = new Uint8Array(core.memory.buffer);
    this.#input = core.inputPtr();
    this.#output = core.outputPtr();
    this.#state = core.statePtr();
    const hex = core.hexPtr();
    this.#inputBytes = globalOf(core, 'INPUT_BYTES');
    this.#keysPerCall = globalOf(core, 'KEYS_PER_CALL');
    this.#recordsPerCall = this.recordsPerCall = globalOf(core, 'RECORDS_PER_CALL');
    this.stateBytes = globalOf(core, 'STATE_BYTES');
    this.simd = globalOf(core, 'SIMD') !== 0;
    this.#aesData = core.aesDataPtr();
    this.#aesKey = core.aesKeyPtr();
    this.#aesDataBytes = globalOf(core, 'AES_DATA_BYTES');
    this.#aesRoundKeys = core.aesRoundKeysPtr();
    this.#aesRoundKeyBytes = globalOf(core, 'AES_ROUND_KEY_BYTES');
    if (globalOf(core, 'AES_KEY_BYTES') !== AES_KEY_BYTES + AES_IV_BYTES)
      throw new Error(`mtproto-authkey: the WebAssembly core's AES key area is not ${AES_KEY_BYTES + AES_IV_BYTES} bytes; rebuild it (npm run build)`);
    if (this.#aesDataBytes < AES_BLOCK_BYTES || this.#aesDataBytes % AES_BLOCK_BYTES !== 0)
      throw new Error('mtproto-authkey: the WebAssembly core stages no whole AES block');
    const inputArea = Math.max(this.#inputBytes, this.#keysPerCall * KEY_BYTES, this.#recordsPerCall * RECORD_BYTES);
    const areas: Array<[string, number, number]> = [
      ['input', this.#input, inputArea],
      ['output', this.#output, Math.max(globalOf(core, 'OUTPUT_BYTES'), this.#keysPerCall * DIGEST_BYTES)],
      ['state', this.#state, this.stateBytes],
      // hexToKey reads the 512 '0' digits before HEX too.
      ['hex', hex - HEX_DIGITS, 2 * HEX_DIGITS],
      ['SHA-256 state', core.sha256StatePtr(), globalOf(core, 'SHA256_STATE_BYTES')],
      ['AES data', this.#aesData, this.#aesDataBytes],
      ['AES key', this.#aesKey, AES_KEY_BYTES + AES_IV_BYTES],
      ['AES round keys', this.#aesRoundKeys, this.#aesRoundKeyBytes],
    ];
    for (const [name, at, size] of areas) {
      if (!(at >= 0 && size > 0 && at + size <= this.#mem.length))
        throw new Error(`mtproto-authkey: the WebAssembly core's ${name} area lies outside its memory`);
      for (const [other, at2, size2] of areas) {
        if (other !== name && at < at2 + size2 && at2 < at + size)
          throw new Error(`mtproto-authkey: the WebAssembly core's ${name} and ${other} areas overlap`);
      }
    }
    if (this.#inputBytes < KEY_BYTES || this.#recordsPerCall < 1) throw new Error('mtproto-authkey: the WebAssembly core stages less than one key');
    this.#inputKey = this.#mem.subarray(this.#input, this.#input + KEY_BYTES);
    this.#inputRecord = this.#mem.subarray(this.#input, this.#input + RECORD_BYTES);
    this.#outputDigest = this.#mem.subarray(this.#output, this.#output + DIGEST_BYTES);
    this.#hexView = this.#mem.subarray(hex, hex + HEX_DIGITS);
    this.#outputSha256 = this.#mem.subarray(this.#output, this.#output + SHA256_BYTES);
  }

  /**
   * SHA-256 (FIPS 180-4) of `data` as a new 32-byte array: one copy in and one call up to
   * INPUT_BYTES, INPUT-sized chunks beyond. INPUT is zeroed before it returns.
   * @throws TypeError if `data` is not a genuine Uint8Array on an attached buffer
   */
  sha256(data: Uint8Array): Uint8Array {
    const n = lengthOf(data);
    if (n <= this.#inputBytes) {
      if (n !== 0) this.#mem.set(data, this.#input); // the intrinsic length: inside INPUT
      this.#core.sha256Digest(n); // clears the input it read
    } else {
      this.#core.sha256Init();
      this.#feed256(plainBytes(data, n), 0, n);
      this.#core.sha256Final();
    }
    const digest = this.#outputSha256.slice();
    this.#outputSha256.fill(0); // a digest of secret data is secret too
    return digest;
  }

  /**
   * SHA-256 of the concatenation of `a[aAt, aAt + aLen)` and `b[bAt, bAt + bLen)`, written as 32
   * bytes into `out` at `outAt`, without making the concatenation: the two parts are staged one
   * after the other in INPUT (chunked beyond it). Every range is checked against the real arrays
   * before a byte is staged; INPUT and the hash state are zeroed before it returns.
   * @throws TypeError if an array is not a genuine Uint8Array on an attached buffer
   * @throws RangeError if a range does not lie inside its array
   */
  sha256Pair(a: Uint8Array, aAt: number, aLen: number, b: Uint8Array, bAt: number, bLen: number, out: Uint8Array, outAt: number): void {
    const aN = lengthOf(a);
    const bN = lengthOf(b);
    const outN = lengthOf(out);
    if (!isCount(aLen) || !isCount(bLen) || !fits(aAt, aLen, aN) || !fits(bAt, bLen, bN) || !fits(outAt, SHA256_BYTES, outN)) {
      throw new RangeError(
        `SHA-256 of two parts: expected ${aLen} bytes from ${aAt} of ${aN}, ${bLen} bytes from ${bAt} of ${bN} and room for ${SHA256_BYTES} bytes at ${outAt} of ${outN}`,
      );
    }
    const pa = plainBytes(a, aN);
    const pb = plainBytes(b, bN);
    const mem = this.#mem;
    const core = this.#core;
    if (aLen + bLen <= this.#inputBytes) {
      // The common case (a 32- or 36-byte key slice and a message up to 64 KiB): one call.
      mem.set(pa.subarray(aAt, aAt + aLen), this.#input);
      mem.set(pb.subarray(bAt, bAt + bLen), this.#input + aLen);
      core.sha256Digest(aLen + bLen); // clears the input it read
    } else {
      core.sha256Init();
      this.#feed256(pa, aAt, aLen);
      this.#feed256(pb, bAt, bLen);
      core.sha256Final();
    }
    plainBytes(out, outN).set(this.#outputSha256, outAt);
    mem.fill(0, this.#output, this.#output + SHA256_BYTES);
  }

  /**
   * MTProto 2.0's aes_key ‖ aes_iv (https://core.telegram.org/mtproto/description) for the
   * 16-byte msg_key at `mk[mkAt, mkAt + 16)` and the auth key whose 256 bytes are at
   * `key[keyAt, keyAt + 256)`, with x = `x` (0 or 8), written as 64 bytes into `out` at `outAt`:
   * both SHA-256 and the assembly in one call. Ranges are checked against the real arrays first;
   * the staged key slices, the digests and OUTPUT are zeroed before it returns.
   * @throws TypeError if an array is not a genuine Uint8Array on an attached buffer
   * @throws RangeError if a range does not lie inside its array or `x` is not 0 or 8
   */
  sha256KeyIv(key: Uint8Array, keyAt: number, x: number, mk: Uint8Array, mkAt: number, out: Uint8Array, outAt: number): void {
    const keyN = lengthOf(key);
    const mkN = lengthOf(mk);
    const outN = lengthOf(out);
    if ((x !== 0 && x !== 8) || !fits(keyAt, KEY_BYTES, keyN) || !fits(mkAt, 16, mkN) || !fits(outAt, 64, outN)) {
      throw new RangeError(
        `AES key and IV: expected x 0 or 8, a key at ${keyAt} of ${keyN} bytes, a msg_key at ${mkAt} of ${mkN} and room for 64 bytes at ${outAt} of ${outN}`,
      );
    }
    this.#keyIvToOutput(key, keyAt, x, mk, mkAt);
    const mem = this.#mem;
    const output = this.#output;
    for (let i = 0; i < 64; i++) out[outAt + i] = mem[output + i];
    mem.fill(0, this.#output, this.#output + 64);
  }

  /**
   * Stages INPUT for the core's sha256KeyIv and runs it: aes_key ‖ aes_iv left in OUTPUT[0, 64).
   * Ranges are checked by the callers.
   */
  #keyIvToOutput(key: Uint8Array, keyAt: number, x: number, mk: Uint8Array, mkAt: number): void {
    // Element reads of a genuine Uint8Array (checked by the callers) run no caller code, and loops
    // over these 16 and 36 bytes measured faster than making views to copy them with `set`.
    const mem = this.#mem;
    const input = this.#input;
    // INPUT + 0: msg_key ‖ substr(auth_key, x, 36); INPUT + 64: substr(auth_key, 40 + x, 36) ‖ msg_key.
    for (let i = 0; i < 16; i++) {
      const b = mk[mkAt + i];
      mem[input + i] = b;
      mem[input + 100 + i] = b;
    }
    const a = keyAt + x;
    for (let i = 0; i < 36; i++) {
      mem[input + 16 + i] = key[a + i];
      mem[input + 64 + i] = key[a + 40 + i];
    }
    this.#core.sha256KeyIv(); // zeroes INPUT[0, 128), its digests and the hash state
  }

  /**
   * The AES key schedule of MTProto's aes_key ‖ aes_iv for this msg_key (`#keyIvToOutput`): the
   * 64 bytes are moved from OUTPUT to the AES key area and expanded there (the core zeroes the key
   * bytes it read; the IV stays as the chain), so no derived byte reaches JavaScript.
   */
  #aesKeyOfMessage(key: Uint8Array, keyAt: number, x: number, mk: Uint8Array, mkAt: number, decrypt: boolean): void {
    const mem = this.#mem;
    const output = this.#output;
    this.#keyIvToOutput(key, keyAt, x, mk, mkAt);
    mem.copyWithin(this.#aesKey, output, output + 64);
    mem.fill(0, output, output + 64);
    this.#core.aesSetKey(decrypt ? 1 : 0);
  }

  /**
   * msg_key_large = SHA256(substr(auth_key, 88 + x, 32) ‖ the `len` bytes staged in the AES data
   * area) into OUTPUT; the INPUT it staged is cleared by the core.
   */
  #msgKeyOfArea(key: Uint8Array, keyAt: number, x: number, len: number): void {
    const mem = this.#mem;
    const input = this.#input;
    const k = keyAt + 88 + x;
    for (let i = 0; i < 32; i++) mem[input + i] = key[k + i];
    mem.copyWithin(input + 32, this.#aesData, this.#aesData + len);
    this.#core.sha256Digest(32 + len); // clears the input it read
  }

  /**
   * MTProto 2.0's AES step (https://core.telegram.org/mtproto/description) with the key and IV
   * never leaving the core: aes_key ‖ aes_iv for the msg_key at `mk[mkAt, mkAt + 16)` and the
   * auth key at `key[keyAt, keyAt + 256)` (x = `x`, 0 or 8) are derived in OUTPUT, moved to the
   * AES key area inside the core's memory, and `src[srcAt, srcAt + len)` is IGE-encrypted or
   * decrypted into `out` at `outAt` (in chunks of the AES data area). One copy in, one out, no derived byte in a JavaScript array;
   * OUTPUT, the key area, the round keys and the staged data are zeroed before it returns.
   * @throws TypeError if an array is not a genuine Uint8Array on an attached buffer
   * @throws RangeError if a range does not lie inside its array, `x` is not 0 or 8, or `len` is
   * not a multiple of 16
   */
  messageAes(
    key: Uint8Array,
    keyAt: number,
    x: number,
    mk: Uint8Array,
    mkAt: number,
    src: Uint8Array,
    srcAt: number,
    len: number,
    decrypt: boolean,
    out: Uint8Array,
    outAt: number,
  ): void {
    const keyN = lengthOf(key);
    const mkN = lengthOf(mk);
    const srcN = lengthOf(src);
    const outN = lengthOf(out);
    if (
      (x !== 0 && x !== 8) ||
      !fits(keyAt, KEY_BYTES, keyN) ||
      !fits(mkAt, 16, mkN) ||
      !isCount(len) ||
      len % AES_BLOCK_BYTES !== 0 ||
      !fits(srcAt, len, srcN) ||
      !fits(outAt, len, outN)
    ) {
      throw new RangeError(
        `MTProto AES step: expected x 0 or 8, a key at ${keyAt} of ${keyN} bytes, a msg_key at ${mkAt} of ${mkN} and whole blocks, ${len} from ${srcAt} of ${srcN} to ${outAt} of ${outN}`,
      );
    }
    const mem = this.#mem;
    const core = this.#core;
    const area = this.#aesData;
    try {
      this.#aesKeyOfMessage(key, keyAt, x, mk, mkAt, decrypt);
      const from = plainBytes(src, srcN);
      const to = plainBytes(out, outN);
      // Chunks of the AES data area; the core keeps the IGE chain from one to the next.
      const step = this.#aesDataBytes;
      for (let done = 0; done < len; done += step) {
        const n = Math.min(step, len - done);
        mem.set(from.subarray(srcAt + done, srcAt + done + n), area);
        if (decrypt) core.aesIgeDecrypt(n);
        else core.aesIgeEncrypt(n);
        to.set(mem.subarray(area, area + n), outAt + done);
      }
    } finally {
      core.aesWipe(Math.min(len, this.#aesDataBytes));
    }
  }

  /**
   * MTProto 2.0 decryption of a short packet (https://core.telegram.org/mtproto/description and
   * security_guidelines) wholly in the core's memory: aes_key and aes_iv from the packet's
   * msg_key (bytes 8..24), AES-256-IGE of its `n - 24` encrypted bytes, then msg_key recomputed
   * over substr(auth_key, 88 + x, 32) ‖ plaintext from the AES area (no plaintext copy in
   * JavaScript), compared in constant time, and message_data_length and the padding checked, all
   * before the one outcome is acted on. Needs 32 + n - 24 bytes within INPUT (see `openFits`).
   * Everything staged or derived is zeroed before it returns.
   * @returns the data (salt to the end of message_data) as a new array, or null if rejected
   * @throws TypeError if an array is not a genuine Uint8Array on an attached buffer
   * @throws RangeError if the key range, `x` or the packet's length is out of range
   */
  openMessage(key: Uint8Array, keyAt: number, x: number, packet: Uint8Array): Uint8Array | null {
    const keyN = lengthOf(key);
    const n = lengthOf(packet);
    const len = n - 24;
    if ((x !== 0 && x !== 8) || !fits(keyAt, KEY_BYTES, keyN) || len < 48 || len % AES_BLOCK_BYTES !== 0 || !this.openFits(len)) {
      throw new RangeError(
        `MTProto decryption in the core: expected x 0 or 8, a key at ${keyAt} of ${keyN} bytes and a packet of 72 to ${this.#openMax() + 24} bytes, got ${n}`,
      );
    }
    const src = plainBytes(packet, n);
    const mem = this.#mem;
    const core = this.#core;
    const output = this.#output;
    const area = this.#aesData;
    try {
      this.#aesKeyOfMessage(key, keyAt, x, src, 8, true);
      mem.set(src.subarray(24, n), area);
      core.aesIgeDecrypt(len);
      // msg_key_large over the plaintext and padding, where AES left them.
      this.#msgKeyOfArea(key, keyAt, x, len);
      let diff = 0;
      for (let i = 0; i < 16; i++) diff |= mem[output + 8 + i] ^ src[8 + i];
      mem.fill(0, output, output + SHA256_BYTES);
      const dataLen = (mem[area + 28] | (mem[area + 29] << 8) | (mem[area + 30] << 16) | (mem[area + 31] << 24)) >>> 0;
      const padding = len - 32 - dataLen;
      const ok = (diff === 0 ? 1 : 0) & (dataLen % 4 === 0 ? 1 : 0) & (padding >= 12 ? 1 : 0) & (padding <= 1024 ? 1 : 0);
      if (ok !== 1) return null;
      return mem.slice(area, area + 32 + dataLen);
    } finally {
      core.aesWipe(len);
    }
  }

  /**
   * MTProto 2.0 encryption of a short message (https://core.telegram.org/mtproto/description)
   * wholly in the core's memory: `data[0, n)` then `pad[padAt, padAt + p)` are staged once; msg_key
   * of substr(auth_key, 88 + x, 32) ‖ data ‖ padding, then aes_key and aes_iv from it, then
   * AES-256-IGE; msg_key is written to `packet[8, 24)` and the ciphertext to `packet[24, 24 + n +
   * p)`. Needs 32 + n + p bytes within INPUT (see `openFits`). Everything staged or derived is
   * zeroed before it returns.
   * @throws TypeError if an array is not a genuine Uint8Array on an attached buffer
   * @throws RangeError if a range, `x` or the length n + p is out of range
   */
  sealMessage(key: Uint8Array, keyAt: number, x: number, data: Uint8Array, n: number, pad: Uint8Array, padAt: number, p: number, packet: Uint8Array): void {
    const keyN = lengthOf(key);
    const dataN = lengthOf(data);
    const padN = lengthOf(pad);
    const packetN = lengthOf(packet);
    const len = n + p;
    if (
      (x !== 0 && x !== 8) ||
      !fits(keyAt, KEY_BYTES, keyN) ||
      !isCount(n) ||
      !isCount(p) ||
      n > dataN ||
      !fits(padAt, p, padN) ||
      len % AES_BLOCK_BYTES !== 0 ||
      !this.openFits(len) ||
      !fits(24, len, packetN)
    ) {
      throw new RangeError(
        `MTProto encryption in the core: expected x 0 or 8, a key at ${keyAt} of ${keyN} bytes and whole blocks up to ${this.#openMax()} bytes, ${n} of ${dataN} and ${p} from ${padAt} of ${padN} into a packet of ${packetN}`,
      );
    }
    const out = plainBytes(packet, packetN);
    const mem = this.#mem;
    const core = this.#core;
    const output = this.#output;
    const area = this.#aesData;
    try {
      mem.set(plainBytes(data, dataN).subarray(0, n), area);
      mem.set(plainBytes(pad, padN).subarray(padAt, padAt + p), area + n);
      this.#msgKeyOfArea(key, keyAt, x, len);
      for (let i = 0; i < 16; i++) out[8 + i] = mem[output + 8 + i];
      mem.fill(0, output, output + SHA256_BYTES);
      this.#aesKeyOfMessage(key, keyAt, x, out, 8, false);
      core.aesIgeEncrypt(len);
      out.set(mem.subarray(area, area + len), 24);
    } finally {
      core.aesWipe(len);
    }
  }

  /** Whether `openMessage` takes an encrypted part of `len` bytes: it and 32 key bytes fit INPUT. */
  openFits(len: number): boolean {
    return len <= this.#openMax();
  }

  #openMax(): number {
    return Math.min(this.#inputBytes - 32, this.#aesDataBytes);
  }

  /** Feeds `src[at, at + len)` to the SHA-256 state in INPUT-sized chunks, then zeroes INPUT. */
  #feed256(src: Uint8Array, at: number, len: number): void {
    const step = this.#inputBytes;
    for (let done = 0; done < len; done += step) {
      const n = Math.min(step, len - done);
      this.#mem.set(src.subarray(at + done, at + done + n), this.#input);
      this.#core.sha256Update(n);
    }
    this.#core.wipe(Math.min(step, len));
  }

  /**
   * SHA-1 of `data` as a new 20-byte array.
   * @throws TypeError if `data` is not a genuine Uint8Array on an attached buffer
   */
  sha1(data: Uint8Array): Uint8Array {
    const core = this.#core;
    const n = lengthOf(data);
    if (n === KEY_BYTES) {
      // The length of an auth key: its padding block is precomputed in the fused entry.
      this.#mem.set(data, this.#input); // the intrinsic length, n: inside INPUT
      core.sha1AuthKeys(1); // clears the key bytes it read
    } else if (n <= this.#inputBytes) {
      this.#evict(); // the one-shot digest uses the streaming state
      if (n !== 0) this.#mem.set(data, this.#input);
      core.sha1Digest(n); // clears the input it read
    } else {
      this.#evict();
      core.sha1Init();
      this.#feed(data, n);
      core.sha1Final();
    }
    return this.#outputDigest.slice();
  }

  /**
   * Starts the streamed message of `stream`. Its state stays in the core until another stream or
   * a one-shot hash needs the core; only then is it saved to `stream.saved` (allocated on first
   * need), so a run of updates to one stream costs no state copies.
   */
  streamInit(stream: Stream): void {
    this.#evict();
    this.#core.sha1Init();
    stream.saved = null;
    this.#resident = stream;
  }

  /**
   * Adds `data` to the streamed message of `stream`.
   * @throws TypeError if `data` is not a genuine Uint8Array on an attached buffer
   */
  streamUpdate(stream: Stream, data: Uint8Array): void {
    const n = lengthOf(data);
    this.#enter(stream);
    this.#feed(data, n);
  }

  /** Finishes the streamed message of `stream`; returns its 20-byte digest. Clears the state. */
  streamFinal(stream: Stream): Uint8Array {
    this.#enter(stream);
    this.#core.sha1Final();
    this.#mem.fill(0, this.#state, this.#state + this.stateBytes);
    this.#resident = null;
    stream.saved?.fill(0);
    stream.saved = null;
    return this.#outputDigest.slice();
  }

  /** Makes `stream` the one in the core, saving the one there before. */
  #enter(stream: Stream): void {
    if (this.#resident === stream) return;
    const saved = stream.saved;
    // A stream out of the core always has its state saved (see #evict); anything else is a bug.
    if (saved === null || saved.length !== this.stateBytes) throw new RangeError('SHA-1 stream: expected a saved state, got none (internal error)');
    this.#evict();
    this.#mem.set(saved, this.#state);
    this.#resident = stream;
  }

  /** Saves the stream in the core (if any) and clears the core's copy. */
  #evict(): void {
    const resident = this.#resident;
    if (resident === null) return;
    (resident.saved ??= new Uint8Array(this.stateBytes)).set(this.#mem.subarray(this.#state, this.#state + this.stateBytes));
    this.#mem.fill(0, this.#state, this.#state + this.stateBytes);
    this.#resident = null;
  }

  /** Feeds the `n` bytes of `data` (its intrinsic length) to the streaming state, INPUT-sized chunk by chunk. */
  #feed(data: Uint8Array, n: number): void {
    const step = this.#inputBytes;
    if (n <= step) {
      if (n !== 0) this.#mem.set(data, this.#input);
      this.#core.sha1Update(n);
      this.#core.wipe(n);
      return;
    }
    // Chunks are cut from a view of our own: the caller's class never gets a say (see validate.ts).
    const src = plainBytes(data, n);
    for (let at = 0; at < n; at += step) {
      const len = Math.min(step, n - at);
      this.#mem.set(src.subarray(at, at + len), this.#input);
      this.#core.sha1Update(len);
    }
    this.#core.wipe(step);
  }

  /**
   * SHA-1 of the n 256-byte keys back to back in `keys`: n digests back to back, a new array.
   * @throws TypeError if `keys` is not a genuine Uint8Array on an attached buffer
   * @throws RangeError if its length is not a multiple of 256
   */
  sha1AuthKeys(keys: Uint8Array): Uint8Array {
    const len = lengthOf(keys);
    if (len % KEY_BYTES !== 0) throw new RangeError(`SHA-1 of keys: expected a multiple of ${KEY_BYTES} bytes, got ${len}`);
    const n = len / KEY_BYTES;
    if (n > this.#keysPerCall) {
      const out = new Uint8Array(n * DIGEST_BYTES);
      this.hashKeysInto(keys, 0, n, out, 0);
      return out;
    }
    if (n !== 0) this.#mem.set(keys, this.#input); // at most KEYS_PER_CALL keys: inside INPUT
    this.#core.sha1AuthKeys(n); // clears the key bytes it read
    return this.#mem.slice(this.#output, this.#output + n * DIGEST_BYTES);
  }

  /**
   * Hashes `count` 256-byte keys stored back to back in `keys` from byte `keysAt`, writing the
   * 20-byte digests back to back into `out` from byte `outAt`.
   * @throws TypeError if `keys` or `out` is not a genuine Uint8Array on an attached buffer
   * @throws RangeError if the keys or the digests do not fit their arrays
   */
  hashKeysInto(keys: Uint8Array, keysAt: number, count: number, out: Uint8Array, outAt: number): void {
    const keysLen = lengthOf(keys);
    const outLen = lengthOf(out);
    if (!isCount(count) || !fits(keysAt, count * KEY_BYTES, keysLen) || !fits(outAt, count * DIGEST_BYTES, outLen)) {
      throw new RangeError(`SHA-1 of keys: expected ${count} keys from byte ${keysAt} of ${keysLen} and their digests from byte ${outAt} of ${outLen}`);
    }
    const src = plainBytes(keys, keysLen);
    const dst = plainBytes(out, outLen);
    const mem = this.#mem;
    const per = this.#keysPerCall;
    for (let done = 0; done < count; done += per) {
      const n = Math.min(per, count - done);
      const from = keysAt + done * KEY_BYTES;
      mem.set(src.subarray(from, from + n * KEY_BYTES), this.#input);
      this.#core.sha1AuthKeys(n); // clears the key bytes it read
      dst.set(mem.subarray(this.#output, this.#output + n * DIGEST_BYTES), outAt + done * DIGEST_BYTES);
    }
  }

  /**
   * Hashes `count` records (256 key bytes, then 20 bytes for the digest) stored back to back in
   * `records` from byte `at`, writing each digest into its own record: one copy in and one out
   * per RECORDS_PER_CALL records, four keys per pass in the SIMD core.
   * @throws RangeError if the records do not fit `records`
   */
  hashRecords(records: Uint8Array, at: number, count: number): void {
    const len = lengthOf(records);
    if (!isCount(count) || !fits(at, count * RECORD_BYTES, len)) {
      throw new RangeError(`key records: expected ${count} records from byte ${at} of ${len}`);
    }
    const data = plainBytes(records, len);
    const mem = this.#mem;
    const per = this.#recordsPerCall;
    for (let done = 0; done < count; done += per) {
      const bytes = Math.min(per, count - done) * RECORD_BYTES;
      const from = at + done * RECORD_BYTES;
      mem.set(data.subarray(from, from + bytes), this.#input);
      this.#core.sha1KeyRecords(bytes / RECORD_BYTES);
      data.set(mem.subarray(this.#input, this.#input + bytes), from);
      this.#core.wipe(bytes);
    }
  }

  /**
   * Writes the record of the 256-byte key `key` into `out` at `at`: its bytes, then its SHA-1
   * digest. The single-key path: one copy in, one call, one copy out, no array made.
   * @throws TypeError if `key` is not a genuine Uint8Array on an attached buffer
   * @throws RangeError if `key` is not 256 bytes or the record does not fit `out`
   */
  keyRecord(key: Uint8Array, out: Uint8Array, at: number): void {
    const n = lengthOf(key);
    if (n !== KEY_BYTES) throw new RangeError(`key record: expected ${KEY_BYTES} key bytes, got ${n}`);
    if (!fits(at, RECORD_BYTES, lengthOf(out))) throw new RangeError(`key record: expected room for ${RECORD_BYTES} bytes at ${at}`);
    this.#mem.set(key, this.#input); // the intrinsic length, 256
    this.#core.sha1KeyRecords(1);
    out.set(this.#inputRecord, at);
    this.#core.wipe(RECORD_BYTES);
  }

  /**
   * Writes into `out` from byte `at` the records of `values[from, from + count)` (count at most
   * RECORDS_PER_CALL), hashed in one call: each value a 256-byte Uint8Array or a bigint in
   * [0, 2**2048), checked again here. On any error nothing stays staged and `out` is unchanged.
   * @throws TypeError / RangeError for a value that is neither (an internal error: callers check
   *   first), or if the records do not fit `out`
   */
  recordsInto(values: ReadonlyArray<Uint8Array | bigint>, from: number, count: number, out: Uint8Array, at: number): void {
    if (!isCount(count) || count > this.#recordsPerCall || !fits(from, count, values.length) || !fits(at, count * RECORD_BYTES, lengthOf(out))) {
      throw new RangeError(
        `key records: expected at most ${this.#recordsPerCall} values from ${from} of ${values.length} and room for them at ${at}, got ${count}`,
      );
    }
    const mem = this.#mem;
    const input = this.#input;
    const bytes = count * RECORD_BYTES;
    try {
      // Bigints first, last to first: each is decoded at the start of INPUT (where hexToKey writes)
      // and moved to its slot, so the first slot's own key is the last thing written there.
      for (let j = count - 1; j >= 0; j--) {
        const v = values[from + j];
        if (typeof v !== 'bigint') continue;
        this.#decodeBigint(v);
        if (j !== 0) mem.copyWithin(input + j * RECORD_BYTES, input, input + KEY_BYTES);
      }
      for (let j = 0; j < count; j++) {
        const v = values[from + j];
        if (typeof v === 'bigint') continue;
        const n = lengthOf(v);
        if (n !== KEY_BYTES) throw new RangeError(`key records: expected ${KEY_BYTES} key bytes, got ${n}`);
        mem.set(v, input + j * RECORD_BYTES); // the intrinsic length, 256: inside slot j
      }
    } catch (e) {
      this.#core.wipe(bytes);
      throw e;
    }
    this.#core.sha1KeyRecords(count);
    out.set(mem.subarray(input, input + bytes), at);
    this.#core.wipe(bytes);
  }

  /**
   * Writes the 256-byte big-endian form of `value` (in [0, 2**2048)) into `out` at `at` and its
   * SHA-1 digest right after it (at `at + 256`). Route (bench/serialize.bench.ts measures the
   * others): V8's `toString(16)`, copied as ASCII into wasm by `encodeInto`, decoded there.
   * @throws TypeError / RangeError if `value` is not a bigint in [0, 2**2048) or the record does not fit `out`
   */
  keyFromBigint(value: bigint, out: Uint8Array, at: number): void {
    if (!fits(at, RECORD_BYTES, lengthOf(out))) throw new RangeError(`key record: expected room for ${RECORD_BYTES} bytes at ${at}`);
    this.#decodeBigint(value);
    out.set(this.#inputKey, at);
    this.#core.sha1AuthKeys(1); // clears the key bytes
    out.set(this.#outputDigest, at + KEY_BYTES);
  }

  /**
   * Writes the 256-byte big-endian form of `value` (in [0, 2**2048)) into `out` at `at`, unhashed.
   * @throws TypeError / RangeError if `value` is not a bigint in [0, 2**2048) or the key does not fit `out`
   */
  bigintToKey(value: bigint, out: Uint8Array, at: number): void {
    if (!fits(at, KEY_BYTES, lengthOf(out))) throw new RangeError(`key bytes: expected room for ${KEY_BYTES} bytes at ${at}`);
    this.#decodeBigint(value);
    out.set(this.#inputKey, at);
    this.#core.wipe(KEY_BYTES);
  }

  /**
   * Leaves the 256-byte big-endian form of `value` at INPUT: see keyFromBigint for the route. The
   * digits are bounded before anything is staged: at most 512, no sign.
   */
  #decodeBigint(value: bigint): void {
    if (typeof value !== 'bigint') throw new TypeError(`key value: expected a bigint, got ${describe(value)}`);
    if (value < 0n || value >= KEY_LIMIT)
      throw new RangeError(`key value: expected a bigint in [0, 2**2048), got ${value < 0n ? 'a negative value' : 'a larger one'}`);
    const digits = value.toString(16);
    const len = digits.length;
    if (len > HEX_DIGITS) throw new RangeError(`key value: expected at most ${HEX_DIGITS} hex digits, got ${len}`);
    const { written } = encoder.encodeInto(digits, this.#hexView);
    if (written !== len) {
      this.#core.wipe(0); // clears the digits written
      throw new RangeError(`key value: expected ${len} hex digits staged, got ${written} (internal error)`);
    }
    this.#core.hexToKey(len); // clears the digits it read
  }

  /**
   * The 256 big-endian bytes of `key` from `at`, as a bigint: hex digits made in wasm, parsed by V8.
   * @throws RangeError if the key does not fit `key`
   */
  keyToBigint(key: Uint8Array, at: number): bigint {
    const len = lengthOf(key);
    if (!fits(at, KEY_BYTES, len)) throw new RangeError(`key bytes: expected ${KEY_BYTES} bytes at ${at} of ${len}`);
    this.#inputKey.set(plainBytes(key, len).subarray(at, at + KEY_BYTES));
    this.#core.keyToHex(); // clears the key bytes
    const value = BigInt('0x' + decoder.decode(this.#hexView));
    this.#core.wipe(0); // clears the digits
    return value;
  }

  /**
   * AES-256-IGE of `data` with `key` (32 bytes) and `iv` (32 bytes: y0, then x0, OpenSSL's
   * AES_ige_encrypt convention), as a new array; `decrypt` picks the direction. The message goes
   * through the core's staging area in chunks of AES_DATA_BYTES with the chain kept in the core;
   * key, IV, round keys and every staged byte are zeroed before this returns, thrown or not.
   * @throws TypeError if `data`, `key` or `iv` is not a genuine Uint8Array on an attached buffer
   * @throws RangeError if `key` or `iv` is not 32 bytes or `data` is not a multiple of 16 bytes
   */
  aes256Ige(data: Uint8Array, key: Uint8Array, iv: Uint8Array, decrypt: boolean): Uint8Array {
    const n = lengthOf(data);
    const keyLen = lengthOf(key);
    const ivLen = lengthOf(iv);
    if (keyLen !== AES_KEY_BYTES) throw new RangeError(`AES-256 key: expected ${AES_KEY_BYTES} bytes, got ${keyLen}`);
    if (ivLen !== AES_IV_BYTES) throw new RangeError(`AES-IGE iv: expected ${AES_IV_BYTES} bytes, got ${ivLen}`);
    if (n % AES_BLOCK_BYTES !== 0) throw new RangeError(`AES-IGE data: expected a multiple of ${AES_BLOCK_BYTES} bytes, got ${n}`);
    const out = new Uint8Array(n);
    const mem = this.#mem;
    const core = this.#core;
    const area = this.#aesData;
    const step = this.#aesDataBytes;
    // Views of our own (validate.ts): the caller's class never gets a say in subarray or set.
    const src = plainBytes(data, n);
    try {
      mem.set(key, this.#aesKey); // the intrinsic length, 32
      mem.set(iv, this.#aesKey + AES_KEY_BYTES); // 32
      core.aesSetKey(decrypt ? 1 : 0); // zeroes the key bytes it read
      for (let at = 0; at < n; at += step) {
        const len = Math.min(step, n - at);
        mem.set(src.subarray(at, at + len), area);
        if (decrypt) core.aesIgeDecrypt(len);
        else core.aesIgeEncrypt(len);
        out.set(mem.subarray(area, area + len), at);
      }
    } finally {
      core.aesWipe(Math.min(step, n));
    }
    return out;
  }

  /**
   * Copies of the AES staging areas (data, key and IV, round keys): for the tests that check a
   * call leaves nothing behind. Not for use in the library.
   * @internal
   */
  aesResidueForTest(): Uint8Array {
    const parts = [
      this.#mem.subarray(this.#aesData, this.#aesData + this.#aesDataBytes),
      this.#mem.subarray(this.#aesKey, this.#aesKey + AES_KEY_BYTES + AES_IV_BYTES),
      this.#mem.subarray(this.#aesRoundKeys, this.#aesRoundKeys + this.#aesRoundKeyBytes),
    ];
    const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

/** The intrinsic length of a genuine Uint8Array, or a TypeError (validate.ts's checkBytes). */
function lengthOf(data: unknown): number {
  return checkBytes(data, 'bytes');
}

/** Whether `n` is a whole count. */
function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** Whether `size` bytes from `at` lie inside an array of `len` bytes, `at` a whole offset. */
function fits(at: number, size: number, len: number): boolean {
  return Number.isSafeInteger(at) && at >= 0 && at + size <= len;
}

/** An instantiated core: what an Engine is made from once it is compiled. */
export type Core = WebAssembly.Instance;

/** Whether this runtime accepts the module `bytes` (for the SIMD core: whether it has WebAssembly SIMD). */
export function validates(bytes: Uint8Array<ArrayBuffer>): boolean {
  return WebAssembly.validate(bytes);
}

/**
 * Compiles and instantiates the core `bytes` synchronously.
 * @throws RangeError (or whatever else the runtime throws) if the runtime refuses, as some
 *   browsers do on their main thread for modules over 4 KB
 */
export function instantiateSync(bytes: Uint8Array<ArrayBuffer>): Core {
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
}

/**
 * Compiles and instantiates the core `bytes` asynchronously (`WebAssembly.instantiate`, which
 * browsers allow on their main thread whatever the module's size).
 * @throws Error (as a rejection) if the runtime cannot compile or instantiate it
 */
export function instantiate(bytes: Uint8Array<ArrayBuffer>): Promise<Core> {
  return WebAssembly.instantiate(bytes, {}).then((result) => result.instance);
}
