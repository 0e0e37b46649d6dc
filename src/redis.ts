/**
 * `mtproto-authkey/redis`: an auth key manager backed by Redis (standalone or Redis Cluster), so
 * every gateway node sees every key and a restart loses none. ioredis is an optional peer
 * dependency and is imported from this entry point only.
 * @packageDocumentation
 */
export { RedisAuthKeyManager } from './redis/manager.js';
export type { RedisAuthKeyManagerCommonOptions, RedisAuthKeyManagerOptions } from './redis/options.js';
export { connectRedis } from './redis/client.js';
export type { RedisConnectOptions } from './redis/client.js';
export type { StoreStats } from './redis/operations.js';
export { AuthKeyCorrupted, AuthKeyStoreUnavailable } from './core/errors.js';
export type { AuthKeyEncryption } from './redis/sealer.js';
export { StoreOperationUnsupported } from './managers/operations.js';
export type { ResealReport, StoreOperationOptions, StoredKeyInfo, VerifyReport } from './managers/operations.js';
export type { RedisAuthKeyCacheOptions, RedisAuthKeyCacheStats } from './redis/near-cache.js';
// The dump's API, so that a Redis user finds backups where the manager is.
export { DEFAULT_SCRYPT, DumpDecryptionFailed, DumpFormatError, DumpStreamFailed, exportKeys, importKeys } from './dump.js';
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
} from './dump.js';
