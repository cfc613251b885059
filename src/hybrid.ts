/**
 * Hybrid (keyword + vector) search: a typed wrapper over the `vec_hybrid` table-valued function,
 * and the FTS5 index that keeps a dataset-aware `vec` table's `content` searchable.
 */
import { VecsqliteError, checkOptions } from './errors';
import { describe } from './codec';

/** The subset of better-sqlite3's Database used here. */
export interface HybridDatabase {
  prepare(sql: string): { all(...params: unknown[]): unknown[]; run(...params: unknown[]): unknown };
  exec(sql: string): unknown;
}

export interface HybridOptions {
  /** 'rrf' (reciprocal rank fusion, default) or 'weighted' (min-max scaled scores). */
  fusion?: 'rrf' | 'weighted';
  /** RRF constant (default 60). */
  rrfK?: number;
  /** [text weight, vector weight]; default [1, 1] for rrf, [0.5, 0.5] for weighted. */
  weights?: [number, number];
  /** Rows taken from each side before fusion (default max(k, 50)). */
  candidates?: number;
  /** The dataset_id (required for a dataset-aware `vec` table). */
  dataset?: string;
  /** Equality filters on vec0 partition-key or metadata columns, applied to both sides. */
  filter?: Record<string, number | string | boolean>;
  /** The vec0 vector column (default: the first declared vector column). */
  column?: string;
}

export interface HybridHit {
  /** The vector table's rowid (`_vec_<t>.rowid` for a vec table). */
  rowid: number;
  /** vec0: the rowid; vec: the document id. */
  id: number | string;
  /** 1-based rank among the keyword candidates, or null. */
  textRank: number | null;
  /** -bm25 (higher is a better keyword match), or null. */
  textScore: number | null;
  /** 1-based rank among the vector candidates, or null. */
  vecRank: number | null;
  /** vec0: the table's distance; vec: 1 - cosine similarity; or null. */
  vecDistance: number | null;
  /** The fused score, highest first. */
  score: number;
}

/** Checked arguments of a hybrid search, as `vec_hybrid` takes them. @internal */
export interface HybridArgs {
  ftsTable: string;
  vecTable: string;
  text: string | null;
  vector: Float32Array | null;
  k: number;
  /** The options as vec_hybrid's JSON. */
  json: string;
}

/**
 * Checks the arguments of {@link hybridSearch} (also used by `Pool.hybridSearch`, which checks
 * them on the calling thread and runs the query on a reader). @internal
 * @throws VecsqliteError naming the bad argument or option.
 */
export function hybridArgs(ftsTable: string, vecTable: string, text: string | null, vector: Float32Array | null, k: number, options?: HybridOptions): HybridArgs {
  checkOptions('hybridSearch', options, ['fusion', 'rrfK', 'weights', 'candidates', 'dataset', 'filter', 'column']);
  for (const [name, v] of [['ftsTable', ftsTable], ['vecTable', vecTable]] as const) {
    if (typeof v !== 'string' || v === '') throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `hybridSearch: expected ${name} to be a table name, received ${describe(v)}`);
  }
  if (text !== null && typeof text !== 'string') throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `hybridSearch: expected text to be a string or null, received ${describe(text)}`);
  if (vector !== null && !(vector instanceof Float32Array)) throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `hybridSearch: expected vector to be a Float32Array or null, received ${describe(vector)}`);
  if (!Number.isInteger(k) || k < 1) throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `hybridSearch: expected k to be a positive integer, received ${describe(k)}`);
  const o = options ?? {};
  const json: Record<string, unknown> = {};
  if (o.fusion !== undefined) json.fusion = o.fusion;
  if (o.rrfK !== undefined) json.rrf_k = o.rrfK;
  if (o.weights !== undefined) json.weights = o.weights;
  if (o.candidates !== undefined) json.candidates = o.candidates;
  if (o.dataset !== undefined) json.dataset = o.dataset;
  if (o.filter !== undefined) json.filter = o.filter;
  if (o.column !== undefined) json.column = o.column;
  return { ftsTable, vecTable, text, vector, k, json: JSON.stringify(json) };
}

