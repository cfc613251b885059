/**
 * An asynchronous connection pool: SQL and KNN queries run on worker threads, off the event
 * loop. Readers each hold a read-only connection with vecsqlite loaded; every write goes through
 * one writer connection (its own worker thread) so writers never contend for the WAL lock.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Piscina } from 'piscina';
import { VecsqliteError, checkOptions } from '../errors';
import { nativePath, packageRoot } from '../native';
import { hybridArgs, type HybridHit, type HybridOptions } from '../hybrid';
import { batchBlob, type KnnBatchOptions, type KnnBatchResult } from '../batch';
import type { Reply, Role, Task, WorkerConfig } from './protocol';

export interface PoolOptions {
  /** Reader worker threads (default 2; at least 1). */
  workers?: number;
  /** How long a connection waits for a lock before SQLITE_BUSY, in ms (default 5000). */
  busyTimeoutMs?: number;
  /**
   * Answer concurrent `knn` calls on the same table, column and k together, as batches that read
   * the table's vectors once (default true). Results are the same either way.
   */
  batchKnn?: boolean;
  /**
   * How much lower than the main thread's the worker threads' scheduling priority is (Linux nice
   * steps, 0 to 19; default 5), so that the event loop gets a core first on a busy machine.
   */
  workerNice?: number;
}

export interface KnnOptions {
  /** Number of neighbours (required, 1 or more). */
  k: number;
  /**
   * An extra SQL condition of the KNN query, e.g. `category = ?` on a metadata column; its `?`
   * parameters come from `params`.
   */
  filter?: string;
  /** Parameters of `filter`. */
  params?: unknown[];
  /** The vector column; by default the first vector column of the vec0 table's declaration. */
  column?: string;
}

export interface KnnResult {
  /** Rowids of the nearest rows, nearest first. */
  rowids: Float64Array;
  /** Their distances, in the table's metric. */
  distances: Float64Array;
}

export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

export type Params = unknown[] | Record<string, unknown>;

/** A query failed in SQLite: `message` is SQLite's error text, `code` its error code name. */
export class PoolQueryError extends Error {
  readonly code: string;
  readonly sql: string | undefined;
  constructor(message: string, code: string, sql?: string) {
    super(message);
    this.name = 'PoolQueryError';
    this.code = code;
    this.sql = sql;
  }
}

/** The worker thread running a query ended (exited, crashed or was terminated) before replying. */
export class PoolWorkerError extends Error {
  readonly code = 'VECSQLITE_POOL_WORKER_EXITED';
  constructor(message: string) {
    super(message);
    this.name = 'PoolWorkerError';
  }
}

function workerFile(): string {
  const here = path.join(__dirname, 'worker.js');
  // Under ts-jest this module runs from src/; the worker thread needs the compiled file.
  return fs.existsSync(here) ? here : path.join(packageRoot, 'lib', 'pool', 'worker.js');
}

function sqlOf(task: Task): string | undefined {
  return 'sql' in task ? task.sql : undefined;
}

interface PendingKnn {
  table: string;
  column: string | undefined;
  k: number;
  calls: { vector: Float32Array; resolve: (r: KnnResult) => void; reject: (e: unknown) => void }[];
}

/** What a reader answers for each query of a knnMany task. */
export type KnnOutcome = { ok: true; value: KnnResult } | { ok: false; message: string; code?: string };

function knnSql(table: string, column: string | undefined): string {
  return `select rowid, distance from "${table.replace(/"/g, '""')}" where ${column === undefined ? '<first vector column>' : `"${column.replace(/"/g, '""')}"`} match ? and k = ? order by distance`;
}

export class Pool {
  private readonly readers: Piscina;
  private readonly writer: Piscina;
  private closed = false;
  /** Reader worker threads. */
  readonly workers: number;
  /** The database file. */
  readonly file: string;

  private readonly batchKnn: boolean;
  // knn calls waiting for a free reader, by (table, column, k, dimensions), and the read tasks
  // running or queued on the readers.
  private pendingKnn = new Map<string, PendingKnn>();
  private knnFlushScheduled = false;
  private readBusy = 0;

