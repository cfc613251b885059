// The dataset-aware `vec` table shares each dataset's rows between the connections of a process
// that see it at the same token (vec_stats(): vec_data_adopted counts datasets taken from
// another connection, vec_data_copies shared data a connection copied to apply its own writes).
// Answers are checked against a brute force over the data table and against a connection on a
// copy of the file (another file: it builds its own).
import * as path from 'path';
import { copyOfFile, f32blob, openDb, tempDir, DB } from './helpers/db';

const stats = (db: DB) => JSON.parse(db.prepare('select vec_stats()').pluck().get() as string);
const DIM = 24;
const vec = (i: number) => Array.from({ length: DIM }, (_, k) => Math.sin(i * 0.77 + k * 0.41) + (k === i % DIM ? 1 : 0));
const QUERIES = [vec(3.5), vec(101.25), vec(999.5)];

function makeFile(n: number, extra = ''): string {
  const file = path.join(tempDir(), 'v.db');
  const db = openDb(file);
  db.pragma('journal_mode = wal');
  db.exec(`create virtual table t using vec(doc_id${extra})`);
  const ins = db.prepare('insert into _vec_t(dataset_id, id, embedding) values (?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= n; i++) ins.run(i % 2 ? 'A' : 'B', `d${i}`, f32blob(vec(i)));
  })();
  db.close();
  return file;
}

const match = (db: DB, ds: string, q: number[], k = 10) =>
  db.prepare('select doc_id, round(match_score, 6) as s from t where dataset_id = ? and doc_id match ? limit ?').all(ds, f32blob(q), k);
const view = (db: DB, ds: string) => QUERIES.map((q) => match(db, ds, q));

/** Cosine top-10 ids of dataset ds from the data table itself. */
function brute(db: DB, ds: string, q: number[]): string[] {
  const rows = db.prepare('select id, embedding from _vec_t where dataset_id = ?').all(ds) as { id: string; embedding: Buffer }[];
  const qn = Math.hypot(...q);
  return rows
    .map((r) => {
      const v = new Float32Array(r.embedding.buffer, r.embedding.byteOffset, DIM);
      let dot = 0;
      for (let i = 0; i < DIM; i++) dot += v[i] * q[i];
      return { id: r.id, s: dot / (Math.hypot(...v) * qn) };
    })
    .sort((a, b) => b.s - a.s)
    .slice(0, 10)
    .map((x) => x.id);
}

const copyOf = (file: string): DB => openDb(copyOfFile(file));

test('a second connection takes the first one\'s dataset: no build, the same answers', () => {
  const file = makeFile(3000);
  const a = openDb(file);
  const s0 = stats(a);
  const va = view(a, 'A');
  const s1 = stats(a);
  expect(s1.full_builds + s1.blob_loads - s0.full_builds - s0.blob_loads).toBe(1);
  const b = openDb(file);
  expect(view(b, 'A')).toEqual(va);
  const s2 = stats(a);
  expect(s2.full_builds + s2.blob_loads).toBe(s1.full_builds + s1.blob_loads);
  expect(s2.vec_data_adopted - s1.vec_data_adopted).toBe(1);
  for (const [i, q] of QUERIES.entries()) expect((va[i] as any[]).map((r) => r.doc_id)).toEqual(brute(a, 'A', q));
  const c = copyOf(file);
  expect(view(c, 'A')).toEqual(va);
  for (const db of [a, b, c]) db.close();
});

test('a commit by another connection: one reader reloads the dataset, the next takes it; other datasets stay shared', () => {
  const file = makeFile(2000);
  const [r1, r2, w] = [openDb(file), openDb(file), openDb(file)];
  const bBefore = view(r1, 'B');
  view(r1, 'A');
  view(r2, 'A');
  expect(view(r2, 'B')).toEqual(bBefore);
  w.prepare("insert into _vec_t(dataset_id, id, embedding) values ('A', 'new', ?)").run(f32blob(QUERIES[0]));
  w.prepare("delete from _vec_t where id = 'd1'").run();
  const s0 = stats(r1);
  const v1 = view(r1, 'A');
  const s1 = stats(r1);
  expect(s1.full_builds + s1.blob_loads - s0.full_builds - s0.blob_loads).toBe(1);
  expect((v1[0] as any[])[0].doc_id).toBe('new');
  expect(view(r2, 'A')).toEqual(v1);
  const s2 = stats(r1);
  expect(s2.full_builds + s2.blob_loads).toBe(s1.full_builds + s1.blob_loads);
  expect(s2.vec_data_adopted - s1.vec_data_adopted).toBe(1);
  expect(view(r2, 'B')).toEqual(bBefore); // B's token did not move
  expect(stats(r1).full_builds + stats(r1).blob_loads).toBe(s2.full_builds + s2.blob_loads);
  for (const [i, q] of QUERIES.entries()) expect((v1[i] as any[]).map((r) => r.doc_id)).toEqual(brute(w, 'A', q));
  const c = copyOf(file);
  expect(view(c, 'A')).toEqual(v1);
  for (const db of [r1, r2, w, c]) db.close();
});

