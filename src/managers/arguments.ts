/**
 * Parsing of the arguments every manager takes (ids, keys, setKey options), so that each manager
 * checks them alike, before it changes anything or asks its store. Each caller value is read
 * once; see validate.ts for how byte arrays are judged.
 * @internal
 */
import { AuthKey } from '../core/auth-key.js';
import { type IdHalves, idHalvesOf, u32be } from '../core/ids.js';
import type { SetKeyOptions } from './protocol.js';
import { bytesLength, describe } from '../core/validate.js';

const U64_LIMIT = 1n << 64n;

/**
 * The id named by an argument of hasKey/getKey/delKey: an AuthKey (its id), a bigint id, or the 8
 * id bytes as they appear on the wire.
 * @param what the method name, for messages
 * @throws TypeError for a wrong type (a `number` is refused: it loses precision above 2**53)
 * @throws RangeError for a bigint outside [0, 2**64) or id bytes that are not 8
 */
export function parseId(value: unknown, what: string): IdHalves {
  if (typeof value === 'bigint') {
    if (value < 0n || value >= U64_LIMIT) {
      throw new RangeError(
        `${what}: expected an auth key id in [0, 2**64), got ${value < 0n ? 'a negative value' : `a value of ${value.toString(2).length} bits`}`,
      );
    }
    return idHalvesOf(value);
  }
  if (AuthKey.isAuthKey(value)) return AuthKey.idHalvesOf(value);
  const n = bytesLength(value);
  if (n >= 0) {
    if (n !== 8) throw new RangeError(`${what}: expected 8 auth key id bytes, got ${n}`);
    const bytes = value as Uint8Array;
    return { hi: u32be(bytes, 0), lo: u32be(bytes, 4) };
  }
  const expected = 'an AuthKey, a bigint id or 8 id bytes';
  if (typeof value === 'number') {
    throw new TypeError(
      `${what}: expected ${expected}, got a number, which loses precision above 2**53; pass a bigint (${Number.isInteger(value) ? `${value}n` : 'e.g. 123n'}) or the 8 id bytes`,
    );
  }
  throw new TypeError(`${what}: expected ${expected}, got ${describe(value)}`);
}

/**
 * The key argument of `setKey` as an AuthKey.
 * @throws TypeError / RangeError as `new AuthKey` does
 */
export function toAuthKey(value: unknown, what: string): AuthKey {
  if (AuthKey.isAuthKey(value)) return value;
  if (typeof value === 'bigint') return new AuthKey(value);
  throw new TypeError(`${what}: expected an AuthKey or a 2048-bit bigint, got ${describe(value)}`);
}

// The intrinsic Date getter: it reads the time slot of a genuine Date, whatever its class says, and
// refuses a Proxy of one (ECMA-262 §21.4.4.10, thisTimeValue).
const dateTime = Date.prototype.getTime;

/** The time of a genuine Date; `t` itself if it is not one, for the type check to refuse. */
function timeOf(t: object): unknown {
  try {
    return dateTime.call(t);
  } catch {
    return t;
  }
}

/**
 * The `expiresAt` of `setKey` options as epoch milliseconds, 0 for never. `options.expiresAt` is
 * read once.
 * @throws TypeError if options or expiresAt have a wrong type
 * @throws RangeError if expiresAt is not a finite positive time
 */
export function parseExpiresAt(options: unknown, what: string): number {
  if (options === undefined) return 0;
  if (options === null || typeof options !== 'object') throw new TypeError(`${what}: expected an options object, got ${describe(options)}`);
  const t = (options as SetKeyOptions).expiresAt;
  if (t === undefined) return 0;
  const ms = typeof t === 'object' && t !== null ? timeOf(t) : t;
  if (typeof ms !== 'number') throw new TypeError(`${what}: expected expiresAt as a Date or epoch milliseconds, got ${describe(t)}`);
  if (!Number.isFinite(ms) || ms <= 0) throw new RangeError(`${what}: expected expiresAt as a valid time after 1970, got ${String(ms)}`);
  return ms;
}

/**
 * The error for `peekKey(packet, offset)` arguments that failed the check every peekKey makes
 * inline (`n` is `bytesLength(packet)`): kept out of the per-packet path, which V8 then inlines.
 */
export function peekArgumentsError(packet: unknown, offset: unknown, n: number): TypeError | RangeError {
  if (n < 0) return new TypeError(`peekKey: expected a Uint8Array packet, got ${describe(packet)}`);
  if (typeof offset !== 'number') return new TypeError(`peekKey offset: expected a number, got ${describe(offset)}`);
  return new RangeError(`peekKey: expected 8 id bytes at offset ${offset}, got a packet of ${n} bytes`);
}
