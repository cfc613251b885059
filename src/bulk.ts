/**
 * Bulk loading of float32 vectors into a `vec0` table (or any table with a vector BLOB column),
 * and writing / reading NumPy `.npy` arrays.
 *
 * {@link bulkInsert} validates everything first (shape, finite values, ids), then writes all rows
 * in one transaction (a savepoint inside an open transaction): either every row is inserted or
 * none is. Consecutive integer ids go through one `INSERT … SELECT … FROM vec_npy_each(?)`
 * statement; other ids through one prepared multi-row `INSERT` per batch.
 */
import { VecsqliteError, checkOptions } from './errors';
import { describe } from './codec';
import { binding, type NativeBinding } from './native';

/** The subset of better-sqlite3's Database that the bulk path uses. */
export interface BulkDatabase {
  prepare(sql: string): { run(...params: unknown[]): unknown; all(...params: unknown[]): unknown[]; get(...params: unknown[]): unknown };
  transaction(fn: () => void): () => unknown;
}

export type RowId = number | bigint | string;

export interface BulkInsertOptions {
  /** The vector column; default: the first `float[N]` column of the vec0 declaration. */
  column?: string;
  /** The id column; default `rowid` (use the primary-key column of a `text primary key` table). */
  idColumn?: string;
  /** Elements per vector, required for a flat Float32Array when the table's declaration cannot tell. */
  dims?: number;
  /** Rows per multi-row INSERT on the batched path (default 64). */
  batchSize?: number;
  /** Extra columns with one value per row (partition keys, metadata, auxiliary columns). */
  columns?: Record<string, readonly unknown[]>;
  /** Called after each batch with the rows written so far (for progress bars). */
  onProgress?: (done: number, total: number) => void;
}

export interface BulkInsertResult {
  rows: number;
  dims: number;
  /**
   * `rows` (INSERTs of whole chunks through `vec_rows()`: a table of one float vector column and
   * nothing else), `npy` (INSERT … SELECT from vec_npy_each) or `batched` (multi-row INSERTs).
   */
  path: 'rows' | 'npy' | 'batched';
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Vector columns declared by a vec0 table: `name float[N]`, `name int8[N]`, `name bit[N]`. */
export function vec0Columns(db: BulkDatabase, table: string): { name: string; type: string; dims: number }[] {
  const row = db.prepare('select sql from sqlite_schema where name = ? collate nocase').get(table) as { sql?: string } | undefined;
  if (!row || !row.sql) return [];
  const m = /using\s+vec0\s*\(([\s\S]*)\)\s*$/i.exec(row.sql);
  if (!m) return [];
  const out: { name: string; type: string; dims: number }[] = [];
  for (const part of m[1].split(',')) {
    const c = /^\s*["`[]?([^"`\]\s]+)["`\]]?\s+(float|f32|int8|i8|bit)\s*\[\s*(\d+)\s*\]/i.exec(part);
    if (c) out.push({ name: c[1], type: c[2].toLowerCase(), dims: Number(c[3]) });
  }
  return out;
}

function fail(msg: string): never {
  throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `bulkInsert: ${msg}`);
}

/** Index of the first NaN or ±Infinity in `v`, or -1 (the addon's SIMD check when it loads). */
export function firstNonFinite(v: Float32Array): number {
  const b = nativeOrNull();
  if (b !== null && v.length >= 64) return b.firstNonFinite(v);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x - x !== 0) return i; // NaN - NaN and Inf - Inf are NaN
  }
  return -1;
}

let native: NativeBinding | null | undefined;
function nativeOrNull(): NativeBinding | null {
  if (native === undefined) {
    try {
      native = binding();
    } catch {
      native = null;
    }
  }
  return native;
}

/**
 * Inserts `ids.length` vectors into `table` in one transaction.
 * @param ids one id per row (integers for rowid tables; strings for `text primary key` tables)
 * @param vectors one flat Float32Array of `ids.length × dims` elements, or one Float32Array per row
 * @example bulkInsert(db, 'docs', [1, 2], [new Float32Array([1, 0]), new Float32Array([0, 1])])
 * @throws VecsqliteError VECSQLITE_INVALID_ARGUMENT on a shape mismatch, a NaN or infinite element
 *   (naming the row), a bad id or an unknown column, before anything is written; SQLite's error if
 *   the insert itself fails (then nothing is written either).
 */
