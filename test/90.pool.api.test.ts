// The async pool: reads on worker threads, writes through one writer, errors carrying SQLite's
// text, a worker that ends mid-query replaced with its query rejected. Every KNN answer is
// checked against a brute force over the same vectors in JavaScript.
import * as path from 'path';
import { openPool, Pool, PoolQueryError, PoolWorkerError, VecsqliteError } from '../src';
import { f32blob, openDb, tempDir } from './helpers/db';

const DIMS = 8;
const N = 300;

function vec(i: number): Float32Array {
  const v = new Float32Array(DIMS);
  for (let d = 0; d < DIMS; d++) v[d] = Math.sin(i * 0.37 + d * 1.3) + (d === i % DIMS ? 0.5 : 0);
  return v;
}

function bruteL2(q: Float32Array, rows: Map<number, Float32Array>, k: number, keep: (id: number) => boolean = () => true): { id: number; d: number }[] {
  const out: { id: number; d: number }[] = [];
  for (const [id, v] of rows) {
    if (!keep(id)) continue;
    let s = 0;
    for (let d = 0; d < DIMS; d++) s += (q[d] - v[d]) ** 2;
    out.push({ id, d: Math.sqrt(s) });
  }
  out.sort((a, b) => a.d - b.d || a.id - b.id);
  return out.slice(0, k);
}

let file: string;
let pool: Pool;
const rows = new Map<number, Float32Array>();

beforeAll(async () => {
  file = path.join(tempDir(), 'pool.db');
  const db = openDb(file);
  db.pragma('journal_mode = wal');
  db.exec(`create virtual table items using vec0(embedding float[${DIMS}], category integer)`);
  const ins = db.prepare('insert into items(rowid, embedding, category) values (?, ?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= N; i++) {
      rows.set(i, vec(i));
      ins.run(i, f32blob(Array.from(vec(i))), i % 3);
    }
  })();
  db.exec('create table notes(id integer primary key, body text, data blob)');
  db.close();
  pool = await openPool(file, { workers: 2 });
});

afterAll(async () => {
  await pool?.close();
});

test('knn returns typed arrays equal to a brute force', async () => {
  const q = vec(1000);
  const r = await pool.knn('items', q, { k: 7 });
  // Typed arrays made on the worker thread (jest runs tests in another realm: compare tags).
  expect(Object.prototype.toString.call(r.rowids)).toBe('[object Float64Array]');
  expect(Object.prototype.toString.call(r.distances)).toBe('[object Float64Array]');
  const want = bruteL2(q, rows, 7);
  expect(Array.from(r.rowids)).toEqual(want.map((w) => w.id));
  r.distances.forEach((d, i) => expect(d).toBeCloseTo(want[i].d, 5));
});

test('knn with a metadata filter and a number[] vector', async () => {
  const q = vec(2024);
  const r = await pool.knn('items', Array.from(q), { k: 5, filter: 'category = ?', params: [2] });
  const want = bruteL2(q, rows, 5, (id) => id % 3 === 2);
  expect(Array.from(r.rowids)).toEqual(want.map((w) => w.id));
});

test('many concurrent knn queries over both readers all agree with the brute force', async () => {
  const qs = Array.from({ length: 40 }, (_, i) => vec(5000 + i));
  const rs = await Promise.all(qs.map((q) => pool.knn('items', q, { k: 3 })));
  rs.forEach((r, i) => expect(Array.from(r.rowids)).toEqual(bruteL2(qs[i], rows, 3).map((w) => w.id)));
});

test('all / get / run: plain objects, writes visible to the next read', async () => {
  const r1 = await pool.run('insert into notes(body, data) values (?, ?)', ['hello', Buffer.from([1, 2, 3])]);
  expect(r1.changes).toBe(1);
  const r2 = await pool.run('insert into notes(body) values (:body)', { body: 'world' });
  expect(r2.lastInsertRowid).toBe(Number(r1.lastInsertRowid) + 1);
  const all = await pool.all<{ id: number; body: string }>('select id, body from notes order by id');
  expect(all.map((r) => r.body)).toEqual(['hello', 'world']);
  const one = await pool.get<{ data: Uint8Array }>('select data from notes where body = ?', ['hello']);
  expect(Array.from(one!.data)).toEqual([1, 2, 3]);
  expect(await pool.get('select * from notes where id = -1')).toBeUndefined();
});

