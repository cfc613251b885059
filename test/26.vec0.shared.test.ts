// One vec0 cache per process: connections that open the same table of the same database file
// and see the same committed state share one read-only cache (vec_stats(): vec0_cache_adopted
// counts the caches taken from another connection instead of loaded, vec0_cache_copies the
// shared caches a connection had to copy before changing its own). Every check compares the
// answers with a connection on a copy of the file (another file: it loads its own cache), and
// with brute force where the rows are known.
import * as path from 'path';
import { Worker } from 'worker_threads';
import { copyOfFile, openDb, openRef, tempDir, DB } from './helpers/db';

const stats = (db: DB) => JSON.parse(db.prepare('select vec_stats()').pluck().get() as string);
const DIMS = 16;
const vec = (i: number) => new Float32Array(Array.from({ length: DIMS }, (_, k) => Math.sin(i * 1.7 + k * 0.3)));
const blob = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
const QUERIES = [3.3, 41.9, 377.1].map(vec);

function l2(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/** A WAL file with t(v float[16], p integer partition key, m integer) holding rows 1..n. */
function makeFile(n: number): string {
  const file = path.join(tempDir(), 'shared.db');
  const db = openDb(file);
  db.pragma('journal_mode = wal');
  db.exec(`create virtual table t using vec0(v float[${DIMS}], p integer partition key, m integer, chunk_size=64)`);
  const ins = db.prepare('insert into t(rowid, v, p, m) values (?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= n; i++) ins.run(BigInt(i), blob(vec(i)), BigInt(i % 3), BigInt(i % 7));
  })();
  db.close();
  return file;
}

/** What a reader sees: count, KNN (plain, by partition, by metadata) and a point lookup. */
function view(db: DB): unknown {
  const knn = QUERIES.map((q) => ({
    all: db.prepare('select rowid, distance from t where v match ? and k = 7').all(blob(q)),
    part: db.prepare('select rowid, distance from t where v match ? and k = 5 and p = 1').all(blob(q)),
    meta: db.prepare('select rowid, distance from t where v match ? and k = 5 and m > 4').all(blob(q)),
  }));
  return {
    count: db.prepare('select count(*) from t').pluck().get(),
    ids: db.prepare('select rowid from t order by rowid').pluck().all(),
    knn,
    point: db.prepare('select rowid, p, m, vec_to_json(v) as v from t where rowid = 2').get(),
  };
}

/** A connection to a copy of the file as committed now (loads its own cache). */
const copyOf = (file: string): DB => openDb(copyOfFile(file));

/** The true 7 nearest of the rows `ids` to q (ties by rowid). */
function brute(ids: number[], q: Float32Array): number[] {
  return ids
    .map((id) => ({ id, d: l2(vec(id), q) }))
    .sort((a, b) => a.d - b.d || a.id - b.id)
    .slice(0, 7)
    .map((x) => x.id);
}

test('a second connection takes the first one\'s cache: no load, the same answers', () => {
  const file = makeFile(600);
  const a = openDb(file);
  const s0 = stats(a);
  const va = view(a);
  const s1 = stats(a);
  expect(s1.vec0_loads - s0.vec0_loads).toBe(1);
  const b = openDb(file);
  const vb = view(b);
  const s2 = stats(a);
  expect(s2.vec0_loads).toBe(s1.vec0_loads); // no second load
  expect(s2.vec0_cache_adopted - s1.vec0_cache_adopted).toBe(1);
  expect(vb).toEqual(va);
  const c = copyOf(file);
  expect(view(c)).toEqual(va);
  const ids = Array.from({ length: 600 }, (_, i) => i + 1);
  for (const q of QUERIES)
    expect(b.prepare('select rowid from t where v match ? and k = 7').pluck().all(blob(q))).toEqual(brute(ids, q));
  for (const db of [a, b, c]) db.close();
});