test('a connection applying its own writes to shared data copies it; the others see the rows once committed', () => {
  const file = makeFile(1000);
  const [a, b] = [openDb(file), openDb(file)];
  const before = view(a, 'A');
  expect(view(b, 'A')).toEqual(before);
  const s0 = stats(a);
  a.exec('begin');
  a.prepare("insert into _vec_t(dataset_id, id, embedding) values ('A', 'mine', ?)").run(f32blob(QUERIES[1]));
  expect((match(a, 'A', QUERIES[1]) as any[])[0].doc_id).toBe('mine'); // applied to a's own copy
  expect(stats(a).vec_data_copies - s0.vec_data_copies).toBe(1);
  expect(view(b, 'A')).toEqual(before); // not committed
  a.exec('commit');
  const s1 = stats(a);
  const after = view(b, 'A'); // b takes the data a published at the committed token
  expect(stats(a).vec_data_adopted - s1.vec_data_adopted).toBe(1);
  expect(stats(a).full_builds + stats(a).blob_loads).toBe(s1.full_builds + s1.blob_loads);
  expect(after).toEqual(view(a, 'A'));
  const c = copyOf(file);
  expect(view(c, 'A')).toEqual(after);
  a.exec('begin');
  a.prepare("insert into _vec_t(dataset_id, id, embedding) values ('A', 'gone', ?)").run(f32blob(QUERIES[2]));
  expect((match(a, 'A', QUERIES[2]) as any[])[0].doc_id).toBe('gone');
  a.exec('rollback');
  expect(view(a, 'A')).toEqual(after);
  expect(view(b, 'A')).toEqual(after);
  for (const db of [a, b, c]) db.close();
});

test('vec_invalidate with the triggers in place keeps the shared copies: the token proves them current', () => {
  const file = makeFile(500);
  const [a, b] = [openDb(file), openDb(file)];
  const before = view(a, 'A');
  expect(view(b, 'A')).toEqual(before);
  expect(a.prepare("select vec_invalidate('main._vec_t', 'A')").pluck().get()).toBe(2);
  const s0 = stats(a);
  expect(view(a, 'A')).toEqual(before);
  expect(view(b, 'A')).toEqual(before);
  const s1 = stats(a);
  expect(s1.full_builds + s1.blob_loads).toBe(s0.full_builds + s0.blob_loads);
  expect(s1.vec_data_copies).toBe(s0.vec_data_copies);
  for (const db of [a, b]) db.close();
});

test('vec_admin reindex drops the shared copies of the dataset', () => {
  const file = makeFile(400);
  const [a, b] = [openDb(file), openDb(file)];
  view(a, 'A');
  view(b, 'A');
  a.exec('create virtual table if not exists vec_admin using vec_admin(op)');
  expect(a.prepare("select op from vec_admin where op match 'main._vec_t:A'").pluck().all()).toEqual(['reindexed:200']);
  const s0 = stats(a);
  const c = openDb(file);
  view(c, 'A');
  expect(stats(a).vec_data_adopted).toBe(s0.vec_data_adopted); // the old copy is no longer offered
  expect(view(a, 'A')).toEqual(view(c, 'A'));
  for (const db of [a, b, c]) db.close();
});

test('index=hnsw: the dataset\'s graph is shared with its rows', () => {
  const file = makeFile(4000, ', index=hnsw, ann=always');
  const a = openDb(file);
  const graph = (db: DB) => QUERIES.map((q) => db.prepare('select doc_id from t where dataset_id = ? and doc_id match ? limit 10').pluck().all('A', f32blob(q)));
  const s0 = stats(a);
  const ga = graph(a);
  const s1 = stats(a);
  expect(s1.vec_hnsw_loads + s1.vec_hnsw_builds - s0.vec_hnsw_loads - s0.vec_hnsw_builds).toBe(1);
  const b = openDb(file);
  expect(graph(b)).toEqual(ga);
  const s2 = stats(a);
  expect(s2.vec_hnsw_loads + s2.vec_hnsw_builds).toBe(s1.vec_hnsw_loads + s1.vec_hnsw_builds);
  expect(s2.vec_data_adopted - s1.vec_data_adopted).toBe(1);
  expect(s2.vec_hnsw_searches - s1.vec_hnsw_searches).toBe(3); // b's queries went through the shared graph
  for (const db of [a, b]) db.close();
});