export function bulkInsert(db: BulkDatabase, table: string, ids: readonly RowId[], vectors: Float32Array | readonly Float32Array[], options?: BulkInsertOptions): BulkInsertResult {
  checkOptions('bulkInsert', options, ['column', 'idColumn', 'dims', 'batchSize', 'columns', 'onProgress']);
  if (typeof table !== 'string' || table === '') fail(`expected table to be a non-empty string, received ${describe(table)}`);
  if (!Array.isArray(ids)) fail(`expected ids to be an array, received ${describe(ids)}`);
  const n = ids.length;
  const declared = vec0Columns(db, table);
  const colName = options?.column ?? declared.find((c) => c.type === 'float' || c.type === 'f32')?.name;
  if (!colName) fail(`cannot tell the vector column of ${table}: pass options.column`);
  const decl = declared.find((c) => c.name.toLowerCase() === colName.toLowerCase());
  if (decl && decl.type !== 'float' && decl.type !== 'f32') fail(`column ${colName} is ${decl.type}[${decl.dims}]; bulkInsert writes float32 vectors`);

  // Shape.
  let dims: number;
  let flat: Float32Array | null = null;
  let rows: readonly Float32Array[] | null = null;
  if (vectors instanceof Float32Array) {
    dims = options?.dims ?? decl?.dims ?? (n > 0 ? vectors.length / n : 0);
    if (!Number.isInteger(dims) || dims <= 0 || vectors.length !== n * dims) {
      fail(`a flat Float32Array of ${vectors.length} elements does not hold ${n} vectors of ${dims} dimensions`);
    }
    flat = vectors;
  } else if (Array.isArray(vectors)) {
    if (vectors.length !== n) fail(`${n} ids but ${vectors.length} vectors`);
    dims = options?.dims ?? decl?.dims ?? (n > 0 && vectors[0] instanceof Float32Array ? vectors[0].length : 0);
    vectors.forEach((v, i) => {
      if (!(v instanceof Float32Array)) fail(`row ${i}: expected a Float32Array, received ${describe(v)}`);
      if (v.length !== dims) fail(`row ${i} (id ${String(ids[i])}): ${v.length} dimensions, expected ${dims}`);
    });
    rows = vectors;
  } else {
    fail(`expected vectors to be a Float32Array or an array of Float32Array, received ${describe(vectors)}`);
  }
  if (decl && dims !== decl.dims) fail(`vectors have ${dims} dimensions but ${table}.${colName} is float[${decl.dims}]`);

  // Values: finite elements, well-formed ids, extra columns of the right length.
  const row = (i: number): Float32Array => (flat ? flat.subarray(i * dims, (i + 1) * dims) : rows![i]);
  const badAt = (i: number, e: number) => fail(`row ${i} (id ${String(ids[i])}): element ${e} is ${Number.isNaN(row(i)[e]) ? 'NaN' : 'Infinity'}`);
  if (flat) {
    const bad = firstNonFinite(flat);
    if (bad >= 0) badAt(Math.floor(bad / dims), bad % dims);
  } else {
    for (let i = 0; i < n; i++) {
      const bad = firstNonFinite(row(i));
      if (bad >= 0) badAt(i, bad);
    }
  }
  const idColumn = options?.idColumn ?? 'rowid';
  let consecutive = n > 0 && idColumn === 'rowid';
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (typeof id === 'number' ? !Number.isSafeInteger(id) : typeof id === 'bigint' ? false : typeof id !== 'string') {
      fail(`id ${i} is ${describe(id)}, expected an integer${idColumn === 'rowid' ? '' : ' or a string'}`);
    }
    if (typeof id === 'string' && idColumn === 'rowid') fail(`id ${i} is a string; rowid tables take integer ids (pass options.idColumn for a text primary key)`);
    if (consecutive && i > 0 && BigInt(id as number | bigint) !== BigInt(ids[0] as number | bigint) + BigInt(i)) consecutive = false;
  }
  const extra = Object.entries(options?.columns ?? {});
  for (const [name, values] of extra) {
    if (!Array.isArray(values) || values.length !== n) fail(`options.columns.${name} must hold ${n} values`);
  }
  for (const name of [colName, idColumn, ...extra.map(([k]) => k)]) {
    if (!IDENT.test(name)) fail(`column name ${JSON.stringify(name)} is not a plain identifier`);
  }

  const batch = Math.max(1, Math.min(options?.batchSize ?? 64, Math.floor(32000 / (2 + extra.length))));
  const shape = vec0Shape(db, table);
  // vec_rows(): whole chunks at once, for a table of one float32 vector column and nothing else.
  const usesRows = consecutive && extra.length === 0 && shape !== null && shape.onlyVector && decl !== undefined && declared.length === 1;
  const usesNpy = consecutive && extra.length === 0 && !usesRows;
  const qt = quoteIdent(table);
  const progress = options?.onProgress;
  const write = db.transaction(() => {
    if (n === 0) return;
    if (usesRows) {
      // Calls of whole chunks, about ROWS_CALL_BYTES each: on a table whose last chunk is full
      // every call writes only whole chunks (and its last rows, if fewer than a chunk).
      const cs = shape!.chunkSize;
      const step = cs * Math.max(1, Math.floor(ROWS_CALL_BYTES / (cs * dims * 4)));
      const stmt = db.prepare(`insert into ${qt}(rowid, ${quoteIdent(colName)}) values (?, vec_rows(?))`);
      const first = BigInt(ids[0] as number | bigint);
      const one = flat ? null : Buffer.allocUnsafe(Math.min(step, n) * dims * 4);
      for (let s = 0; s < n; s += step) {
        const e = Math.min(n, s + step);
        let bytes: Buffer;
        if (flat) {
          bytes = Buffer.from(flat.buffer, flat.byteOffset + s * dims * 4, (e - s) * dims * 4);
        } else {
          for (let i = s; i < e; i++) one!.set(new Uint8Array(rows![i].buffer, rows![i].byteOffset, dims * 4), (i - s) * dims * 4);
          bytes = one!.subarray(0, (e - s) * dims * 4);
        }
        stmt.run(first + BigInt(s), bytes);
        progress?.(e, n);
      }
      return;
    }
    if (usesNpy) {
      // Statements of about 4 MiB of vectors through one reused .npy buffer: the memory an
      // import touches for the first time (page faults) costs more than the copies themselves.
      const step = Math.max(1, Math.floor(NPY_CHUNK_BYTES / (dims * 4)));
      const stmt = db.prepare(`insert into ${qt}(rowid, ${quoteIdent(colName)}) select rowid + ?, vector from vec_npy_each(?)`);
      const first = BigInt(ids[0] as number | bigint);
      let npy: Buffer | null = null;
      let headerLen = 0;
      for (let s = 0; s < n; s += step) {
        const e = Math.min(n, s + step);
        const count = e - s;
        if (npy === null || count !== step) {
          npy = encodeNpy(new Float32Array(0), 0, dims, count);
          headerLen = npy.length - count * dims * 4;
        }
        if (flat) {
          npy.set(new Uint8Array(flat.buffer, flat.byteOffset + s * dims * 4, count * dims * 4), headerLen);
        } else {
          for (let i = s; i < e; i++) npy.set(new Uint8Array(rows![i].buffer, rows![i].byteOffset, dims * 4), headerLen + (i - s) * dims * 4);
        }
        stmt.run(first + BigInt(s), npy);
        progress?.(e, n);
      }
      return;
    }
    const cols = [idColumn, colName, ...extra.map(([k]) => k)].map(quoteIdent).join(', ');
    const tuple = `(${['?', '?', ...extra.map(() => '?')].join(', ')})`;
    const sqlFor = (m: number) => `insert into ${qt}(${cols}) values ${Array(m).fill(tuple).join(', ')}`;
    const full = db.prepare(sqlFor(batch));
    const params: unknown[] = [];
    const push = (i: number) => {
      const v = row(i);
      params.push(ids[i], Buffer.from(v.buffer, v.byteOffset, v.byteLength));
      for (const [, values] of extra) params.push(values[i]);
    };
    let i = 0;
    for (; i + batch <= n; i += batch) {
      params.length = 0;
      for (let j = i; j < i + batch; j++) push(j);
      runRows(full, params, i, batch, ids);
      if (progress && (i / batch) % 64 === 63) progress(i + batch, n);
    }
    if (i < n) {
      params.length = 0;
      for (let j = i; j < n; j++) push(j);
      runRows(db.prepare(sqlFor(n - i)), params, i, n - i, ids);
    }
    progress?.(n, n);
  });
  write();
  return { rows: n, dims, path: usesRows ? 'rows' : usesNpy ? 'npy' : 'batched' };
}

