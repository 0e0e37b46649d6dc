/**
 * Secrets for the command: the at-rest secrets of a sealed store and the passphrase or secret of
 * a dump. They come from environment variables or files, never from the command line (which
 * other users see in `ps`), and no message here ever quotes what it read.
 * @internal
 */
import { readFile, stat } from 'node:fs/promises';
import { CliError, EXIT, MIN_SECRET_CHARACTERS, type Redactor, UsageError } from './exit.js';

/** The at-rest secrets, in the shape `RedisAuthKeyManager`'s `encryption` takes. */
export interface AtRestSecrets {
  secrets: Record<number, Uint8Array>;
  current: number;
}

/** A dump's passphrase or 32-byte secret, in the shape the dump functions take. */
export type DumpKey = { passphrase: string | Uint8Array } | { secret: Uint8Array };

/** Where secrets are looked for: the environment, the files named on the command line. */
export interface SecretSources {
  env: NodeJS.ProcessEnv;
  secretsFile?: string;
  /** `--current`: the version that seals (overrides the file's and MTPROTO_AUTHKEY_CURRENT). */
  current?: string;
  passphraseFile?: string;
  dumpSecretFile?: string;
  redactor: Redactor;
  /** Prints one warning line (to stderr). */
  warn: (line: string) => void;
}

const HEX64 = /^[0-9a-fA-F]{64}$/;

/**
 * The at-rest secrets from `--secrets-file` or else MTPROTO_AUTHKEY_SECRETS, or undefined if
 * neither is given. Text form: `<version>:<64 hex digits>` entries separated by commas,
 * whitespace or newlines (`#` starts a comment line in a file); a file may instead hold JSON
 * `{ "secrets": { "<version>": "<64 hex>" }, "current": <version> }`. The sealing version is
 * `--current`, else the file's `current`, else MTPROTO_AUTHKEY_CURRENT, else the only version
 * listed.
 * @throws UsageError if the file cannot be read or any of it is malformed (the message says
 *   which entry and what is wrong, never its contents)
 */
export async function atRestSecrets(sources: SecretSources): Promise<AtRestSecrets | undefined> {
  let text: string;
  let where: string;
  if (sources.secretsFile !== undefined) {
    where = `--secrets-file ${sources.secretsFile}`;
    const bytes = await readSecretFile(sources.secretsFile, sources.warn);
    text = bytes.toString('utf8');
    bytes.fill(0);
  } else if (sources.env.MTPROTO_AUTHKEY_SECRETS !== undefined && sources.env.MTPROTO_AUTHKEY_SECRETS !== '') {
    where = 'MTPROTO_AUTHKEY_SECRETS';
    text = sources.env.MTPROTO_AUTHKEY_SECRETS;
  } else {
    if (sources.current !== undefined)
      throw new UsageError('--current names the sealing version, but no at-rest secrets were given (MTPROTO_AUTHKEY_SECRETS or --secrets-file)');
    return undefined;
  }
  const secrets: Record<number, Uint8Array> = {};
  let fileCurrent: unknown;
  const add = (version: string, hex: unknown, entry: string) => {
    if (!/^\d{1,3}$/.test(version) || Number(version) > 255) throw new UsageError(`${where}: ${entry}: expected a version in [0, 255] before the colon`);
    if (typeof hex !== 'string' || !HEX64.test(hex)) {
      throw new UsageError(
        `${where}: ${entry}: expected 64 hexadecimal digits (32 bytes) after the version, got ${typeof hex === 'string' ? `${hex.length} characters${/^[0-9a-fA-F]*$/.test(hex) ? '' : ' with non-hex ones'}` : typeof hex}`,
      );
    }
    if (secrets[Number(version)] !== undefined) throw new UsageError(`${where}: version ${Number(version)} is listed twice`);
    sources.redactor.add(hex.toLowerCase());
    sources.redactor.add(hex.toUpperCase());
    sources.redactor.add(hex);
    secrets[Number(version)] = Buffer.from(hex, 'hex');
  };
  if (text.trimStart().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // JSON.parse's message may quote the text around the error: a piece of a secret.
      throw new UsageError(`${where}: not valid JSON`);
    }
    const object = parsed as { secrets?: unknown; current?: unknown };
    if (object === null || typeof object.secrets !== 'object' || object.secrets === null || Array.isArray(object.secrets)) {
      throw new UsageError(`${where}: expected JSON { "secrets": { "<version>": "<64 hex digits>" }, "current": <version> }`);
    }
    for (const [version, hex] of Object.entries(object.secrets)) add(version, hex, `secret "${version.slice(0, 8)}"`);
    fileCurrent = object.current;
  } else {
    const entries = text
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('#'))
      .join('\n')
      .split(/[\s,]+/)
      .filter((e) => e !== '');
    entries.forEach((entry, i) => {
      const colon = entry.indexOf(':');
      if (colon < 0) throw new UsageError(`${where}: entry ${i + 1}: expected <version>:<64 hex digits>`);
      add(entry.slice(0, colon), entry.slice(colon + 1), `entry ${i + 1}`);
    });
  }
  const versions = Object.keys(secrets).map(Number);
  if (versions.length === 0) throw new UsageError(`${where}: no secrets listed`);
  let current: number;
  if (sources.current !== undefined) current = versionOf(sources.current, '--current');
  else if (fileCurrent !== undefined) current = versionOf(String(fileCurrent), `${where} "current"`);
  else if (sources.env.MTPROTO_AUTHKEY_CURRENT !== undefined && sources.env.MTPROTO_AUTHKEY_CURRENT !== '')
    current = versionOf(sources.env.MTPROTO_AUTHKEY_CURRENT, 'MTPROTO_AUTHKEY_CURRENT');
  else if (versions.length === 1) current = versions[0];
  else throw new UsageError(`${where} lists versions ${versions.join(', ')}: say which one seals with MTPROTO_AUTHKEY_CURRENT or --current <version>`);
  if (secrets[current] === undefined) throw new UsageError(`the sealing version ${current} is not among the secrets given (${versions.join(', ')})`);
  return { secrets, current };
}

