/**
 * What the `redis` commands call on the manager, as the shared API contract of issue 10 states it
 * (store operations on RedisAuthKeyManager, dump reports). Declared here only until those methods
 * land on main; then the manager's own types replace it.
 * @internal
 */
import type { ResealReport, StoreOperationOptions, StoredKeyInfo, VerifyReport } from '../../operations.js';
import type { DumpKey } from '../secrets.js';

/** `exportKeys`' report. */
export interface ExportReport {
  exported: number;
  skipped: number;
  skippedIds: bigint[];
}

/** `importKeys`' report. */
export interface ImportReport {
  records: number;
  imported: number;
  unchanged: number;
  expired: number;
  collisions: number;
  collisionIds: bigint[];
  corrupted: number;
}

type WalkOptions = StoreOperationOptions & { batch?: number };

/** The store operations of RedisAuthKeyManager that the commands use. */
export interface StoreOps {
  keys(options?: WalkOptions): AsyncIterableIterator<StoredKeyInfo>;
  verify(options?: WalkOptions): Promise<VerifyReport>;
  reseal(options?: WalkOptions): Promise<ResealReport>;
  exportKeys(writable: NodeJS.WritableStream, options: StoreOperationOptions & DumpKey): Promise<ExportReport>;
  importKeys(readable: AsyncIterable<Uint8Array>, options: StoreOperationOptions & DumpKey & { onCollision?: 'skip' | 'fail' }): Promise<ImportReport>;
  close(): Promise<void>;
}