  /** @internal use openPool */
  constructor(file: string, workers: number, readers: Piscina, writer: Piscina, batchKnn = true) {
    this.file = file;
    this.workers = workers;
    this.readers = readers;
    this.writer = writer;
    this.batchKnn = batchKnn;
  }

  // Sends waiting knn calls to the free readers: each free reader gets one batch (at most 64
  // calls of one group; a lone call goes as it is). While every reader is busy, calls wait and
  // their batch grows; a reader that finishes triggers the next flush. So under load a reader
  // answers many queries per read of the table's vectors, and when idle a call goes at once. A
  // reader answers a batch through vec_knn_batch, or one query at a time when the column is not
  // float32 or the batch fails, so that every call gets the rows, or the error, it would get
  // alone.
  private scheduleKnnFlush(): void {
    if (this.knnFlushScheduled || this.pendingKnn.size === 0) return;
    this.knnFlushScheduled = true;
    setImmediate(() => this.flushKnn());
  }

  private flushKnn(force = false): void {
    this.knnFlushScheduled = false;
    for (const [key, g] of this.pendingKnn) {
      while (g.calls.length > 0 && (force || this.readBusy < this.workers)) {
        const idle = Math.max(1, this.workers - this.readBusy);
        const take = Math.min(64, Math.ceil(g.calls.length / idle));
        this.dispatchKnn(g, g.calls.splice(0, take));
      }
      if (g.calls.length === 0) this.pendingKnn.delete(key);
      if (!force && this.readBusy >= this.workers) return;
    }
  }

  private dispatchKnn(g: PendingKnn, calls: PendingKnn['calls']): void {
    if (calls.length === 1) {
      const single: Task = { op: 'knn', table: g.table, vector: calls[0].vector, k: g.k, column: g.column };
      this.call('read', single).then((v) => calls[0].resolve(v as KnnResult), calls[0].reject);
      return;
    }
    this.call('read', { op: 'knnMany', table: g.table, column: g.column, k: g.k, vectors: calls.map((c) => c.vector) }).then(
      (value) => {
        (value as KnnOutcome[]).forEach((o, i) => {
          if (o.ok) calls[i].resolve(o.value);
          else calls[i].reject(new PoolQueryError(o.message, o.code ?? 'SQLITE_ERROR', knnSql(g.table, g.column)));
        });
      },
      (e) => calls.forEach((c) => c.reject(e)),
    );
  }

  private async call(role: Role, task: Task): Promise<unknown> {
    if (this.closed) throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', 'pool: the pool is closed');
    const p = role === 'read' ? this.readers : this.writer;
    let reply: Reply;
    if (role === 'read') this.readBusy++;
    try {
      reply = (await p.run(task)) as Reply;
    } catch (e) {
      // The handler never throws: a rejection means the thread itself went away.
      const why = e instanceof Error ? e.message : String(e);
      throw new PoolWorkerError(`pool: the ${role === 'read' ? 'reader' : 'writer'} thread running this query ended before replying (${why}); it has been replaced`);
    } finally {
      if (role === 'read') {
        this.readBusy--;
        this.scheduleKnnFlush();
      }
    }
    if (!reply.ok) throw new PoolQueryError(reply.message, reply.code ?? 'SQLITE_ERROR', sqlOf(task));
    return reply.value;
  }

  /** All rows of a read query, as plain objects (BLOBs as Uint8Array). */
  all<T = Record<string, unknown>>(sql: string, params?: Params): Promise<T[]> {
    checkSql('all', sql);
    return this.call('read', { op: 'all', sql, params }) as Promise<T[]>;
  }

  /** The first row of a read query, or undefined. */
  get<T = Record<string, unknown>>(sql: string, params?: Params): Promise<T | undefined> {
    checkSql('get', sql);
    return this.call('read', { op: 'get', sql, params }) as Promise<T | undefined>;
  }

  /** One write statement on the writer connection. */
  run(sql: string, params?: Params): Promise<RunResult> {
    checkSql('run', sql);
    return this.call('write', { op: 'run', sql, params }) as Promise<RunResult>;
  }

