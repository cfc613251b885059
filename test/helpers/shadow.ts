// Comparing a vec0 table with sqlite-vec 0.1.9's: its shadow tables (blobs by digest) and the
// same statements run on both connections.
import { createHash } from 'crypto';
import { DB, msg } from './db';

// Blobs by SHA-256 (jest compares large Buffers element by element, far too slowly).
export const digest = (rows: any[]) =>
  rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) =>
    [k, Buffer.isBuffer(v) ? createHash('sha256').update(v).digest('hex') : v])));
export function shadowDump(db: DB, name = 't'): unknown {
  return {
    chunks: digest(db.prepare(`select chunk_id, size, validity, rowids from ${name}_chunks order by chunk_id`).all()),
    rowids: db.prepare(`select rowid, id, chunk_id, chunk_offset from ${name}_rowids order by rowid`).all(),
    vectors: digest(db.prepare(`select rowid, vectors from ${name}_vector_chunks00 order by rowid`).all()),
    info: db.prepare(`select key, value from ${name}_info where key not like 'vecsqlite%' order by key`).all(),
    seq: db.prepare('select name, seq from sqlite_sequence order by name').all(),
  };
}

/** Runs the same statements on both connections; both must fail alike or succeed alike. */
export function both(ours: DB, ref: DB, sql: string, ...params: unknown[]): void {
  const a = msg(() => ours.prepare(sql).run(...params));
  const b = msg(() => ref.prepare(sql).run(...params));
  expect({ sql, ours: a === 'no error' }).toEqual({ sql, ours: b === 'no error' });
}

