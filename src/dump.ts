/**
 * Encrypted backups of auth keys: `exportKeys` writes every key of a source (a manager's
 * `entries()`, a Redis store's scan) to a stream as a dump, and `importKeys` reads a dump into any
 * manager. A dump is always encrypted, under a key derived from a passphrase (scrypt) or a
 * 32-byte secret (HKDF-SHA-256), because it holds every key of a fleet. The format is specified in
 * docs/dump-format.md. Needs node:crypto (Node, Deno, Bun).
 * @packageDocumentation
 */
export { DEFAULT_SCRYPT, DumpDecryptionFailed, DumpFormatError, DumpStreamFailed, exportKeys, importKeys } from './dump/dump.js';
export type {
  CollisionPolicy,
  DumpEntry,
  DumpFormatProblem,
  DumpSecret,
  DumpSkipped,
  ExportReport,
  ImportOptions,
  ImportReport,
  ScryptParams,
} from './dump/dump.js';
export type { StoreOperationOptions } from './managers/operations.js';