function runRows(stmt: { run(...p: unknown[]): unknown }, params: unknown[], first: number, count: number, ids: readonly RowId[]): void {
  try {
    stmt.run(...params);
  } catch (e) {
    const err = e as Error;
    err.message = `${err.message} (in rows ${first}..${first + count - 1}, ids ${String(ids[first])}..${String(ids[first + count - 1])})`;
    throw err;
  }
}

const NPY_CHUNK_BYTES = 4 << 20;
const ROWS_CALL_BYTES = 4 << 20;

/**
 * What bulkInsert needs to know of a vec0 declaration: its chunk size, and whether its only
 * column is one vector column (no partition key, metadata, auxiliary column, text primary key or
 * graph index). Null when `table` is not a vec0 table.
 */
function vec0Shape(db: BulkDatabase, table: string): { chunkSize: number; onlyVector: boolean } | null {
  const row = db.prepare('select sql from sqlite_schema where name = ? collate nocase').get(table) as { sql?: string } | undefined;
  const m = row?.sql ? /using\s+vec0\s*\(([\s\S]*)\)\s*$/i.exec(row.sql) : null;
  if (!m) return null;
  let chunkSize = 1024;
  let columns = 0;
  let plain = true;
  for (const part of m[1].split(',')) {
    const opt = /^\s*(\w+)\s*=\s*(\S+)\s*$/.exec(part);
    if (opt) {
      if (opt[1].toLowerCase() === 'chunk_size') chunkSize = Number(opt[2]);
      continue;
    }
    columns++;
    if (!/^\s*["`[]?[^"`\]\s]+["`\]]?\s+(float|f32)\s*\[\s*\d+\s*\]\s*(distance_metric\s*=\s*\w+\s*)?$/i.test(part)) plain = false;
  }
  return { chunkSize: Number.isInteger(chunkSize) && chunkSize > 0 ? chunkSize : 1024, onlyVector: plain && columns === 1 };
}

