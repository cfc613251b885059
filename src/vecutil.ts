/**
 * vecutil: text-first helpers over a `vec` table, for
 * better-sqlite3 connections with vecsqlite loaded. Unlike the original, table names are
 * quoted (never interpolated raw), scores come from `match_score` (no recomputation, no N+1
 * queries) and the id column is read from the table instead of being hard-coded.
 */
import { encodeEmbedding } from './codec';
import { VecsqliteError } from './errors';

/** Text → embedding (sync or async). */
export type EmbedFunc = (text: string) => Float32Array | number[] | Promise<Float32Array | number[]>;

/** Minimal better-sqlite3 surface used here. */
export interface VecDatabase {
  prepare(sql: string): { run(...args: unknown[]): unknown; all(...args: unknown[]): unknown[] };
}

export interface ShadowDocument {
  datasetId: string;
  id: string;
  content?: string | null;
  meta?: string | Record<string, unknown> | null;
}

export interface MatchOptions {
  /** At most this many results (default: all). */
  limit?: number;
  /** Only results with match_score >= minScore. */
  minScore?: number;
}

export interface TextMatch {
  id: string;
  score: number;
  content: string | null;
  meta: string | null;
}

function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

function checkName(where: string, what: string, v: unknown): asserts v is string {
  if (typeof v !== 'string' || v.length === 0) {
    throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `${where}: expected ${what} to be a non-empty string, received ${typeof v === 'string' ? '""' : typeof v}`);
  }
}

/** `_vec_<vtab>`: the data table of a `vec` table. */
export function shadowTableName(vtab: string): string {
  return `_vec_${vtab}`;
}

async function embedText(where: string, embed: EmbedFunc, text: string): Promise<Buffer | null> {
  if (typeof embed !== 'function') throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `${where}: EmbedFunc is not a function`);
  const v = await embed(text);
  if (!(v instanceof Float32Array) && !Array.isArray(v)) {
    throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `${where}: EmbedFunc must return a Float32Array or number[]`);
  }
  return v.length === 0 ? null : encodeEmbedding(v);
}

/**
 * Embeds `doc.content` and upserts the row into the data table of `vtab` (`_vec_<vtab>`),
 * keyed by (dataset_id, id). An empty embedding is stored as NULL (not searchable).
 * @example await upsertShadowDocument(db, 'vec_docs', { datasetId: 'rootA', id: 'd1', content: 'hello' }, embed)
 */
export async function upsertShadowDocument(db: VecDatabase, vtab: string, doc: ShadowDocument, embed: EmbedFunc): Promise<void> {
  if (db === null || typeof db !== 'object') throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', 'upsertShadowDocument: db is nil');
  checkName('upsertShadowDocument', 'table', vtab);
  checkName('upsertShadowDocument', 'doc.datasetId', doc?.datasetId);
  checkName('upsertShadowDocument', 'doc.id', doc.id);
  const blob = await embedText('upsertShadowDocument', embed, doc.content ?? '');
  const meta = doc.meta == null ? null : typeof doc.meta === 'string' ? doc.meta : JSON.stringify(doc.meta);
  db.prepare(`INSERT INTO ${quoteIdent(shadowTableName(vtab))}(dataset_id, id, content, meta, embedding) VALUES (?,?,?,?,?)
    ON CONFLICT(dataset_id, id) DO UPDATE SET content = excluded.content, meta = excluded.meta, embedding = excluded.embedding`)
    .run(doc.datasetId, doc.id, doc.content ?? null, meta, blob);
}

/**
 * Embeds `text` and returns the nearest documents of `dataset`, best first, with their
 * match_score (cosine similarity), content and meta.
 */
export async function matchText(db: VecDatabase, vtab: string, dataset: string, text: string, embed: EmbedFunc,
  options: MatchOptions = {}): Promise<TextMatch[]> {
  if (db === null || typeof db !== 'object') throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', 'matchText: db is nil');
  checkName('matchText', 'table', vtab);
  checkName('matchText', 'dataset', dataset);
  const q = await embedText('matchText', embed, text);
  if (q === null) return [];
  const cols = db.prepare(`SELECT name FROM pragma_table_info(?)`).all(vtab) as { name: string }[];
  if (cols.length < 2) throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `matchText: no vec table named ${vtab}`);
  const idcol = quoteIdent(cols[1].name);
  const args: unknown[] = [dataset, q];
  let sql = `SELECT v.${idcol} AS id, v.match_score AS score, s.content AS content, s.meta AS meta
    FROM ${quoteIdent(vtab)} v JOIN ${quoteIdent(shadowTableName(vtab))} s ON s.rowid = v.rowid
    WHERE v.dataset_id = ? AND v.${idcol} MATCH ?`;
  if (options.minScore !== undefined) { sql += ' AND v.match_score >= ?'; args.push(options.minScore); }
  sql += ' ORDER BY v.match_score DESC';
  if (options.limit !== undefined && options.limit > 0) { sql += ' LIMIT ?'; args.push(Math.floor(options.limit)); }
  return db.prepare(sql).all(...args) as TextMatch[];
}
