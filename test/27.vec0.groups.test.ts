// vec0 tables whose rows span several cache groups (each group holds about 16 MiB of vectors
// and at least 8192 rows of one partition tuple). Answers must not depend on the grouping: the
// same table is written and queried on vecsqlite and on sqlite-vec 0.1.9 side by side, with
// partition keys, metadata, deletes that empty whole chunks, inserts and updates; then two
// connections share the cache and a commit that touches one chunk copies one group only.
import * as path from 'path';
import { copyOfFile, openDb, openRef, rng, tempDir, DB } from './helpers/db';

const DIMS = 512; // 2 KiB rows, chunk_size 64: 128 chunks = 8192 rows per group
const DDL = `create virtual table t using vec0(p integer partition key, v float[${DIMS}], m integer, chunk_size=64)`;
const stats = (db: DB) => JSON.parse(db.prepare('select vec_stats()').pluck().get() as string);

function randVec(r: () => number): Buffer {
  const v = new Float32Array(DIMS);
  for (let i = 0; i < DIMS; i++) v[i] = Math.floor(r() * 9) - 4 + (r() < 0.2 ? 0.5 : 0);
  return Buffer.from(v.buffer);
}

/** Runs the same statements on both connections (parameters made once). */
function both(dbs: DB[], sql: string, ...args: unknown[]): void {
  for (const db of dbs) db.prepare(sql).run(...args);
}

function answers(db: DB, queries: Buffer[]): unknown {
  const out: unknown[] = [db.prepare('select count(*) from t').pluck().get()];
  out.push(db.prepare('select rowid from t order by rowid').pluck().all());
  for (const q of queries) {
    out.push(db.prepare('select rowid, round(distance, 2) as d from t where v match ? and k = 10').all(q));
    out.push(db.prepare('select rowid, round(distance, 2) as d from t where v match ? and k = 10 and p = 1').all(q));
    out.push(db.prepare('select rowid, round(distance, 2) as d from t where v match ? and k = 10 and m < 2').all(q));
  }
  return out;
}

test('a table across several groups answers as sqlite-vec 0.1.9 does, through random writes', () => {
  const dir = tempDir();
  const ours = openDb(path.join(dir, 'ours.db'));
  const ref = openRef(path.join(dir, 'ref.db'));
  const dbs = [ours, ref];
  for (const db of dbs) db.exec(DDL);
  const r = rng(5);
  const N = 18000; // two partitions of 9000 rows: two groups each
  for (const db of dbs) db.exec('begin');
  for (let i = 1; i <= N; i++) both(dbs, 'insert into t(rowid, p, v, m) values (?, ?, ?, ?)', BigInt(i), BigInt(i % 2), randVec(r), BigInt(i % 5));
  for (const db of dbs) db.exec('commit');
  const queries = [randVec(r), randVec(r), randVec(r)];
  expect(answers(ours, queries)).toEqual(answers(ref, queries));

  let next = N + 1;
  for (let step = 0; step < 60; step++) {
    const x = r();
    for (const db of dbs) db.exec('begin');
    if (x < 0.3) {
      // a run of deletes: empties whole chunks in the first group of a partition
      const from = 1 + Math.floor(r() * 7000);
      both(dbs, 'delete from t where rowid between ? and ?', BigInt(from), BigInt(from + 200));
    } else if (x < 0.6) {
      for (let j = 0; j < 20; j++) both(dbs, 'insert into t(rowid, p, v, m) values (?, ?, ?, ?)', BigInt(next++), BigInt(j % 2), randVec(r), BigInt(j % 5));
    } else if (x < 0.8) {
      const id = 1 + Math.floor(r() * (next - 1));
      both(dbs, 'update t set v = ? where rowid = ?', randVec(r), BigInt(id));
      both(dbs, 'update t set m = ? where rowid = ?', BigInt(Math.floor(r() * 5)), BigInt(id));
    } else {
      both(dbs, 'delete from t where rowid = ?', BigInt(1 + Math.floor(r() * (next - 1))));
    }
    for (const db of dbs) db.exec('commit');
    if (step % 15 === 14) expect({ step, a: answers(ours, queries) }).toEqual({ step, a: answers(ref, queries) });
  }
  // The file as written by vecsqlite reads the same in sqlite-vec.
  ours.close();
  const back = openRef(path.join(dir, 'ours.db'));
  expect(answers(back, queries)).toEqual(answers(ref, queries));
  back.close();
  ref.close();
});

test('readers sharing a cache of several groups: a commit to one chunk copies one group', () => {
  const file = path.join(tempDir(), 'g.db');
  const w = openDb(file);
  w.pragma('journal_mode = wal');
  w.exec(DDL);
  const r = rng(9);
  w.exec('begin');
  for (let i = 1; i <= 17000; i++) w.prepare('insert into t(rowid, p, v, m) values (?, 0, ?, ?)').run(BigInt(i), randVec(r), BigInt(i % 5));
  w.exec('commit');
  const [a, b] = [openDb(file), openDb(file)];
  const q = [randVec(r)];
  const before = answers(a, q);
  expect(answers(b, q)).toEqual(before); // b takes a's cache
  w.prepare('delete from t where rowid = 7').run(); // one chunk of the first group
  const s0 = stats(a);
  const after = answers(a, q);
  const s1 = stats(a);
  expect(s1.vec0_refreshes - s0.vec0_refreshes).toBe(1);
  expect(s1.vec0_cache_copies - s0.vec0_cache_copies).toBe(1);
  expect(s1.vec0_group_copies - s0.vec0_group_copies).toBe(1); // of three groups
  expect(answers(b, q)).toEqual(after);
  expect(stats(a).vec0_refreshes).toBe(s1.vec0_refreshes); // b took a's refreshed cache
  const c = openDb(copyOfFile(file));
  expect(answers(c, q)).toEqual(after);
  for (const db of [w, a, b, c]) db.close();
});

test('every group of a large column keeps a sketch, the last and smallest one included', () => {
  const db = openDb();
  db.exec(`create virtual table t using vec0(v float[${DIMS}], chunk_size=64)`);
  const r = rng(3);
  const n = 8192 + 300; // one full group and one of 300 rows (below the sketch's usual 2048)
  db.transaction(() => {
    for (let i = 1; i <= n; i++) db.prepare('insert into t(rowid, v) values (?, ?)').run(BigInt(i), randVec(r));
  })();
  const q = randVec(r);
  const s0 = stats(db);
  const got = db.prepare('select rowid from t where v match ? and k = 5').pluck().all(q);
  const s1 = stats(db);
  expect(s1.sketch_rows - s0.sketch_rows).toBe(n); // every row was read through a sketch
  const x = new Float32Array(q.buffer, q.byteOffset, DIMS);
  const all = db.prepare('select rowid, v from t').all() as { rowid: number; v: Buffer }[];
  const d = (b: Buffer) => {
    const v = new Float32Array(b.buffer, b.byteOffset, DIMS);
    let s = 0;
    for (let i = 0; i < DIMS; i++) s += (v[i] - x[i]) ** 2;
    return s;
  };
  const want = all.map((row) => ({ id: row.rowid, d: d(row.v) })).sort((a, b) => a.d - b.d || a.id - b.id).slice(0, 5).map((e) => e.id);
  expect(got).toEqual(want);
  db.close();
});
