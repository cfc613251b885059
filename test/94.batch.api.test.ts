// knnBatch (direct connection) and pool.knnBatch: one result per query, each exactly what the
// single-query form returns; a flat Float32Array with dims; bad arguments rejected naming them.
import * as path from 'path';
import { knnBatch, openPool, Pool, PoolQueryError, VecsqliteError } from '../src';
import { openDb, randomF32, rng, tempDir, type DB } from './helpers/db';

const D = 32;
const N = 3000;
const r = rng(94);
const vecs = Array.from({ length: N }, () => randomF32(r, D));
const queries = Array.from({ length: 20 }, () => randomF32(r, D));

let file: string;
let db: DB;
let pool: Pool;

beforeAll(async () => {
  file = path.join(tempDir(), 'batch.db');
  const w = openDb(file);
  w.pragma('journal_mode = wal');
  w.exec(`create virtual table v using vec0(embedding float[${D}] distance_metric=cosine, other float[4])`);
  const ins = w.prepare('insert into v(rowid, embedding, other) values (?, ?, ?)');
  w.transaction(() => vecs.forEach((v, i) => ins.run(BigInt(i + 1), Buffer.from(v.buffer), Buffer.from(v.buffer, 0, 16))))();
  w.close();
  db = openDb(file);
  pool = await openPool(file, { workers: 2 });
});

afterAll(async () => {
  await pool?.close();
  db?.close();
});

function single(q: Float32Array, k: number, col = 'embedding', bytes = q.byteLength) {
  const rows = db.prepare(`select rowid, distance from v where ${col} match ? and k = ?`).all(Buffer.from(q.buffer, q.byteOffset, bytes), k) as { rowid: number; distance: number }[];
  return { rowids: Float64Array.from(rows.map((x) => x.rowid)), distances: Float64Array.from(rows.map((x) => x.distance)) };
}

test('knnBatch returns, for each query, exactly the single-query rows', () => {
  const got = knnBatch(db, 'v', queries, { k: 10 });
  expect(got).toHaveLength(queries.length);
  got.forEach((g, i) => expect(g).toEqual(single(queries[i], 10)));
  const flat = new Float32Array(queries.length * D);
  queries.forEach((q, i) => flat.set(q, i * D));
  expect(knnBatch(db, 'v', flat, { k: 10, dims: D })).toEqual(got);
  expect(knnBatch(db, 'v', [], { k: 10 })).toEqual([]);
  const four = queries.map((q) => q.subarray(0, 4));
  knnBatch(db, 'v', four, { k: 5, column: 'other' }).forEach((g, i) => expect(g).toEqual(single(four[i], 5, 'other')));
});

test('knnBatch: bad arguments name the problem', () => {
  const bad = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e as Error;
    }
    throw new Error('no error');
  };
  expect(bad(() => knnBatch(db, '', queries, { k: 10 }))).toBeInstanceOf(VecsqliteError);
  expect(bad(() => knnBatch(db, 'v', queries, { k: -1 })).message).toMatch(/options.k/);
  expect(bad(() => knnBatch(db, 'v', queries, { k: 10, bogus: 1 } as never)).message).toMatch(/bogus/);
  expect(bad(() => knnBatch(db, 'v', [queries[0], new Float32Array(3)], { k: 10 })).message).toMatch(/query 1 has 3 dimensions/);
  expect(bad(() => knnBatch(db, 'v', new Float32Array(10), { k: 10 })).message).toMatch(/options.dims/);
  expect(bad(() => knnBatch(db, 'v', [new Float32Array(5)], { k: 10 })).message).toMatch(/whole float32\[32\] vectors/);
  expect(bad(() => knnBatch(db, 'nope', queries, { k: 10 })).message).toMatch(/no such table: nope/);
});

test('pool.knnBatch equals knnBatch on a direct connection; errors reject', async () => {
  const want = knnBatch(db, 'v', queries, { k: 7 });
  const got = await pool.knnBatch('v', queries, { k: 7 });
  const plain = (rs: { rowids: Float64Array; distances: Float64Array }[]) => rs.map((x) => ({ rowids: Array.from(x.rowids), distances: Array.from(x.distances) }));
  expect(plain(got)).toEqual(plain(want));
  expect(Object.prototype.toString.call(got[0].rowids)).toBe('[object Float64Array]');
  await expect(pool.knnBatch('nope', queries, { k: 7 })).rejects.toBeInstanceOf(PoolQueryError);
  await expect(pool.knnBatch('v', queries, { k: 5000 })).rejects.toBeInstanceOf(VecsqliteError);
  expect(await pool.knnBatch('v', [], { k: 3 })).toEqual([]);
});

test('concurrent pool.knn calls are answered together with the rows (and errors) each would get alone', async () => {
  const calls = queries.map((q) => pool.knn('v', q, { k: 6 }));
  const bad = new Float32Array(D);
  bad[3] = NaN;
  const withNaN = pool.knn('v', bad, { k: 6 });
  const shorter = pool.knn('v', new Float32Array(5), { k: 6 });
  const other = pool.knn('v', queries[0].subarray(0, 4), { k: 3, column: 'other' });
  const failures = Promise.all([
    expect(withNaN).rejects.toBeInstanceOf(PoolQueryError),
    expect(shorter).rejects.toThrow(/Dimension mismatch/),
  ]);
  const got = await Promise.all(calls);
  got.forEach((g, i) => {
    const want = single(queries[i], 6);
    expect(Array.from(g.rowids)).toEqual(Array.from(want.rowids));
    expect(Array.from(g.distances)).toEqual(Array.from(want.distances));
  });
  await failures;
  expect(Array.from((await other).rowids)).toEqual(Array.from(single(queries[0].subarray(0, 4), 3, 'other').rowids));
  // With batching off, the same rows.
  const plain = await openPool(file, { workers: 1, batchKnn: false });
  try {
    const again = await Promise.all(queries.slice(0, 5).map((q) => plain.knn('v', q, { k: 6 })));
    again.forEach((g, i) => expect(Array.from(g.rowids)).toEqual(Array.from(got[i].rowids)));
  } finally {
    await plain.close();
  }
});

test('worker threads run below the main thread\'s priority (workerNice)', async () => {
  if (process.platform !== 'linux') return;
  const os = await import('os');
  const fs = await import('fs');
  // Linux reports each thread's nice value (field 19 of /proc/<pid>/task/<tid>/stat).
  const niceOf = () =>
    fs.readdirSync('/proc/self/task').map((t) => Number(fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8').split(') ')[1].split(' ')[16]));
  const want = Math.min(19, os.getPriority(0) + 7);
  const before = niceOf().filter((n) => n === want).length;
  const p2 = await openPool(file, { workers: 2, workerNice: 7 });
  try {
    expect(niceOf().filter((n) => n === want).length).toBeGreaterThanOrEqual(before + 3); // 2 readers + the writer
  } finally {
    await p2.close();
  }
  await expect(openPool(file, { workerNice: 25 })).rejects.toThrow(/workerNice/);
});