test('a commit by another connection: one reader refreshes a copy, the next takes it over', () => {
  const file = makeFile(400);
  const [r1, r2, w] = [openDb(file), openDb(file), openDb(file)];
  view(r1);
  view(r2); // r1 and r2 share one cache
  w.prepare('insert into t(rowid, v, p, m) values (?, ?, ?, ?)').run(1000n, blob(QUERIES[0]), 1n, 6n);
  w.prepare('delete from t where rowid = ?').run(5n);
  const s0 = stats(r1);
  const v1 = view(r1); // refreshes from the change log: a copy, as r2 still holds the old state
  const s1 = stats(r1);
  expect(s1.vec0_refreshes - s0.vec0_refreshes).toBe(1);
  expect(s1.vec0_cache_copies - s0.vec0_cache_copies).toBe(1);
  expect(s1.vec0_loads).toBe(s0.vec0_loads);
  const v2 = view(r2); // takes r1's refreshed cache
  const s2 = stats(r1);
  expect(s2.vec0_refreshes).toBe(s1.vec0_refreshes);
  expect(s2.vec0_loads).toBe(s1.vec0_loads);
  expect(s2.vec0_cache_adopted - s1.vec0_cache_adopted).toBe(1);
  expect(v2).toEqual(v1);
  const c = copyOf(file);
  expect(view(c)).toEqual(v1);
  expect(r1.prepare('select rowid from t where v match ? and k = 1').pluck().get(blob(QUERIES[0]))).toBe(1000);
  for (const db of [r1, r2, w, c]) db.close();
});

test('a reader in an open transaction keeps its snapshot while the others move on', () => {
  const file = makeFile(300);
  const [r1, r2, w] = [openDb(file), openDb(file), openDb(file)];
  const before = view(r1);
  r2.exec('begin');
  expect(view(r2)).toEqual(before); // shares r1's cache, in a read transaction
  w.prepare('delete from t where rowid between 1 and 50').run();
  w.prepare('insert into t(rowid, v, p, m) values (?, ?, ?, ?)').run(5000n, blob(QUERIES[1]), 2n, 5n);
  const after = view(r1); // r1 moves on
  expect(after).not.toEqual(before);
  expect(view(r2)).toEqual(before); // r2 still reads its snapshot
  r2.exec('commit');
  expect(view(r2)).toEqual(after);
  const c = copyOf(file);
  expect(view(c)).toEqual(after);
  for (const db of [r1, r2, w, c]) db.close();
});

test('a connection writing a shared cache writes its own copy; the others never see it uncommitted', () => {
  const file = makeFile(300);
  const [a, b] = [openDb(file), openDb(file)];
  const before = view(a);
  expect(view(b)).toEqual(before);
  a.exec('begin');
  a.prepare('insert into t(rowid, v, p, m) values (?, ?, ?, ?)').run(7000n, blob(QUERIES[2]), 0n, 1n);
  a.prepare('update t set m = 0 where rowid = 2').run();
  expect(a.prepare('select rowid from t where v match ? and k = 1').pluck().get(blob(QUERIES[2]))).toBe(7000);
  expect(view(b)).toEqual(before);
  a.exec('rollback');
  expect(view(a)).toEqual(before);
  expect(view(b)).toEqual(before);
  a.exec('begin');
  a.prepare('delete from t where rowid = 2').run();
  expect(view(b)).toEqual(before);
  a.exec('commit');
  const after = view(b);
  expect(after).not.toEqual(before);
  expect((after as any).point).toBeUndefined();
  expect(view(a)).toEqual(after);
  const c = copyOf(file);
  expect(view(c)).toEqual(after);
  for (const db of [a, b, c]) db.close();
});

test('a connection whose first statement writes takes the shared cache and copies it, rather than loading', () => {
  const file = makeFile(500);
  const r = openDb(file);
  const before = view(r);
  const w = openDb(file);
  const s0 = stats(r);
  w.prepare('insert into t(rowid, v, p, m) values (?, ?, ?, ?)').run(8000n, blob(QUERIES[0]), 1n, 2n);
  const s1 = stats(r);
  expect(s1.vec0_loads).toBe(s0.vec0_loads);
  expect(s1.vec0_cache_adopted - s0.vec0_cache_adopted).toBe(1);
  expect(s1.vec0_cache_copies - s0.vec0_cache_copies).toBe(1);
  const after = view(r);
  expect(after).not.toEqual(before);
  expect(view(w)).toEqual(after);
  const c = copyOf(file);
  expect(view(c)).toEqual(after);
  for (const db of [r, w, c]) db.close();
});