test('a vec0 write through the pool is seen by every reader KNN', async () => {
  const q = vec(7777);
  await pool.run('insert into items(rowid, embedding, category) values (?, ?, ?)', [N + 1, q, 0]);
  // The inserted vector is its own nearest neighbour at distance 0, on whichever reader answers.
  const rs = await Promise.all(Array.from({ length: 6 }, () => pool.knn('items', q, { k: 1 })));
  for (const r of rs) {
    expect(r.rowids[0]).toBe(N + 1);
    expect(r.distances[0]).toBe(0);
  }
  await pool.run('delete from items where rowid = ?', [N + 1]);
  const after = await pool.knn('items', q, { k: 1 });
  expect(after.rowids[0]).toBe(bruteL2(q, rows, 1)[0].id);
});

test('concurrent writes never fail with SQLITE_BUSY', async () => {
  const n = 200;
  await Promise.all(Array.from({ length: n }, (_, i) => pool.run('insert into notes(body) values (?)', [`bulk-${i}`])));
  const c = await pool.get<{ c: number }>("select count(*) as c from notes where body like 'bulk-%'");
  expect(c!.c).toBe(n);
});

test('errors carry the SQL error text and code', async () => {
  await expect(pool.all('select * from no_such_table')).rejects.toThrow('no such table: no_such_table');
  const e = await pool.get('select nope from notes').catch((x) => x);
  expect(e).toBeInstanceOf(PoolQueryError);
  expect(e.code).toBe('SQLITE_ERROR');
  expect(e.message).toBe('no such column: nope');
  expect(e.sql).toBe('select nope from notes');
  // Readers are read-only: a write sent to all() fails instead of bypassing the writer.
  await expect(pool.all("insert into notes(body) values ('x') returning id")).rejects.toThrow('attempt to write a readonly database');
  await expect(pool.knn('items', new Float32Array(3), { k: 1 })).rejects.toThrow(/Dimension mismatch/);
  await expect(pool.knn('notes', vec(1), { k: 1 })).rejects.toThrow('knn: notes is not a vec0 table with a vector column');
  expect(() => pool.knn('items', vec(1), { k: 0 })).toThrow(VecsqliteError);
  expect(() => pool.knn('items', vec(1), { k: 1, Filter: 'x' } as never)).toThrow('knn: misspelled option "Filter" should be "filter"');
  // The pool still works after errors.
  expect((await pool.knn('items', vec(3), { k: 1 })).rowids[0]).toBe(3);
});

test('a reader thread that ends mid-query: its query is rejected, the thread replaced', async () => {
  // A query that runs for a while (a recursive count to 3 million), then the thread is ended
  // from outside, as an abrupt exit would.
  const slow = pool.get('with recursive c(x) as (select 1 union all select x + 1 from c where x < 3000000) select count(*) as n from c');
  await new Promise((r) => setTimeout(r, 100));
  const busy = pool.threads.filter((t) => t !== undefined);
  expect(busy.length).toBe(2);
  await Promise.all(busy.map((t) => t.terminate()));
  const e = await slow.catch((x) => x);
  expect(e).toBeInstanceOf(PoolWorkerError);
  expect(e.message).toMatch(/reader thread running this query ended before replying/);
  // New readers answer correctly.
  const rs = await Promise.all(Array.from({ length: 4 }, (_, i) => pool.knn('items', vec(i + 1), { k: 1 })));
  rs.forEach((r, i) => expect(r.rowids[0]).toBe(i + 1));
  expect(pool.threads.length).toBe(2);
});

test('openPool checks its arguments', async () => {
  await expect(openPool(':memory:')).rejects.toThrow(/worker threads cannot share an in-memory database/);
  await expect(openPool(file, { workers: 0 })).rejects.toThrow('openPool: expected workers to be an integer from 1 to 256, received 0');
  await expect(openPool(file, { Workers: 2 } as never)).rejects.toThrow('openPool: misspelled option "Workers" should be "workers"');
  await expect(openPool(path.join(tempDir(), 'missing', 'x.db'))).rejects.toThrow(/openPool: cannot open .*missing\/x\.db: .*Cannot open database because the directory does not exist/);
});

test('close waits for queued queries, then refuses new ones', async () => {
  const p = await openPool(file, { workers: 1 });
  const pending = Promise.all(Array.from({ length: 5 }, (_, i) => p.knn('items', vec(i + 10), { k: 1 })));
  await p.close();
  (await pending).forEach((r, i) => expect(r.rowids[0]).toBe(i + 10));
  await expect(p.all('select 1')).rejects.toThrow('pool: the pool is closed');
});
