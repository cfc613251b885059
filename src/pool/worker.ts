/**
 * The body of one pool worker thread: one better-sqlite3 connection with vecsqlite loaded,
 * opened read-only (readers) or read-write in WAL mode (the one writer). Statements are
 * prepared once per SQL text and kept.
 */
import Database from 'better-sqlite3';
import * as os from 'os';
import { workerData } from 'worker_threads';
import { Piscina } from 'piscina';
import { runHybrid } from '../hybrid';
import { splitBatch } from '../batch';
import type { Reply, Task, WorkerConfig } from './protocol';

const config = workerData as WorkerConfig;

// Worker threads run below the main thread's priority (Linux: nice applies per thread, and the
// search threads a query starts inherit it), so that on a busy machine the event loop gets a
// core as soon as it has work instead of waiting for a scan's time slice.
if (config.niceness !== 0) {
  try {
    os.setPriority(0, Math.min(19, os.getPriority(0) + config.niceness));
  } catch {
    // not permitted or not supported: run at the process's priority
  }
}

const db = new Database(config.file, { readonly: config.role === 'read', fileMustExist: config.role === 'read' });
db.pragma(`busy_timeout = ${config.busyTimeoutMs | 0}`);
if (config.role === 'write') db.pragma('journal_mode = wal');
(db.loadExtension as (file: string, entry?: string) => void)(config.extensionPath, 'sqlite3_vecsqlite_init');
db.defaultSafeIntegers(false);

const statements = new Map<string, Database.Statement>();
const MAX_STATEMENTS = 256;

function prepare(sql: string): Database.Statement {
  let st = statements.get(sql);
  if (st === undefined) {
    st = db.prepare(sql);
    if (statements.size >= MAX_STATEMENTS) statements.delete(statements.keys().next().value as string);
    statements.set(sql, st);
  }
  return st;
}

/** Typed arrays arrive as plain views after structured cloning; SQLite binds Buffers as BLOBs. */
function bindable(v: unknown): unknown {
  if (ArrayBuffer.isView(v) && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  return v;
}

function bindAll(params: unknown): unknown[] {
  if (params === undefined || params === null) return [];
  if (Array.isArray(params)) return [params.map(bindable)];
  if (typeof params === 'object' && !ArrayBuffer.isView(params)) {
    const named: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(params as Record<string, unknown>)) named[k] = bindable(v);
    return [named];
  }
  return [bindable(params)];
}

const vectorColumns = new Map<string, string>();

/** The first vector column (`name float[N]`, `int8[N]`, `bit[N]`) of a vec0 table's declaration. */
function vectorColumn(table: string): string {
  let col = vectorColumns.get(table);
  if (col === undefined) {
    const row = db.prepare("select sql from sqlite_schema where type = 'table' and name = ?").get(table) as { sql?: string } | undefined;
    if (row === undefined || typeof row.sql !== 'string') throw new Error(`no such table: ${table}`);
    const m = /using\s+vec0\s*\(([\s\S]*)\)\s*$/i.exec(row.sql);
    const decl = m === null ? undefined : /(?:^|,)\s*["`[]?(\w+)["`\]]?\s+(?:float|f32|int8|i8|bit)\s*\[/i.exec(m[1]);
    if (decl === undefined || decl === null) throw new Error(`knn: ${table} is not a vec0 table with a vector column`);
    col = decl[1];
    vectorColumns.set(table, col);
  }
  return col;
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function knn(t: Extract<Task, { op: 'knn' }>): { rowids: Float64Array; distances: Float64Array } {
  const column = t.column ?? vectorColumn(t.table);
  const where = t.filter ? ` and (${t.filter})` : '';
  const sql = `select rowid, distance from ${quoteIdent(t.table)} where ${quoteIdent(column)} match ? and k = ?${where} order by distance`;
  const vector = Array.isArray(t.vector) ? JSON.stringify(t.vector) : bindable(t.vector);
  const extra = t.params === undefined ? [] : Array.isArray(t.params) ? t.params.map(bindable) : [bindable(t.params)];
  const st = prepare(sql).raw(true);
  const rows = st.all(vector, t.k, ...extra) as [number | bigint, number][];
  st.raw(false);
  const rowids = new Float64Array(rows.length);
  const distances = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    rowids[i] = Number(rows[i][0]);
    distances[i] = rows[i][1];
  }
  return { rowids, distances };
}

/** The element type of a vec0 table's vector column (`float`, `int8`, `bit`), or undefined. */
function columnType(table: string, column: string): string | undefined {
  const row = db.prepare("select sql from sqlite_schema where type = 'table' and name = ?").get(table) as { sql?: string } | undefined;
  const m = row?.sql === undefined ? null : /using\s+vec0\s*\(([\s\S]*)\)\s*$/i.exec(row.sql);
  if (m === null) return undefined;
  for (const part of m[1].split(',')) {
    const c = /^\s*["`[]?(\w+)["`\]]?\s+(float|f32|int8|i8|bit)\s*\[/i.exec(part);
    if (c !== null && c[1].toLowerCase() === column.toLowerCase()) return c[2].toLowerCase() === 'f32' ? 'float' : c[2].toLowerCase();
  }
  return undefined;
}

// Several knn calls at once: one vec_knn_batch over a float32 column; one query at a time when
// the column is of another type or the batch fails (then each call gets its own rows or error).
function knnMany(t: Extract<Task, { op: 'knnMany' }>): unknown[] {
  const single = (v: Float32Array) => {
    try {
      return { ok: true, value: knn({ op: 'knn', table: t.table, vector: v, k: t.k, column: t.column }) };
    } catch (e) {
      const err = e as { message?: string; code?: string };
      return { ok: false, message: String(err.message ?? e), code: typeof err.code === 'string' ? err.code : undefined };
    }
  };
  let column: string;
  try {
    column = t.column ?? vectorColumn(t.table);
  } catch {
    return t.vectors.map(single);
  }
  if (columnType(t.table, column) === 'float') {
    const d = t.vectors[0].length;
    const blob = Buffer.allocUnsafe(t.vectors.length * d * 4);
    t.vectors.forEach((v, i) => blob.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), i * d * 4));
    try {
      const st = prepare('select query, rowid, distance from vec_knn_batch(?, ?, ?, ?)').raw(true);
      const rows = st.all(t.table, blob, t.k, column) as [number | bigint, number | bigint, number][];
      st.raw(false);
      return splitBatch(rows, t.vectors.length).map((value) => ({ ok: true, value }));
    } catch {
      // fall through: one at a time, each with its own error
    }
  }
  return t.vectors.map(single);
}