function versionOf(text: string, what: string): number {
  if (!/^\d{1,3}$/.test(text) || Number(text) > 255) throw new UsageError(`${what}: expected a secret version in [0, 255]`);
  return Number(text);
}

/**
 * The dump's key: `--dump-secret-file` (32 raw bytes, or 64 hex digits), `--passphrase-file`
 * (its bytes as UTF-8 text, one trailing newline dropped), or else MTPROTO_AUTHKEY_PASSPHRASE.
 * @throws UsageError if none is given, both files are, a file cannot be read, or what it holds
 *   is empty, malformed, or a passphrase shorter than {@link MIN_SECRET_CHARACTERS}
 */
export async function dumpKey(sources: SecretSources): Promise<DumpKey> {
  if (sources.passphraseFile !== undefined && sources.dumpSecretFile !== undefined) {
    throw new UsageError('give either --passphrase-file or --dump-secret-file, not both');
  }
  if (sources.dumpSecretFile !== undefined) {
    const bytes = await readSecretFile(sources.dumpSecretFile, sources.warn);
    if (bytes.length === 32) return { secret: bytes };
    const text = bytes.toString('latin1').trim();
    bytes.fill(0);
    if (!HEX64.test(text)) throw new UsageError(`--dump-secret-file ${sources.dumpSecretFile}: expected 32 bytes, or 64 hexadecimal digits`);
    sources.redactor.add(text);
    sources.redactor.add(text.toLowerCase());
    return { secret: Buffer.from(text, 'hex') };
  }
  let passphrase: string;
  if (sources.passphraseFile !== undefined) {
    const bytes = await readSecretFile(sources.passphraseFile, sources.warn);
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0a) end--;
    if (end > 0 && bytes[end - 1] === 0x0d) end--;
    if (end === 0) throw new UsageError(`--passphrase-file ${sources.passphraseFile}: the file is empty`);
    try {
      passphrase = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end));
    } catch {
      // Not UTF-8: the bytes themselves are the passphrase (never printed, so never blanked).
      if (end < MIN_SECRET_CHARACTERS) throw tooShort(`--passphrase-file ${sources.passphraseFile}`);
      return { passphrase: Buffer.from(bytes.subarray(0, end)) };
    } finally {
      bytes.fill(0);
    }
  } else if (sources.env.MTPROTO_AUTHKEY_PASSPHRASE !== undefined && sources.env.MTPROTO_AUTHKEY_PASSPHRASE !== '') {
    passphrase = sources.env.MTPROTO_AUTHKEY_PASSPHRASE;
  } else {
    throw new UsageError(
      'a dump is always encrypted: give its passphrase in MTPROTO_AUTHKEY_PASSPHRASE or --passphrase-file <path>, or its 32-byte secret with --dump-secret-file <path>',
    );
  }
  if ([...passphrase].length < MIN_SECRET_CHARACTERS)
    throw tooShort(sources.passphraseFile !== undefined ? `--passphrase-file ${sources.passphraseFile}` : 'MTPROTO_AUTHKEY_PASSPHRASE');
  sources.redactor.add(passphrase);
  return { passphrase };
}

/**
 * The refusal of a passphrase too short to blank from messages: a short one is likely a word the
 * messages use ("open", "dump"), and blanking that would garble them. (`importKeys` of
 * mtproto-authkey/dump still reads a dump made with one.)
 */
function tooShort(where: string): UsageError {
  return new UsageError(
    `${where}: a dump passphrase needs at least ${MIN_SECRET_CHARACTERS} characters (a shorter one is weak, and cannot be kept out of messages without garbling them); use a longer one, or a 32-byte secret with --dump-secret-file`,
  );
}

/** The bytes of a secret file; warns when other users may read it. */
async function readSecretFile(path: string, warn: (line: string) => void): Promise<Buffer> {
  try {
    const info = await stat(path);
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      warn(`warning: ${path} can be read by other users (mode ${(info.mode & 0o777).toString(8).padStart(3, '0')}); chmod 600 it`);
    }
    return await readFile(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') throw new UsageError(`cannot read ${path}: ${code}`);
    throw new CliError(`cannot read ${path}`, EXIT.USAGE);
  }
}
