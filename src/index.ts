/**
 * mtproto-authkey: MTProto authorization keys (SHA-1, auth_key_id, aux_hash) computed in
 * WebAssembly, and managers that store them.
 * @packageDocumentation
 */
export { init } from './init.js';
export { sha1, sha1AuthKeys, Sha1 } from './sha1.js';
export { sha256 } from './sha256.js';
export { AuthKey } from './auth-key.js';
export { AuthKeyManager } from './manager.js';
export type { AuthKeyEntry, AuthKeyManagerOptions } from './manager.js';
export type { AuthKeyId, AuthKeyManagerProtocol, SetKeyOptions } from './protocol.js';
export { AuthKeyCollision, AuthKeyCorrupted, AuthKeyDoesNotExist, AuthKeyStoreUnavailable, MessageRejected } from './errors.js';
export { aes256IgeDecrypt, aes256IgeEncrypt } from './aes.js';
export type { EncryptMessageOptions, MessageSender } from './message.js';
export type { ResealReport, StoreOperationOptions, StoredKeyInfo, VerifyReport } from './operations.js';
export { StoreOperationUnsupported } from './operations.js';