/** Runs a checked hybrid search on a connection. @internal */
export function runHybrid(db: HybridDatabase, a: HybridArgs): HybridHit[] {
  const v = a.vector;
  const rows = db.prepare(
    'select rowid, id, text_rank, text_score, vec_rank, vec_distance, score from vec_hybrid(?, ?, ?, ?, ?, ?)',
  ).all(a.ftsTable, a.vecTable, a.text, v === null ? null : Buffer.from(v.buffer, v.byteOffset, v.byteLength), a.k, a.json) as {
    rowid: number; id: number | string; text_rank: number | null; text_score: number | null; vec_rank: number | null; vec_distance: number | null; score: number;
  }[];
  return rows.map((r) => ({ rowid: r.rowid, id: r.id, textRank: r.text_rank, textScore: r.text_score, vecRank: r.vec_rank, vecDistance: r.vec_distance, score: r.score }));
}

/**
 * The fused top `k` of a keyword query on `ftsTable` and a vector query on `vecTable`.
 * `text` null / '' searches by vector only; `vector` null by keyword only.
 * @example hybridSearch(db, 'docs_fts', 'docs', 'deploy abap', queryVector, 10)
 * @throws VecsqliteError for bad arguments; SQLite's error (from vec_hybrid) for a bad table,
 *   FTS5 query or vector.
 */
export function hybridSearch(db: HybridDatabase, ftsTable: string, vecTable: string, text: string | null, vector: Float32Array | null, k: number, options?: HybridOptions): HybridHit[] {
  return runHybrid(db, hybridArgs(ftsTable, vecTable, text, vector, k, options));
}

const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The SQL that creates a per-dataset FTS5 index over a `vec` table's `content` (see {@link createTextIndex}). */
export function textIndexSql(vecTable: string, dataset: string, ftsTable = defaultTextIndexName(vecTable, dataset)): string {
  const data = `_vec_${vecTable}`;
  const f = quote(ftsTable);
  const d = literal(dataset);
  const trg = (s: string) => quote(`${ftsTable}_${s}`);
  return [
    `create virtual table if not exists ${f} using fts5(content, content=${literal(data)}, content_rowid='rowid');`,
    `create trigger if not exists ${trg('ai')} after insert on ${quote(data)} when new.dataset_id = ${d} begin`,
    `  insert into ${f}(rowid, content) values (new.rowid, new.content);`,
    'end;',
    `create trigger if not exists ${trg('ad')} after delete on ${quote(data)} when old.dataset_id = ${d} begin`,
    `  insert into ${f}(${f}, rowid, content) values ('delete', old.rowid, old.content);`,
    'end;',
    `create trigger if not exists ${trg('au')} after update of content, dataset_id on ${quote(data)} when old.dataset_id = ${d} or new.dataset_id = ${d} begin`,
    `  insert into ${f}(${f}, rowid, content) select 'delete', old.rowid, old.content where old.dataset_id = ${d};`,
    `  insert into ${f}(rowid, content) select new.rowid, new.content where new.dataset_id = ${d};`,
    'end;',
    // The rows already there (run once, right after creating the index).
    `insert into ${f}(rowid, content) select rowid, content from ${quote(data)} where dataset_id = ${d};`,
  ].join('\n');
}

/** `<vecTable>_fts_<dataset>` with characters other than letters, digits and _ replaced by _. */
export function defaultTextIndexName(vecTable: string, dataset: string): string {
  return `${vecTable}_fts_${dataset.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/**
 * Creates (if missing) an external-content FTS5 index over `_vec_<vecTable>.content` for one
 * dataset, with triggers that keep it in sync with inserts, updates and deletes of that dataset's
 * rows, and indexes the rows already there (when it creates the index; an existing one is left
 * as it is). Returns the FTS5 table's name, to pass to
 * {@link hybridSearch} with `{ dataset }`.
 */
export function createTextIndex(db: HybridDatabase, vecTable: string, dataset: string, ftsTable?: string): string {
  if (typeof vecTable !== 'string' || vecTable === '') throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `createTextIndex: expected vecTable to be a table name, received ${describe(vecTable)}`);
  if (typeof dataset !== 'string') throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `createTextIndex: expected dataset to be a string, received ${describe(dataset)}`);
  const name = ftsTable ?? defaultTextIndexName(vecTable, dataset);
  const exists = db.prepare("select 1 from sqlite_schema where type = 'table' and name = ?").all(name).length > 0;
  if (!exists) db.exec(textIndexSql(vecTable, dataset, name));
  return name;
}