test('other files, in-memory databases and tables vecsqlite never wrote are not shared', () => {
  const file = makeFile(200);
  const a = openDb(file);
  view(a);
  const c = copyOf(file); // the same rows and marker, another file
  const s0 = stats(a);
  view(c);
  expect(stats(a).vec0_loads - s0.vec0_loads).toBe(1);
  expect(stats(a).vec0_cache_adopted).toBe(s0.vec0_cache_adopted);

  const m1 = openDb();
  const m2 = openDb();
  for (const m of [m1, m2]) {
    m.exec(`create virtual table t using vec0(v float[${DIMS}], p integer partition key, m integer)`);
    m.prepare('insert into t(rowid, v, p, m) values (1, ?, 0, 0)').run(blob(vec(1)));
  }
  const s1 = stats(a);
  view(m1);
  view(m2);
  expect(stats(a).vec0_cache_adopted).toBe(s1.vec0_cache_adopted);

  // Written by sqlite-vec 0.1.9 only: no write token, so no key to share it under.
  const ref = path.join(tempDir(), 'ref.db');
  const r = openRef(ref);
  r.exec(`create virtual table t using vec0(v float[${DIMS}], p integer partition key, m integer)`);
  r.prepare('insert into t(rowid, v, p, m) values (1, ?, 0, 0)').run(blob(vec(1)));
  r.close();
  const [x, y] = [openDb(ref), openDb(ref)];
  const s2 = stats(a);
  expect(view(y)).toEqual(view(x));
  expect(stats(a).vec0_loads - s2.vec0_loads).toBe(2);
  expect(stats(a).vec0_cache_adopted).toBe(s2.vec0_cache_adopted);
  for (const db of [a, c, m1, m2, x, y]) db.close();
});

