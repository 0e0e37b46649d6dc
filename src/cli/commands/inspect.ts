/**
 * `inspect <hex | ->`: what identifies an auth key (auth_key_id in its integer forms and wire
 * bytes, aux_hash), computed from the key; the key itself is never printed.
 * @internal
 */
import { AuthKey } from '../../index.js';
import type { CommandSpec, ParsedArgs } from '../args.js';
import { EXIT, UsageError } from '../exit.js';
import { type Output, table } from '../output.js';
import { OUTPUT_OPTIONS } from './common.js';

export const spec: CommandSpec = {
  name: 'inspect',
  summary: 'the id (both integer forms, wire bytes) and aux_hash of an auth key; never the key',
  synopsis: '<hex | ->',
  positionals: { min: 1, max: 1 },
  options: { ...OUTPUT_OPTIONS },
  description: [
    'Reads an auth key as hexadecimal (512 digits: the 256 big-endian key bytes; an optional 0x, and',
    'whitespace and line breaks, are ignored; fewer digits are read as a number) from the argument,',
    'or from stdin with -, and prints:',
    "  auth_key_id  the 64 lower-order bits of SHA-1(key), as this library's AuthKey#id (digest bytes",
    '               12..19 read big-endian): hex, unsigned and signed 64-bit decimal',
    '  wire bytes   those 8 bytes as they start every encrypted packet',
    "  TL long      the same 8 bytes read as MTProto's little-endian int64 (signed), as clients and",
    '               most MTProto servers log auth_key_id; also unsigned',
    '  aux_hash     the 64 higher-order bits of SHA-1(key): hex and bytes',
    '',
    'Prefer -: a key given as an argument is visible to other users (ps) and kept in shell history;',
    'the command warns when it is.',
    '',
    'Examples:',
    '  mtproto-authkey inspect - < key.hex',
    '  mtproto-authkey inspect --json - < key.hex',
  ].join('\n'),
};

/** At most this much is read from stdin: 512 digits with generous whitespace. */
const MAX_INPUT = 64 * 1024;

/** Runs `inspect`; returns the exit code. */
export async function run(args: ParsedArgs, out: Output): Promise<number> {
  const source = args.positionals[0];
  let text: string;
  if (source === '-') {
    if (out.io.stdin.isTTY) throw new UsageError('inspect -: stdin is a terminal; pipe the key in (mtproto-authkey inspect - < key.hex)');
    text = await readAll(out.io.stdin, MAX_INPUT);
  } else {
    out.warn('warning: a key given as an argument is visible to other users (ps) and kept in shell history; prefer `inspect -` with the key on stdin');
    text = source;
  }
  const digits = text.replace(/\s+/g, '').replace(/^0[xX]/, '');
  // Only the length and whether it is hexadecimal are described: the text is the key.
  if (digits.length === 0 || digits.length > 512 || !/^[0-9a-fA-F]+$/.test(digits)) {
    throw new UsageError(
      `inspect: expected an auth key as 512 hexadecimal digits, got ${digits.length === 0 ? 'nothing' : `${digits.length} characters${/^[0-9a-fA-F]*$/.test(digits) ? '' : ' with non-hex ones'}`}`,
    );
  }
  if (/^0+$/.test(digits)) throw new UsageError('inspect: the key is zero, which is not an auth key');
  const key = AuthKey.fromHex(digits);
  if (digits.length < 512)
    out.warn(`note: ${digits.length} hex digits read as a number (256 bytes with ${256 - Math.ceil(digits.length / 2)} leading zero bytes)`);

  const id = key.id;
  const wire = key.idBytes;
  const tlLong = new DataView(wire.buffer, wire.byteOffset, 8).getBigInt64(0, true);
  const aux = key.auxHash;
  const auxBytes = key.auxHashBytes;
  const hex = (n: bigint) => `0x${n.toString(16).padStart(16, '0')}`;
  const bytes = (b: Uint8Array) => Buffer.from(b).toString('hex');
  const spaced = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
  const signed = BigInt.asIntN(64, id);
  out.result(
    {
      command: 'inspect',
      authKeyId: { hex: hex(id), unsigned: id.toString(), signed: signed.toString(), wireBytes: bytes(wire) },
      tlLong: { signed: tlLong.toString(), unsigned: BigInt.asUintN(64, tlLong).toString() },
      auxHash: { hex: hex(aux), unsigned: aux.toString(), bytes: bytes(auxBytes) },
    },
    table([
      ['auth_key_id', hex(id)],
      ['  unsigned', id.toString()],
      ['  signed', signed.toString()],
      ['wire bytes', spaced(wire)],
      ['TL long', `${tlLong.toString()}  (the wire bytes as a little-endian int64; unsigned ${BigInt.asUintN(64, tlLong).toString()})`],
      ['aux_hash', hex(aux)],
      ['  bytes', spaced(auxBytes)],
    ]),
  );
  return EXIT.OK;
}

/** The text of `stream` (at most `limit` bytes; more is a usage error). */
async function readAll(stream: AsyncIterable<unknown>, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
    n += b.length;
    chunks.push(b);
    if (n > limit) {
      for (const c of chunks) c.fill(0);
      throw new UsageError(`inspect -: expected an auth key as hexadecimal on stdin, got more than ${limit} bytes`);
    }
  }
  const all = Buffer.concat(chunks);
  for (const c of chunks) c.fill(0);
  const text = all.toString('latin1');
  all.fill(0);
  return text;
}
