// Other connections, processes and worker threads see committed writes; a writer killed with
// SIGKILL leaves an index that agrees with the data table.
import { spawn } from 'child_process';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { f32blob, openDb, tempDir, DB } from './helpers/db';
import { decodeEmbedding } from '../src';

const child = path.join(__dirname, 'helpers', 'vec-child.js');
const dir = tempDir();

const ids = (db: DB, ds: string, q: number[]) =>
  db.prepare('SELECT doc_id FROM t WHERE dataset_id = ? AND doc_id MATCH ?').pluck().all(ds, f32blob(q));

function make(name: string, journal: 'wal' | 'delete'): string {
  const file = path.join(dir, name);
  const db = openDb(file);
  db.pragma(`journal_mode = ${journal}`);
  db.exec('CREATE VIRTUAL TABLE t USING vec(doc_id)');
  db.close();
  return file;
}

describe.each(['wal', 'delete'] as const)('two connections, journal_mode=%s', (journal) => {
  test('a commit on one connection is seen by the other; uncommitted writes are not', () => {
    const file = make(`two-${journal}.db`, journal);
    const a = openDb(file), b = openDb(file);
    a.pragma('busy_timeout = 2000'); b.pragma('busy_timeout = 2000');
    a.prepare("INSERT INTO _vec_t(dataset_id, id, embedding) VALUES ('ds','x',?)").run(f32blob([1, 0]));
    expect(ids(b, 'ds', [0, 1])).toEqual(['x']);        // b builds its own index
    a.prepare("INSERT INTO _vec_t(dataset_id, id, embedding) VALUES ('ds','y',?)").run(f32blob([0, 1]));
    expect(ids(b, 'ds', [0, 1])).toEqual(['y', 'x']);   // b sees a's commit
    a.prepare("DELETE FROM _vec_t WHERE id='x'").run();
    expect(ids(b, 'ds', [0, 1])).toEqual(['y']);
    if (journal === 'wal') {
      a.exec('BEGIN');
      a.prepare("INSERT INTO _vec_t(dataset_id, id, embedding) VALUES ('ds','z',?)").run(f32blob([0, 3]));
      expect(ids(a, 'ds', [0, 1])).toEqual(['y', 'z']);
      expect(ids(b, 'ds', [0, 1])).toEqual(['y']);      // not committed yet
      a.exec('COMMIT');
      expect(ids(b, 'ds', [0, 1])).toEqual(['y', 'z']);
    }
    // b's own write after a's commits keeps b consistent
    b.prepare("INSERT INTO _vec_t(dataset_id, id, embedding) VALUES ('ds','w',?)").run(f32blob([1, 1]));
    expect(ids(a, 'ds', [1, 0]).length).toBe(ids(b, 'ds', [1, 0]).length);
    expect(ids(a, 'ds', [1, 0])).toEqual(ids(b, 'ds', [1, 0]));
    a.close(); b.close();
  });
});

test('worker threads: each writes its own dataset and finds its rows; no cross-dataset results', async () => {
  const file = make('workers.db', 'wal');
  const run = (ds: string) => new Promise<string[]>((resolve, reject) => {
    const w = new Worker(child, { workerData: { file, ds, n: 40, dim: 12 } });
    w.once('message', resolve);
    w.once('error', reject);
  });
  const results = await Promise.all(['w1', 'w2', 'w3'].map(run));
  results.forEach((hits, k) => {
    expect(hits.length).toBe(40);
    hits.forEach((h, i) => expect(h).toBe(`w${k + 1}-${i}`));
  });
  const db = openDb(file);
  for (const ds of ['w1', 'w2', 'w3']) {
    expect(db.prepare("SELECT count(*) FROM t WHERE dataset_id = ? AND doc_id MATCH ?").pluck().get(ds, f32blob(new Array(12).fill(1)))).toBe(40);
  }
  db.close();
}, 30000);

test('crash: a writer SIGKILLed during a write burst; reopened, the index agrees with the data table', async () => {
  const file = make('crash.db', 'wal');
  const seed = openDb(file);
  seed.prepare("INSERT INTO _vec_t(dataset_id, id, embedding) VALUES ('ds','seed',?)").run(f32blob(new Array(16).fill(0.5)));
  seed.close();
  const proc = spawn(process.execPath, [child, file, 'burst'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => proc.stdout!.once('data', () => resolve()));
  await new Promise((r) => setTimeout(r, 700));
  proc.kill('SIGKILL');
  await new Promise((r) => proc.once('exit', r));
  const db = openDb(file);
  const rows = db.prepare("SELECT id, embedding FROM _vec_t WHERE dataset_id='ds' AND embedding IS NOT NULL").all() as { id: string; embedding: Buffer }[];
  expect(rows.length).toBeGreaterThan(20);
  const q = new Float32Array(16).map((_, k) => Math.cos(k));
  const oracle = rows.map((r) => {
    const v = decodeEmbedding(r.embedding)!;
    let d = 0, a = 0, b = 0; for (let k = 0; k < 16; k++) { d += q[k] * v[k]; a += q[k] * q[k]; b += v[k] * v[k]; }
    return { id: r.id, s: d / Math.sqrt(a * b) };
  }).sort((x, y) => y.s - x.s || 0);
  const got = db.prepare("SELECT doc_id, match_score FROM t WHERE dataset_id='ds' AND doc_id MATCH ?").all(Buffer.from(q.buffer)) as { doc_id: string; match_score: number }[];
  expect(got.length).toBe(rows.length);
  expect(new Set(got.map((g) => g.doc_id))).toEqual(new Set(rows.map((r) => r.id)));
  got.forEach((g, i) => expect(Math.abs(g.match_score - oracle[i].s)).toBeLessThan(1e-6));
  db.close();
}, 30000);