function execute(task: Task): unknown {
  switch (task.op) {
    case 'all':
      return prepare(task.sql).all(...bindAll(task.params));
    case 'get':
      return prepare(task.sql).get(...bindAll(task.params));
    case 'run': {
      const r = prepare(task.sql).run(...bindAll(task.params));
      return { changes: r.changes, lastInsertRowid: r.lastInsertRowid };
    }
    case 'exec':
      db.exec(task.sql);
      statements.clear();
      vectorColumns.clear();
      return undefined;
    case 'knn':
      return knn(task);
    case 'hybrid':
      return runHybrid(db, task.args);
    case 'knnMany':
      return knnMany(task);
    case 'knnBatch': {
      const sql = `select query, rowid, distance from vec_knn_batch(?, ?, ?${task.column !== undefined ? ', ?' : ''})`;
      const blob = Buffer.from(task.blob.buffer, task.blob.byteOffset, task.blob.byteLength);
      const args: unknown[] = [task.table, blob, task.k];
      if (task.column !== undefined) args.push(task.column);
      const st = prepare(sql).raw(true);
      const rows = st.all(...args) as [number | bigint, number | bigint, number][];
      st.raw(false);
      return splitBatch(rows, task.count);
    }
    case 'ping':
      return config.role;
    default:
      throw new Error(`pool worker: unknown operation ${(task as { op: string }).op}`);
  }
}

export default function handle(task: Task): Reply | unknown {
  try {
    const value = execute(task);
    const reply: Reply = { ok: true, value };
    if (task.op === 'knnBatch') {
      const r = value as { rowids: Float64Array; distances: Float64Array }[];
      const buffers = r.flatMap((x) => [x.rowids.buffer, x.distances.buffer]);
      const movable = { [Piscina.transferableSymbol]: buffers, [Piscina.valueSymbol]: reply };
      return Piscina.move(movable as never);
    }
    if (task.op === 'knn') {
      // Moved, not copied: the result's buffers change owner on the way back.
      const r = value as { rowids: Float64Array; distances: Float64Array };
      const movable = { [Piscina.transferableSymbol]: [r.rowids.buffer, r.distances.buffer], [Piscina.valueSymbol]: reply };
      return Piscina.move(movable as never);
    }
    return reply;
  } catch (e) {
    const err = e as { message?: string; code?: string };
    return { ok: false, message: String(err.message ?? e), code: typeof err.code === 'string' ? err.code : undefined } satisfies Reply;
  }
}
module.exports = handle;
