// Random upstream workloads for the vecsync tests, and a row-by-row comparison of replicas.
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { rng } from './db';

export interface Doc {
  dataset_id: string;
  id: string;
  content: string | null;
  meta: string | null;
  embedding: Buffer | null;
  embedding_model: string | null;
  scn: number;
  archived: number;
}

export type Write =
  | { kind: 'insert'; doc: Doc }
  | { kind: 'update'; ds: string; id: string; content: string; embedding: Buffer | null }
  | { kind: 'archive'; ds: string; id: string; archived: number }
  | { kind: 'move'; ds: string; id: string; to: string }
  | { kind: 'delete'; ds: string; id: string };

function vec(r: () => number, dim: number): Buffer {
  const b = Buffer.alloc(dim * 4);
  for (let i = 0; i < dim; i++) b.writeFloatLE(Math.fround(r() * 2 - 1), i * 4);
  return b;
}

/** A generator of valid writes against a model of the upstream table. */
export function workload(seed: number, datasets = ['A', 'B', 'C'], dim = 8) {
  const r = rng(seed);
  const live = new Map<string, { ds: string; id: string }>();
  let counter = 0;
  const pick = () => [...live.values()][Math.floor(r() * live.size)];
  return function next(): Write {
    const roll = r();
    if (live.size < 5 || roll < 0.4) {
      const ds = datasets[Math.floor(r() * datasets.length)];
      const id = `doc-${seed}-${counter++}`;
      live.set(`${ds}\u0000${id}`, { ds, id });
      return { kind: 'insert', doc: { dataset_id: ds, id, content: `text ${id}`, meta: r() < 0.5 ? JSON.stringify({ n: counter }) : null, embedding: r() < 0.1 ? null : vec(r, dim), embedding_model: 'mini', scn: counter, archived: 0 } };
    }
    const d = pick();
    if (roll < 0.6) return { kind: 'update', ds: d.ds, id: d.id, content: `edited ${counter++}`, embedding: vec(r, dim) };
    if (roll < 0.72) return { kind: 'archive', ds: d.ds, id: d.id, archived: r() < 0.5 ? 1 : 0 };
    if (roll < 0.82) {
      const to = datasets.filter((x) => x !== d.ds)[Math.floor(r() * (datasets.length - 1))];
      if (live.has(`${to}\u0000${d.id}`)) return { kind: 'archive', ds: d.ds, id: d.id, archived: 1 };
      live.delete(`${d.ds}\u0000${d.id}`);
      live.set(`${to}\u0000${d.id}`, { ds: to, id: d.id });
      return { kind: 'move', ds: d.ds, id: d.id, to };
    }
    live.delete(`${d.ds}\u0000${d.id}`);
    return { kind: 'delete', ds: d.ds, id: d.id };
  };
}

/** The SQL of a write, with `?` parameters, for a table name already quoted by the caller. */
export function writeSql(w: Write, table: string): [string, unknown[]] {
  switch (w.kind) {
    case 'insert': {
      const d = w.doc;
      return [`INSERT INTO ${table}(dataset_id, id, content, meta, embedding, embedding_model, scn, archived) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, [d.dataset_id, d.id, d.content, d.meta, d.embedding, d.embedding_model, d.scn, d.archived]];
    }
    case 'update': return [`UPDATE ${table} SET content = ?, embedding = ? WHERE dataset_id = ? AND id = ?`, [w.content, w.embedding, w.ds, w.id]];
    case 'archive': return [`UPDATE ${table} SET archived = ? WHERE dataset_id = ? AND id = ?`, [w.archived, w.ds, w.id]];
    case 'move': return [`UPDATE ${table} SET dataset_id = ? WHERE dataset_id = ? AND id = ?`, [w.to, w.ds, w.id]];
    case 'delete': return [`DELETE FROM ${table} WHERE dataset_id = ? AND id = ?`, [w.ds, w.id]];
  }
}

export function normalise(rows: Record<string, unknown>[]): string[] {
  return rows.map((r) => JSON.stringify([r.dataset_id, r.id, r.content ?? null, r.meta ?? null,
    r.embedding == null ? null : Buffer.from(r.embedding as Buffer).toString('hex'), r.embedding_model ?? null, Number(r.scn), Number(r.archived)])).sort();
}

export function localRows(db: SqliteDatabase, table: string): string[] {
  return normalise(db.prepare(`SELECT * FROM "${table}"`).all() as Record<string, unknown>[]);
}
