/**
 * Argument checks shared by the API: TypeError for a wrong type, RangeError for a wrong size.
 *
 * Byte arrays are judged by what they are, not by what they say: the length comes from the
 * intrinsic `%TypedArray%.prototype` getter (an own or subclass `length` property is never read),
 * and only a genuine Uint8Array (Buffer included) on an attached, in-bounds buffer passes. A Proxy
 * of one, which `instanceof` accepts, is refused: its element reads could answer differently each
 * time. No method of the caller's array is ever called (a subclass may override `subarray`, `set`
 * or `slice`): code that needs a view makes its own with {@link plainBytes}.
 * See ECMA-262 §23.2.3 (%TypedArray%.prototype) for the getters used.
 */

const TYPED_ARRAY_PROTO = Object.getPrototypeOf(Uint8Array.prototype) as object;
const intrinsicGetter = (name: PropertyKey) => Object.getOwnPropertyDescriptor(TYPED_ARRAY_PROTO, name)!.get!;
const lengthGetter = intrinsicGetter('length') as (this: ArrayBufferView) => number;
const tagGetter = intrinsicGetter(Symbol.toStringTag) as (this: unknown) => string | undefined;
const bufferGetter = intrinsicGetter('buffer') as (this: ArrayBufferView) => ArrayBufferLike;
const byteOffsetGetter = intrinsicGetter('byteOffset') as (this: ArrayBufferView) => number;
// `set` of this empty array with a typed array source throws when the source's buffer is detached
// or the source is out of bounds of a shrunk resizable buffer (ECMA-262 SetTypedArrayFromTypedArray).
const EMPTY = new Uint8Array(0);

/**
 * The element count of `value` if it is a genuine Uint8Array on an attached buffer, read by the
 * intrinsic getter; -1 for anything else (other types, Proxies, detached or out-of-bounds views).
 * Nothing the caller defined runs.
 */
export function bytesLength(value: unknown): number {
  if (tagGetter.call(value) !== 'Uint8Array') return -1;
  const n = lengthGetter.call(value as Uint8Array);
  // A detached or out-of-bounds view reads as length 0; only then is the slower check worth making.
  if (n === 0 && !usable(value as Uint8Array)) return -1;
  return n;
}

function usable(view: Uint8Array): boolean {
  try {
    EMPTY.set(view);
    return true;
  } catch {
    return false;
  }
}

/**
 * A plain Uint8Array of our own over the same `n` bytes as `value` (a genuine Uint8Array whose
 * intrinsic length is `n`, see {@link bytesLength}), made from the intrinsic `buffer` and
 * `byteOffset` getters: its `subarray` and `set` are the built-in ones whatever `value`'s class is.
 * @throws RangeError if `n` is not `value`'s length (an internal error: the caller checks first)
 */
export function plainBytes(value: Uint8Array, n: number): Uint8Array {
  if (bytesLength(value) !== n) throw new RangeError(`byte view: expected ${n} bytes, got ${describe(value)}`);
  return new Uint8Array(bufferGetter.call(value), byteOffsetGetter.call(value), n);
}

/** A short description of what arrived, never its contents (it may be key material). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  const tag = tagGetter.call(value);
  if (tag === 'Uint8Array') {
    const n = lengthGetter.call(value as Uint8Array);
    return n === 0 && !usable(value as Uint8Array) ? 'a Uint8Array on a detached or out-of-bounds buffer' : `${n} bytes`;
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
 * @throws TypeError if `value` is not a genuine Uint8Array on an attached buffer
 * @throws RangeError if `length` is given and differs from the array's
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
