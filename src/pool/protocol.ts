/** Messages between the pool (main thread) and its worker threads. Internal. */
import type { HybridArgs } from '../hybrid';

export type Role = 'read' | 'write';

export interface WorkerConfig {
  file: string;
  role: Role;
  extensionPath: string;
  busyTimeoutMs: number;
  /** Added to the thread's nice value (Linux), 0 to leave it. */
  niceness: number;
}

export type Task =
  | { op: 'all' | 'get' | 'run'; sql: string; params: unknown }
  | { op: 'exec'; sql: string }
  | { op: 'knn'; table: string; vector: ArrayBufferView | string | number[]; k: number; filter?: string; params?: unknown; column?: string }
  | { op: 'hybrid'; args: HybridArgs }
  | { op: 'knnBatch'; table: string; blob: Uint8Array; count: number; k: number; column?: string }
  | { op: 'knnMany'; table: string; vectors: Float32Array[]; k: number; column?: string }
  | { op: 'ping' };

/** What a worker returns: a value, or the SQL error it caught (code and message survive). */
export type Reply =
  | { ok: true; value: unknown }
  | { ok: false; message: string; code?: string };
