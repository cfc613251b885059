/**
 * vecsqlite: vector search inside SQLite for Node.js.
 *
 * The compiled `vecsqlite.node` is both this package's Node-API addon and a SQLite loadable
 * extension. {@link load} installs the extension into a better-sqlite3 connection.
 */
import { binding, nativePath } from './native';
import { VecsqliteError, checkOptions } from './errors';
import { describe } from './codec';

export { encodeEmbedding, decodeEmbedding } from './codec';
export { VecsqliteError } from './errors';
export * as vecsync from './vecsync';
export type { VecsqliteErrorCode } from './errors';

/** The SQLite entry points exported by the extension. */
export type EntryPoint = 'sqlite3_vecsqlite_init' | 'sqlite3_vec_init';

export interface LoadOptions {
  /**
   * `sqlite3_vecsqlite_init` (default) installs everything; `sqlite3_vec_init` installs only the
   * drop-in surface of the C `vec0` extension (its functions and the vec0 / vec_each modules).
   */
  entryPoint?: EntryPoint;
}

/** Anything with better-sqlite3's `loadExtension(path, entryPoint?)`. */
export interface LoadableDatabase {
  loadExtension(path: string, entryPoint?: string): unknown;
}

/** Distance metrics of {@link distance} and {@link topK}. */
export type Metric = 'l2' | 'l2sq' | 'cosine' | 'dot' | 'l1' | 'hamming';

const ENTRY_POINTS: readonly EntryPoint[] = ['sqlite3_vecsqlite_init', 'sqlite3_vec_init'];

/**
 * Loads the extension into a connection. Call it once per connection (SQLite extensions are
 * per connection), before touching any vecsqlite table.
 * @example
 * const Database = require('better-sqlite3');
 * const db = new Database(':memory:');
 * load(db);
 * db.prepare('select vecsqlite_isa()').pluck().get(); // 'avx512'
 * @throws VecsqliteError VECSQLITE_INVALID_ARGUMENT when `db` has no loadExtension method,
 *   VECSQLITE_UNKNOWN_OPTION for a misspelled option; SQLite's error if loading fails.
 */
export function load(db: LoadableDatabase, options?: LoadOptions): void {
  if (db === null || typeof db !== 'object' || typeof (db as LoadableDatabase).loadExtension !== 'function') {
    throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `load: expected a better-sqlite3 Database (an object with loadExtension), received ${describe(db)}`);
  }
  checkOptions('load', options, ['entryPoint']);
  const entryPoint = options?.entryPoint ?? 'sqlite3_vecsqlite_init';
  if (!ENTRY_POINTS.includes(entryPoint)) {
    throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `load: expected entryPoint to be one of ${ENTRY_POINTS.join(', ')}, received ${describe(entryPoint)}`);
  }
  db.loadExtension(getLoadablePath(), entryPoint);
}

/**
 * Absolute path of the loadable extension, for other hosts: the sqlite3 CLI
 * (`.load <path>`), Python's `sqlite3`, node-sqlite3, libsql. With no entry point SQLite derives
 * `sqlite3_vecsqlite_init` from the file name.
 */
export function getLoadablePath(): string {
  return nativePath();
}

/** The SIMD variant in use: `scalar`, `avx2`, `avx512` or `neon` (`VECSQLITE_ISA` overrides). */
export function isa(): string {
  return binding().isa();
}

/** The package version, as compiled into the native module. */
export const version: string = (require('../package.json') as { version: string }).version;

type Vector = Float32Array | Int8Array | Uint8Array;

function checkVector(where: string, name: string, v: unknown): asserts v is Vector {
  if (!(v instanceof Float32Array || v instanceof Int8Array || v instanceof Uint8Array)) {
    throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `${where}: expected ${name} to be a Float32Array, Int8Array or Uint8Array, received ${describe(v)}`);
  }
}

/**
 * Distance between two vectors with the SIMD kernels. Float32Array: l2, l2sq, cosine
 * (1 − cosine similarity), dot (returned as −a·b, so smaller is closer), l1. Int8Array: l2,
 * l2sq, cosine, dot. Uint8Array holds packed bits: hamming.
 * @throws on a dimension mismatch, an empty vector, or a metric the element type lacks.
 */
export function distance(a: Vector, b: Vector, metric: Metric = 'l2'): number {
  checkVector('distance', 'a', a);
  checkVector('distance', 'b', b);
  return binding().distance(a, b, metric);
}

export interface TopKResult {
  /** Row numbers in `matrix`, nearest first (ties: smaller row first). */
  indices: Uint32Array;
  /** Their distances, as {@link distance} defines them. */
  distances: Float32Array;
}

/**
 * The k rows of `matrix` (rows of `query.length` elements, stored one after another) nearest
 * to `query`, in one SIMD scan with a bounded top-k selection.
 * @example topK(q, matrix, 10, 'cosine').indices
 */
export function topK(query: Vector, matrix: Vector, k: number, metric: Metric = 'l2'): TopKResult {
  checkVector('topK', 'query', query);
  checkVector('topK', 'matrix', matrix);
  return binding().topK(query, matrix, k, metric);
}

export * as vecutil from './vecutil';
export { upsertShadowDocument, matchText, shadowTableName } from './vecutil';
export type { EmbedFunc, ShadowDocument, MatchOptions, TextMatch, VecDatabase } from './vecutil';

export { openPool, Pool, PoolQueryError, PoolWorkerError } from './pool';
export type { PoolOptions, KnnOptions, KnnResult, RunResult, Params } from './pool';
export { bulkInsert, encodeNpy, decodeNpy } from './bulk';
export type { BulkInsertOptions, BulkInsertResult, BulkDatabase, NpyArray, RowId } from './bulk';
export { hybridSearch, createTextIndex, textIndexSql, defaultTextIndexName } from './hybrid';
export { knnBatch } from './batch';
export type { KnnBatchOptions, KnnBatchResult, BatchDatabase } from './batch';
export type { HybridOptions, HybridHit, HybridDatabase } from './hybrid';
