/**
 * What the `redis` commands call on the manager, as the shared API contract of issue 10 states it
 * (store operations on RedisAuthKeyManager). Declared here only until those methods land on main;
 * then the manager's own types replace it.
 * @internal
 */
import type { DumpSecret, ExportReport, ImportOptions, ImportReport } from '../../dump.js';
import type { ResealReport, StoreOperationOptions, StoredKeyInfo, VerifyReport } from '../../operations.js';

export type { ExportReport, ImportReport } from '../../dump.js';

type WalkOptions = StoreOperationOptions & { batch?: number };

/** The store operations of RedisAuthKeyManager that the commands use. */
export interface StoreOps {
  keys(options?: WalkOptions): AsyncIterableIterator<StoredKeyInfo>;
  verify(options?: WalkOptions): Promise<VerifyReport>;
  reseal(options?: WalkOptions): Promise<ResealReport>;
  exportKeys(writable: NodeJS.WritableStream, options: StoreOperationOptions & DumpSecret): Promise<ExportReport>;
  importKeys(readable: AsyncIterable<Uint8Array>, options: StoreOperationOptions & DumpSecret & ImportOptions): Promise<ImportReport>;
  close(): Promise<void>;
}