  /** Several statements without parameters (DDL, transactions) on the writer connection. */
  async exec(sql: string): Promise<void> {
    checkSql('exec', sql);
    await this.call('write', { op: 'exec', sql });
  }

  /** The k nearest rows of a vec0 table to `vector`, on a reader thread. */
  knn(table: string, vector: Float32Array | Int8Array | Uint8Array | number[], options: KnnOptions): Promise<KnnResult> {
    checkOptions('knn', options, ['k', 'filter', 'params', 'column']);
    if (typeof table !== 'string' || table.length === 0) {
      throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `knn: expected table to be a non-empty string, received ${typeof table}`);
    }
    if (!(ArrayBuffer.isView(vector) || Array.isArray(vector))) {
      throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', 'knn: expected vector to be a Float32Array, Int8Array, Uint8Array or number[]');
    }
    if (options === undefined || !Number.isInteger(options.k) || options.k < 1) {
      throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `knn: expected options.k to be a positive integer, received ${options === undefined ? 'undefined' : String(options.k)}`);
    }
    if (this.batchKnn && !this.closed && vector instanceof Float32Array && options.filter === undefined && options.params === undefined) {
      return new Promise<KnnResult>((resolve, reject) => {
        const key = `${table}\u0000${options.column ?? ''}\u0000${options.k}\u0000${vector.length}`;
        let g = this.pendingKnn.get(key);
        if (g === undefined) {
          g = { table, column: options.column, k: options.k, calls: [] };
          this.pendingKnn.set(key, g);
        }
        g.calls.push({ vector, resolve, reject });
        this.scheduleKnnFlush();
      });
    }
    return this.call('read', { op: 'knn', table, vector, k: options.k, filter: options.filter, params: options.params, column: options.column }) as Promise<KnnResult>;
  }

  /**
   * The k nearest rows of a vec0 table for each of `queries`, on one reader thread that reads
   * the table's vectors once for the whole batch (`vec_knn_batch`); the same rows as
   * `knnBatch(db, ...)` on a direct connection, one result per query.
   */
  async knnBatch(table: string, queries: Float32Array | readonly Float32Array[], options: KnnBatchOptions): Promise<KnnBatchResult[]> {
    checkOptions('knnBatch', options, ['k', 'column', 'dims']);
    if (typeof table !== 'string' || table.length === 0) {
      throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `knnBatch: expected table to be a non-empty string, received ${typeof table}`);
    }
    if (options === undefined || !Number.isInteger(options.k) || options.k < 0 || options.k > 4096) {
      throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `knnBatch: expected options.k to be an integer from 0 to 4096, received ${options === undefined ? 'undefined' : String(options.k)}`);
    }
    const { blob, count } = batchBlob(queries, options.dims);
    if (count === 0) return [];
    return (await this.call('read', { op: 'knnBatch', table, blob, count, k: options.k, column: options.column })) as KnnBatchResult[];
  }

  /**
   * The `hybridSearch` function (keyword + vector, fused) on a reader thread: the same rows as
   * `hybridSearch(db, ftsTable, vecTable, text, vector, k, options)` on a direct connection.
   * Bad arguments reject with `VecsqliteError` (checked here, before any thread is involved);
   * SQL errors (a missing table, a bad FTS5 query) with `PoolQueryError`.
   */
  async hybridSearch(ftsTable: string, vecTable: string, text: string | null, vector: Float32Array | null, k: number, options?: HybridOptions): Promise<HybridHit[]> {
    const args = hybridArgs(ftsTable, vecTable, text, vector, k, options);
    return (await this.call('read', { op: 'hybrid', args })) as HybridHit[];
  }

  /** Queries waiting for a reader, and reader threads. */
  stats(): { workers: number; queued: number; completed: number; utilization: number } {
    return { workers: this.workers, queued: this.readers.queueSize, completed: this.readers.completed, utilization: this.readers.utilization };
  }

  /** Reader worker threads (for monitoring). */
  get threads(): readonly import('worker_threads').Worker[] {
    return this.readers.threads;
  }

  /** Waits for queued queries, then closes every connection and ends the threads. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.pendingKnn.size > 0) this.flushKnn(true); // calls made before close() are queued, not refused
    this.closed = true;
    await Promise.all([this.readers.close(), this.writer.close()]);
  }
}

function checkSql(where: string, sql: unknown): asserts sql is string {
  if (typeof sql !== 'string') {
    throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `${where}: expected sql to be a string, received ${sql === null ? 'null' : typeof sql}`);
  }
}

function makePiscina(config: WorkerConfig, threads: number): Piscina {
  // Loaded on first use: `require('vecsqlite')` stays quick for programs without a pool.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { Piscina: PiscinaClass } = require('piscina') as typeof import('piscina');
  const pool = new PiscinaClass({
    filename: workerFile(),
    workerData: config,
    minThreads: threads,
    maxThreads: threads,
    concurrentTasksPerWorker: 1,
    idleTimeout: 2 ** 31 - 1,
  });
  // A thread that fails while no task runs on it (a replacement starting after openPool gave
  // up on a file it cannot open, while the pool is being destroyed) is reported here; a task's
  // own failure reaches its caller. Without a listener the event would end the process.
  pool.on('error', () => {});
  return pool;
}

/**
 * Opens a pool on a database file: one writer (which switches the file to WAL) and `workers`
 * readers, each on its own worker thread with its own connection and vecsqlite loaded. Resolves
 * once every connection is open.
 * @example
 * const pool = await openPool('app.sqlite', { workers: 2 });
 * const { rowids, distances } = await pool.knn('items', new Float32Array(768), { k: 10 });
 * await pool.close();
 */