test('worker threads share one cache and answer as brute force does', async () => {
  const n = 2000;
  const file = makeFile(n);
  const main = openDb(file);
  const s0 = stats(main);
  const want = QUERIES.map((q) => main.prepare('select rowid from t where v match ? and k = 7').pluck().all(blob(q)));
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  expect(want).toEqual(QUERIES.map((q) => brute(ids, q)));
  const src = `
    const { parentPort, workerData } = require('worker_threads');
    const Database = require('better-sqlite3');
    const { load } = require(workerData.lib);
    const db = new Database(workerData.file, { readonly: true });
    load(db);
    const out = workerData.queries.map((q) =>
      db.prepare('select rowid from t where v match ? and k = 7').pluck().all(Buffer.from(new Float32Array(q).buffer)));
    db.close();
    parentPort.postMessage(out);
  `;
  const lib = path.join(__dirname, '..', 'lib');
  const runs = await Promise.all(
    [0, 1, 2].map(
      () =>
        new Promise<number[][]>((resolve, reject) => {
          const w = new Worker(src, { eval: true, workerData: { file, lib, queries: QUERIES.map((q) => Array.from(q)) } });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  for (const r of runs) expect(r).toEqual(want);
  const s1 = stats(main);
  expect(s1.vec0_loads - s0.vec0_loads).toBe(1); // main's only
  expect(s1.vec0_cache_adopted - s0.vec0_cache_adopted).toBe(3);
  main.close();
});

describe('graph indexes', () => {
  const G = 32;
  const gvec = (i: number) => new Float32Array(Array.from({ length: G }, (_, k) => Math.sin(i * 0.61 + k * 1.3) + (i % 7) * 0.1));
  const gq = [0.5, 77.7, 1234.5].map(gvec);

  function makeGraphFile(n: number): string {
    const file = path.join(tempDir(), 'graph.db');
    const db = openDb(file);
    db.pragma('journal_mode = wal');
    db.exec(`create virtual table t using vec0(v float[${G}] indexed by hnsw(m=8, ef_construction=64))`);
    const ins = db.prepare('insert into t(rowid, v) values (?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= n; i++) ins.run(BigInt(i), blob(gvec(i)));
    })();
    db.close();
    return file;
  }
  /** Graph answers (ef = 40 forces the graph) and exact answers. */
  const gview = (db: DB) =>
    gq.map((q) => ({
      graph: db.prepare('select rowid, distance from t where v match ? and k = 10 and ef = 40').all(blob(q)),
      exact: db.prepare('select rowid, distance from t where v match ? and k = 10 and ef = 0').all(blob(q)),
    }));

  test('a second connection takes the graph too: no load, the same answers', () => {
    const file = makeGraphFile(3000);
    const a = openDb(file);
    const s0 = stats(a);
    const va = gview(a);
    const s1 = stats(a);
    expect(s1.hnsw_searches - s0.hnsw_searches).toBe(3);
    expect(s1.hnsw_loads - s0.hnsw_loads).toBe(1);
    const b = openDb(file);
    expect(gview(b)).toEqual(va);
    const s2 = stats(a);
    expect(s2.hnsw_loads).toBe(s1.hnsw_loads);
    expect(s2.hnsw_adopted - s1.hnsw_adopted).toBe(1);
    expect(s2.hnsw_searches - s1.hnsw_searches).toBe(3);
    const c = copyOf(file);
    expect(gview(c)).toEqual(va);
    for (const db of [a, b, c]) db.close();
  });

  test('writes on a shared graph: a copy for the writer, the readers keep theirs until the commit', () => {
    const file = makeGraphFile(2000);
    const [a, b] = [openDb(file), openDb(file)];
    const before = gview(a);
    expect(gview(b)).toEqual(before);
    const s0 = stats(a);
    a.exec('begin');
    a.prepare('insert into t(rowid, v) values (?, ?)').run(9001n, blob(gq[0]));
    a.prepare('delete from t where rowid = ?').run(3n);
    a.exec('commit'); // xSync changes a's graph: a copy, b still holds the shared one
    expect(stats(a).hnsw_copies - s0.hnsw_copies).toBe(1);
    const after = gview(a);
    expect(after).not.toEqual(before);
    expect((after[0].graph as any[])[0].rowid).toBe(9001);
    const s1 = stats(a);
    expect(gview(b)).toEqual(after); // b loads the committed graph once and publishes it
    const r = openDb(file);
    expect(gview(r)).toEqual(after); // r takes b's
    const s2 = stats(a);
    expect(s2.hnsw_loads - s1.hnsw_loads).toBe(1);
    expect(s2.hnsw_adopted - s1.hnsw_adopted).toBeGreaterThanOrEqual(1);
    a.exec('begin');
    a.prepare('insert into t(rowid, v) values (?, ?)').run(9002n, blob(gq[1]));
    a.exec('rollback');
    expect(gview(b)).toEqual(after);
    expect(gview(a)).toEqual(after);
    const c = copyOf(file);
    expect(gview(c)).toEqual(after);
    for (const db of [a, b, r, c]) db.close();
  });
});

test('VECSQLITE_SHARED_CACHE=0: every connection loads its own copy', () => {
  const file = makeFile(300);
  const script = `
    const Database = require('better-sqlite3');
    const { load } = require(${JSON.stringify(path.join(__dirname, '..', 'lib'))});
    const open = () => { const db = new Database(${JSON.stringify(file)}); load(db); return db; };
    const q = Buffer.from(new Float32Array(${DIMS}).fill(0.5).buffer);
    const [a, b] = [open(), open()];
    const ids = (db) => db.prepare('select rowid from t where v match ? and k = 3').pluck().all(q);
    const same = JSON.stringify(ids(a)) === JSON.stringify(ids(b));
    const s = JSON.parse(a.prepare('select vec_stats()').pluck().get());
    console.log(JSON.stringify({ same, loads: s.vec0_loads, adopted: s.vec0_cache_adopted }));`;
  const run = (v: string) =>
    JSON.parse(require('child_process').execFileSync(process.execPath, ['-e', script], { env: { ...process.env, VECSQLITE_SHARED_CACHE: v } }).toString());
  expect(run('0')).toEqual({ same: true, loads: 2, adopted: 0 });
  expect(run('1')).toEqual({ same: true, loads: 1, adopted: 1 });
});
