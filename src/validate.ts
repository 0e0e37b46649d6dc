/**
 * Argument checks shared by the API: TypeError for a wrong type, RangeError for a wrong size.
 *
 * Byte arrays are judged by what they are, not by what they say: the length comes from the
 * intrinsic `%TypedArray%.prototype` getter (an own or subclass `length` property is never read),
 * and only a genuine Uint8Array (Buffer included) on an attached buffer passes. A Proxy of one,
 * which `instanceof` accepts, is refused: its element reads could answer differently each time.
 */

const TYPED_ARRAY_PROTO = Object.getPrototypeOf(Uint8Array.prototype) as object;
const intrinsicGetter = (name: PropertyKey) => Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTO, name)!.get!;
const lengthGetter = intrinsicGetter('length') as (this: ArrayBufferView) => number;
const tagGetter = intrinsicGetter(Symbol.toStringTag) as (this: unknown) => string | undefined;
const bufferGetter = intrinsicGetter('buffer') as (this: ArrayBufferView) => ArrayBufferLike;

/** Whether `value` is a genuine Uint8Array (a Buffer or subclass is one), never a Proxy of one. */
export function isUint8Array(value: unknown): value is Uint8Array {
  return tagGetter.call(value) === 'Uint8Array';
}

/**
 * The element count of `value` if it is a genuine Uint8Array on an attached buffer, read by the
 * intrinsic getter; -1 for anything else (other types, Proxies, detached buffers).
 */
export function bytesLength(value: unknown): number {
  if (tagGetter.call(value) !== 'Uint8Array') return -1;
  const n = lengthGetter.call(value as Uint8Array);
  // A detached buffer reads as length 0; only then is the (rarer, slower) check worth making.
  if (n === 0 && isDetached(value as Uint8Array)) return -1;
  return n;
}

function isDetached(view: Uint8Array): boolean {
  try {
    new Uint8Array(bufferGetter.call(view), 0, 0);
    return false;
  } catch {
    return true;
  }
}

/** A short description of what arrived, never its contents (it may be key material). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  const tag = tagGetter.call(value);
  if (tag === 'Uint8Array') {
    const n = lengthGetter.call(value as Uint8Array);
    return n === 0 && isDetached(value as Uint8Array) ? 'a Uint8Array on a detached buffer' : `${n} bytes`;
  }
  if (tag !== undefined) return tag;
  if (typeof value !== 'object' && typeof value !== 'function') return typeof value;
  // Only the object's constructor name is read, and a hostile object (a Proxy, say) may throw on it.
  try {
    if (value instanceof Uint8Array) return 'a Proxy or other object posing as a Uint8Array';
    if (value instanceof ArrayBuffer) return 'ArrayBuffer';
    if (Array.isArray(value)) return 'Array';
    if (typeof value === 'function') return 'function';
    const name = (value as object).constructor?.name;
    return typeof name === 'string' && name !== '' ? name : 'object';
  } catch {
    return 'an object that throws when inspected';
  }
}

/**
 * Checks that `value` is a genuine Uint8Array (a Buffer is one), optionally of an exact length;
 * returns its length, read once from the intrinsic getter (see the file's comment).
 */
export function checkBytes(value: unknown, what: string, length?: number): number {
  const n = bytesLength(value);
  if (n < 0) {
    throw new TypeError(`${what}: expected Uint8Array${length === undefined ? '' : ` of ${length} bytes`}, got ${describe(value)}`);
  }
  if (length !== undefined && n !== length) {
    throw new RangeError(`${what}: expected ${length} bytes, got ${n}`);
  }
  return n;
}
