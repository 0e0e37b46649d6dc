/**
 * The single boundary between TypeScript and the WebAssembly core: the typed list of its
 * exports and the only code that reads or writes its linear memory. Everything crossing it is
 * copied in, computed, and copied out; no view into wasm memory ever leaves this module.
 * Inputs are validated by the callers in src/ before they get here.
 * @internal
 */
import { SCALAR_WASM, SIMD_WASM } from './generated/wasm-bytes.js';

/** Every export of `assembly/scalar.ts` and `assembly/simd.ts`. */
interface CoreExports {
  readonly memory: WebAssembly.Memory;
  readonly SIMD: WebAssembly.Global;
  readonly INPUT_BYTES: WebAssembly.Global;
  readonly KEYS_PER_CALL: WebAssembly.Global;
  readonly STATE_BYTES: WebAssembly.Global;
  inputPtr(): number;
  outputPtr(): number;
  statePtr(): number;
  hexPtr(): number;
  sha1Init(): void;
  sha1Update(len: number): void;
  sha1Final(): void;
  sha1Digest(len: number): void;
  readonly RECORDS_PER_CALL: WebAssembly.Global;
  sha1AuthKeys(n: number): void;
  sha1KeyRecords(n: number): void;
  hexToKey(len: number): void;
  keyToHex(): void;
  wipe(len: number): void;
}

/** Bytes of an auth key. */
export const KEY_BYTES = 256;
/** Bytes of a SHA-1 digest. */
export const DIGEST_BYTES = 20;
/** Bytes of a key record: the key, then its digest (see records.ts). */
export const RECORD_BYTES = KEY_BYTES + DIGEST_BYTES;