// ---- .npy -------------------------------------------------------------------------------------

/**
 * A NumPy `.npy` file (format 1.0, dtype `<f4`, C order) holding `rows × dims` float32 values:
 * what `vec_npy_each(?)` reads and `numpy.load` opens.
 */
export function encodeNpy(data: Float32Array, rows: number, dims: number, reserveRows?: number): Buffer {
  // reserveRows (internal): allocate room for that many rows of (unfilled) data instead of `data`.
  if (reserveRows !== undefined) rows = reserveRows;
  else if (data.length !== rows * dims) throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `encodeNpy: ${data.length} elements are not ${rows} x ${dims}`);
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${dims}), }`;
  // magic(6) + version(2) + length(2) + dict + padding + '\n' is a multiple of 64
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - 10 - 1, ' ') + '\n';
  const out = Buffer.allocUnsafe(total + rows * dims * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  out.writeUInt16LE(dict.length, 8);
  out.write(dict, 10, 'latin1');
  if (reserveRows === undefined) Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, total);
  return out;
}

export interface NpyArray {
  rows: number;
  dims: number;
  data: Float32Array;
}

/**
 * Parses a float32 `.npy` file (versions 1–3, `<f4`, C order, 1 or 2 dimensions).
 * @param name used in error messages (e.g. the file name)
 * @throws VecsqliteError VECSQLITE_INVALID_BLOB naming the problem: too short, no magic, another
 *   dtype, Fortran order, a truncated or over-long data section.
 */
export function decodeNpy(buf: Uint8Array, name = 'numpy array'): NpyArray {
  const bad = (msg: string): never => {
    throw new VecsqliteError('VECSQLITE_INVALID_BLOB', `${name}: ${msg}`);
  };
  if (buf.length < 10) bad(`too short for a .npy file (${buf.length} bytes)`);
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (!magic.every((b, i) => buf[i] === b)) bad("not a .npy file (no '\\x93NUMPY' magic header)");
  const major = buf[6];
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let hlen: number, prefix: number;
  if (major === 1) {
    hlen = view.readUInt16LE(8);
    prefix = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) bad('truncated header');
    hlen = view.readUInt32LE(8);
    prefix = 12;
  } else {
    return bad(`unsupported .npy format version ${major}`);
  }
  if (prefix + hlen > buf.length) bad(`truncated header (needs ${prefix + hlen} bytes, the file has ${buf.length})`);
  const header = view.toString('latin1', prefix, prefix + hlen);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header);
  if (!descr) bad('header has no descr');
  if (descr![1] !== '<f4') bad(`dtype '${descr![1]}' is not supported (only float32, '<f4')`);
  if (/'fortran_order'\s*:\s*True/.test(header)) bad('Fortran-order arrays are not supported');
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!shape) bad('header has no shape');
  const dimsList = shape![1].split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (dimsList.some((d) => !Number.isSafeInteger(d) || d < 0)) bad(`bad shape (${shape![1]})`);
  let rows: number, dims: number;
  if (dimsList.length === 2) [rows, dims] = dimsList;
  else if (dimsList.length === 1) [rows, dims] = [dimsList[0] ? 1 : 0, dimsList[0]];
  else return bad(`only 1- or 2-dimensional arrays are supported, shape is (${shape![1]})`);
  const offset = prefix + hlen;
  const expected = rows * dims * 4;
  const found = buf.length - offset;
  if (found < expected) {
    const whole = Math.floor(found / (dims * 4 || 1));
    bad(`truncated: shape (${rows}, ${dims}) needs ${expected} data bytes, the file has ${found} (row ${whole} is incomplete)`);
  }
  if (found > expected) bad(`${found - expected} bytes after the (${rows}, ${dims}) array`);
  // Copy to an aligned buffer (the data offset need not be a multiple of 4).
  const data = new Float32Array(rows * dims);
  new Uint8Array(data.buffer).set(buf.subarray(offset, offset + expected));
  return { rows, dims, data };
}
