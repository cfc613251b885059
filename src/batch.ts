/**
 * Batch search: the k nearest rows of a vec0 table for many query vectors in one call, through
 * the `vec_knn_batch` table-valued function, which reads the table's vectors once for the whole
 * batch instead of once per query. Each query's rows are exactly what `where v match ? and k = ?`
 * returns for that vector alone.
 */
import { VecsqliteError, checkOptions } from './errors';
import { describe } from './codec';

/** The subset of better-sqlite3's Database that knnBatch uses. */
export interface BatchDatabase {
  prepare(sql: string): { raw(toggle?: boolean): { all(...params: unknown[]): unknown[] } };
}

export interface KnnBatchOptions {
  /** Rows per query, 0 to 4096. */
  k: number;
  /** The vector column (default: the table's first). */
  column?: string;
  /** Elements per vector, required when `queries` is one flat Float32Array. */
  dims?: number;
}

/** One query's rows, nearest first. */
export interface KnnBatchResult {
  rowids: Float64Array;
  distances: Float64Array;
}

function fail(msg: string): never {
  throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `knnBatch: ${msg}`);
}

/**
 * The queries as one BLOB of float32 vectors back to back, with their count; validates shapes.
 * @internal shared with the pool
 */
export function batchBlob(queries: Float32Array | readonly Float32Array[], dims?: number): { blob: Buffer; count: number } {
  if (queries instanceof Float32Array) {
    if (dims === undefined || !Number.isInteger(dims) || dims <= 0) fail('a flat Float32Array of queries needs options.dims');
    if (queries.length % dims !== 0) fail(`a flat Float32Array of ${queries.length} elements does not hold whole ${dims}-dimensional vectors`);
    return { blob: Buffer.from(queries.buffer, queries.byteOffset, queries.byteLength), count: queries.length / dims };
  }
  if (!Array.isArray(queries)) fail(`expected queries to be an array of Float32Array or one Float32Array, received ${describe(queries)}`);
  const n = queries.length;
  if (n === 0) return { blob: Buffer.alloc(0), count: 0 };
  const d = queries[0] instanceof Float32Array ? queries[0].length : -1;
  queries.forEach((q, i) => {
    if (!(q instanceof Float32Array)) fail(`query ${i}: expected a Float32Array, received ${describe(q)}`);
    if (q.length !== d) fail(`query ${i} has ${q.length} dimensions, query 0 has ${d}`);
  });
  if (dims !== undefined && dims !== d) fail(`the queries have ${d} dimensions, options.dims is ${dims}`);
  const blob = Buffer.allocUnsafe(n * d * 4);
  queries.forEach((q, i) => blob.set(new Uint8Array(q.buffer, q.byteOffset, q.byteLength), i * d * 4));
  return { blob, count: n };
}

/** Splits vec_knn_batch's raw rows [query, rowid, distance] into one result per query. */
export function splitBatch(rows: [number | bigint, number | bigint, number][], count: number): KnnBatchResult[] {
  const sizes = new Array<number>(count).fill(0);
  for (const r of rows) sizes[Number(r[0])]++;
  const out = sizes.map((s) => ({ rowids: new Float64Array(s), distances: new Float64Array(s) }));
  const at = new Array<number>(count).fill(0);
  for (const r of rows) {
    const q = Number(r[0]);
    out[q].rowids[at[q]] = Number(r[1]);
    out[q].distances[at[q]++] = r[2];
  }
  return out;
}

/**
 * The k nearest rows of `table` (a vec0 table with a float32 column) to each of `queries`.
 * @example knnBatch(db, 'docs', [q1, q2, q3], { k: 10 })[1].rowids  // the 10 nearest to q2
 * @throws VecsqliteError VECSQLITE_INVALID_ARGUMENT on a bad shape, k or option; SQLite's error
 *   (naming the problem) for an unknown table, a wrong dimension or a NaN element.
 */
export function knnBatch(db: BatchDatabase, table: string, queries: Float32Array | readonly Float32Array[], options: KnnBatchOptions): KnnBatchResult[] {
  checkOptions('knnBatch', options, ['k', 'column', 'dims']);
  if (typeof table !== 'string' || table === '') fail(`expected table to be a non-empty string, received ${describe(table)}`);
  if (options === undefined || !Number.isInteger(options.k) || options.k < 0 || options.k > 4096) {
    fail(`expected options.k to be an integer from 0 to 4096, received ${options === undefined ? 'undefined' : String(options.k)}`);
  }
  if (options.column !== undefined && (typeof options.column !== 'string' || options.column === '')) fail('options.column must be a non-empty string');
  const { blob, count } = batchBlob(queries, options.dims);
  if (count === 0) return [];
  const sql = `select query, rowid, distance from vec_knn_batch(?, ?, ?${options.column !== undefined ? ', ?' : ''})`;
  const args: unknown[] = [table, blob, options.k];
  if (options.column !== undefined) args.push(options.column);
  const rows = db.prepare(sql).raw(true).all(...args) as [number | bigint, number | bigint, number][];
  return splitBatch(rows, count);
}
