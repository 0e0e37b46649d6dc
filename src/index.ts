/**
 * mtproto-authkey: MTProto authorization keys (SHA-1, auth_key_id, aux_hash) computed in
 * WebAssembly, and managers that store them.
 * @packageDocumentation
 */
export { init } from './core/init.js';
export { sha1, sha1AuthKeys, Sha1 } from './core/sha1.js';
export { sha256 } from './core/sha256.js';
export { AuthKey } from './core/auth-key.js';
export { AuthKeyManager } from './managers/auth-key-manager.js';
export type { AuthKeyEntry, AuthKeyManagerOptions } from './managers/auth-key-manager.js';
export type { AuthKeyId, AuthKeyManagerProtocol, SetKeyOptions } from './managers/protocol.js';
export { AuthKeyCollision, AuthKeyCorrupted, AuthKeyDoesNotExist, AuthKeyStoreUnavailable, MessageRejected } from './core/errors.js';
export { aes256IgeDecrypt, aes256IgeEncrypt } from './core/aes.js';
export type { EncryptMessageOptions, MessageSender } from './core/message.js';
export type { ResealReport, StoreOperationOptions, StoredKeyInfo, VerifyReport } from './managers/operations.js';
export { StoreOperationUnsupported } from './managers/operations.js';