export async function openPool(file: string, options?: PoolOptions): Promise<Pool> {
  checkOptions('openPool', options, ['workers', 'busyTimeoutMs', 'batchKnn', 'workerNice']);
  const niceness = options?.workerNice ?? 5;
  if (!Number.isInteger(niceness) || niceness < 0 || niceness > 19) {
    throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `openPool: expected workerNice to be an integer from 0 to 19, received ${String(niceness)}`);
  }
  if (options?.batchKnn !== undefined && typeof options.batchKnn !== 'boolean') {
    throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `openPool: expected batchKnn to be a boolean, received ${typeof options.batchKnn}`);
  }
  if (typeof file !== 'string' || file.length === 0 || file === ':memory:') {
    throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `openPool: expected a database file path, received ${typeof file === 'string' ? JSON.stringify(file) : typeof file} (worker threads cannot share an in-memory database)`);
  }
  const workers = options?.workers ?? 2;
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
    throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `openPool: expected workers to be an integer from 1 to 256, received ${String(workers)}`);
  }
  const busyTimeoutMs = options?.busyTimeoutMs ?? 5000;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `openPool: expected busyTimeoutMs to be a non-negative integer, received ${String(busyTimeoutMs)}`);
  }
  try {
    require.resolve('better-sqlite3');
  } catch {
    throw new VecsqliteError('VECSQLITE_LOAD_FAILED', 'openPool: the pool runs better-sqlite3 connections, and better-sqlite3 is not installed (npm install better-sqlite3)');
  }
  const abs = path.resolve(file);
  const base = { file: abs, extensionPath: nativePath(), busyTimeoutMs, niceness };
  const writer = makePiscina({ ...base, role: 'write' }, 1);
  const opened = async (p: Piscina, n: number) => {
    const replies = (await Promise.all(Array.from({ length: n }, () => p.run({ op: 'ping' } satisfies Task)))) as Reply[];
    for (const r of replies) if (!r.ok) throw new Error(r.message);
  };
  try {
    await opened(writer, 1);
  } catch (e) {
    await writer.destroy();
    throw new VecsqliteError('VECSQLITE_LOAD_FAILED', `openPool: cannot open ${abs}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const readers = makePiscina({ ...base, role: 'read' }, workers);
  try {
    await opened(readers, workers);
  } catch (e) {
    await Promise.all([readers.destroy(), writer.destroy()]);
    throw new VecsqliteError('VECSQLITE_LOAD_FAILED', `openPool: cannot open ${abs} for reading: ${e instanceof Error ? e.message : String(e)}`);
  }
  return new Pool(abs, workers, readers, writer, options?.batchKnn ?? true);
}