const encoder = new TextEncoder();
// Only ASCII hex digits are ever decoded, which every single-byte decoder maps alike.
const decoder = new TextDecoder('latin1');

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
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
  readonly #x: CoreExports;
  // The core has no allocator, so its memory never grows and this view stays valid.
  readonly #mem: Uint8Array;
  readonly #input: number;
  readonly #output: number;
  readonly #state: number;
  // The 512 hex digits of a key, for the bigint routes.
  readonly #hexView: Uint8Array;
  readonly #inputBytes: number;
  readonly #keysPerCall: number;
  readonly #recordsPerCall: number;
  // The stream whose state lives in the core's state buffer right now, if any.
  #resident: Stream | null = null;

  constructor(wasm: Uint8Array<ArrayBuffer>) {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm), {});
    this.#x = instance.exports as unknown as CoreExports;
    this.#mem = new Uint8Array(this.#x.memory.buffer);
    this.#input = this.#x.inputPtr();
    this.#output = this.#x.outputPtr();
    this.#state = this.#x.statePtr();
    const hex = this.#x.hexPtr();
    this.#hexView = this.#mem.subarray(hex, hex + 2 * KEY_BYTES);
    this.#inputBytes = this.#x.INPUT_BYTES.value as number;
    this.#keysPerCall = this.#x.KEYS_PER_CALL.value as number;
    this.#recordsPerCall = this.#x.RECORDS_PER_CALL.value as number;
    this.stateBytes = this.#x.STATE_BYTES.value as number;
    this.simd = (this.#x.SIMD.value as number) !== 0;
  }

  /** SHA-1 of `data` as a new 20-byte array. */
  sha1(data: Uint8Array): Uint8Array {
    const x = this.#x;
    if (data.length === KEY_BYTES) {
      // The length of an auth key: its padding block is precomputed in the fused entry.
      this.#mem.set(data, this.#input);
      x.sha1AuthKeys(1); // clears the key bytes it read
    } else if (data.length <= this.#inputBytes) {
      this.#evict(); // the one-shot digest uses the streaming state
      this.#mem.set(data, this.#input);
      x.sha1Digest(data.length); // clears the input it read
    } else {
      this.#evict();
      x.sha1Init();
      this.#feed(data);
      x.sha1Final();
    }
    return this.#mem.slice(this.#output, this.#output + DIGEST_BYTES);
  }

  /**
   * Starts the streamed message of `stream`. Its state stays in the core until another stream or
   * a one-shot hash needs the core; only then is it saved to `stream.saved` (allocated on first
   * need), so a run of updates to one stream costs no state copies.
   */
  streamInit(stream: Stream): void {
    this.#evict();
    this.#x.sha1Init();
    stream.saved = null;
    this.#resident = stream;
  }

  /** Adds `data` to the streamed message of `stream`. */
  streamUpdate(stream: Stream, data: Uint8Array): void {
    this.#enter(stream);
    this.#feed(data);
  }

  /** Finishes the streamed message of `stream`; returns its 20-byte digest. Clears the state. */
  streamFinal(stream: Stream): Uint8Array {
    this.#enter(stream);
    this.#x.sha1Final();
    this.#mem.fill(0, this.#state, this.#state + this.stateBytes);
    this.#resident = null;
    stream.saved?.fill(0);
    stream.saved = null;
    return this.#mem.slice(this.#output, this.#output + DIGEST_BYTES);
  }

  /** Makes `stream` the one in the core, saving the one there before. */
  #enter(stream: Stream): void {
    if (this.#resident === stream) return;
    this.#evict();
    this.#mem.set(stream.saved!, this.#state);
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

  #feed(data: Uint8Array): void {
    const step = this.#inputBytes;
    if (data.length <= step) {
      this.#mem.set(data, this.#input);
      this.#x.sha1Update(data.length);
      this.#wipeInput(data.length);
      return;
    }
    for (let at = 0; at < data.length; at += step) {
      const chunk = data.subarray(at, Math.min(at + step, data.length));
      this.#mem.set(chunk, this.#input);
      this.#x.sha1Update(chunk.length);
    }
    this.#wipeInput(Math.min(step, data.length));
  }

  /** SHA-1 of the n 256-byte keys back to back in `keys`: n digests back to back, a new array. */
  sha1AuthKeys(keys: Uint8Array): Uint8Array {
    const n = keys.length / KEY_BYTES;
    if (n > this.#keysPerCall) {
      const out = new Uint8Array(n * DIGEST_BYTES);
      this.hashKeysInto(keys, 0, n, out, 0);
      return out;
    }
    this.#mem.set(keys, this.#input);
    this.#x.sha1AuthKeys(n); // clears the key bytes it read
    return this.#mem.slice(this.#output, this.#output + n * DIGEST_BYTES);
  }

  /**
   * Hashes `count` 256-byte keys stored back to back in `keys` from byte `keysAt`, writing the
   * 20-byte digests back to back into `out` from byte `outAt`.
   */
  hashKeysInto(keys: Uint8Array, keysAt: number, count: number, out: Uint8Array, outAt: number): void {
    const mem = this.#mem;
    const per = this.#keysPerCall;
    for (let done = 0; done < count; done += per) {
      const n = Math.min(per, count - done);
      const from = keysAt + done * KEY_BYTES;
      mem.set(keys.subarray(from, from + n * KEY_BYTES), this.#input);
      this.#x.sha1AuthKeys(n); // clears the key bytes it read
      out.set(mem.subarray(this.#output, this.#output + n * DIGEST_BYTES), outAt + done * DIGEST_BYTES);
    }
  }

  /**
   * Hashes `count` records (256 key bytes, then 20 bytes for the digest) stored back to back in
   * `records` from byte `at`, writing each digest into its own record: one copy in and one out
   * per 256 records, four keys per pass in the SIMD core.
   */
  hashRecords(records: Uint8Array, at: number, count: number): void {
    const mem = this.#mem;
    const per = this.#recordsPerCall;
    for (let done = 0; done < count; done += per) {
      const bytes = Math.min(per, count - done) * RECORD_BYTES;
      const from = at + done * RECORD_BYTES;
      mem.set(records.subarray(from, from + bytes), this.#input);
      this.#x.sha1KeyRecords(bytes / RECORD_BYTES);
      records.set(mem.subarray(this.#input, this.#input + bytes), from);
      this.#wipeInput(bytes);
    }
  }

  /**
   * Writes the 256-byte big-endian form of `value` (in [0, 2**2048)) into `out` at `at` and its
   * SHA-1 digest right after it (at `at + 256`). Route (bench/serialize.bench.ts measures the
   * others): V8's `toString(16)`, copied as ASCII into wasm by `encodeInto`, decoded there.
   */
  keyFromBigint(value: bigint, out: Uint8Array, at: number): void {
    const mem = this.#mem;
    this.#decodeBigint(value);
    out.set(mem.subarray(this.#input, this.#input + KEY_BYTES), at);
    this.#x.sha1AuthKeys(1); // clears the key bytes
    out.set(mem.subarray(this.#output, this.#output + DIGEST_BYTES), at + KEY_BYTES);
  }

  /** Writes the 256-byte big-endian form of `value` (in [0, 2**2048)) into `out` at `at`, unhashed. */
  bigintToKey(value: bigint, out: Uint8Array, at: number): void {
    this.#decodeBigint(value);
    out.set(this.#mem.subarray(this.#input, this.#input + KEY_BYTES), at);
    this.#wipeInput(KEY_BYTES);
  }

  /** Leaves the 256-byte big-endian form of `value` at INPUT: see keyFromBigint for the route. */
  #decodeBigint(value: bigint): void {
    const digits = value.toString(16);
    encoder.encodeInto(digits, this.#hexView);
    this.#x.hexToKey(digits.length); // clears the digits it read
  }

  /** The 256 big-endian bytes of `key` from `at`, as a bigint: hex digits made in wasm, parsed by V8. */
  keyToBigint(key: Uint8Array, at: number): bigint {
    this.#mem.set(key.subarray(at, at + KEY_BYTES), this.#input);
    this.#x.keyToHex(); // clears the key bytes
    const value = BigInt('0x' + decoder.decode(this.#hexView));
    this.#x.wipe(0); // clears the digits
    return value;
  }

  #wipeInput(len: number): void {
    this.#x.wipe(len);
  }
}

let simdBytes: Uint8Array<ArrayBuffer> | undefined;
let scalarBytes: Uint8Array<ArrayBuffer> | undefined;

/** The SIMD core's bytes. */
export function simdWasm(): Uint8Array<ArrayBuffer> {
  return (simdBytes ??= decodeBase64(SIMD_WASM));
}

/** The scalar core's bytes. */
export function scalarWasm(): Uint8Array<ArrayBuffer> {
  return (scalarBytes ??= decodeBase64(SCALAR_WASM));
}

/** Whether this runtime accepts the SIMD core. */
export function simdSupported(): boolean {
  return WebAssembly.validate(simdWasm());
}

/** The engine every API call uses: the SIMD core where the runtime supports it, else scalar. */
export const engine: Engine = new Engine(simdSupported() ? simdWasm() : scalarWasm());
