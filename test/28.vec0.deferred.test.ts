// Deferred vectors: once a write transaction has inserted VECSQLITE_DEFER_ROWS (4096) rows into a
// vec0 table without a graph, and at least as many as the table held, its further rows' vectors
// go to the shadow tables only and the cache is rebuilt at the next read. Checked against
// sqlite-vec 0.1.9 doing the same work (shadow tables byte for byte) and a brute-force oracle,
// with reads, deletes, updates, savepoints and rollbacks in the middle of such a transaction,
// the flush between multi-row statements, and a second connection.
import * as path from 'path';
import { openDb, openRef, rng, tempDir, DB } from './helpers/db';
import { shadowDump, both } from './helpers/shadow';

const stats = (db: DB) => JSON.parse(db.prepare('select vec_stats()').pluck().get() as string);
const deferred = (db: DB): number => stats(db).vec0_deferred_rows;
const loads = (db: DB): number => stats(db).vec0_loads;
const DEFER = 4096;

const vecOf = (rand: () => number, dims: number): Buffer =>
  Buffer.from(Float32Array.from({ length: dims }, () => Math.round(rand() * 200 - 100) / 8).buffer);

/** KNN through SQL against a brute-force L2 scan of the rows read back. */
function checkKnn(db: DB, dims: number, rand: () => number): void {
  const rows = db.prepare('select rowid, v from t').all() as { rowid: number; v: Buffer }[];
  for (let q = 0; q < 3; q++) {
    const query = new Float32Array(vecOf(rand, dims).buffer.slice(0));
    const dist = (b: Buffer) => {
      const v = new Float32Array(b.buffer, b.byteOffset, dims);
      let s = 0;
      for (let i = 0; i < dims; i++) s += (v[i] - query[i]) ** 2;
      return Math.sqrt(s);
    };
    const want = rows.map((r) => ({ rowid: r.rowid, d: dist(r.v) })).sort((a, b) => a.d - b.d || a.rowid - b.rowid).slice(0, 10);
    const got = db.prepare('select rowid, distance from t where v match ? and k = 10').all(Buffer.from(query.buffer)) as any[];
    expect(got.map((r) => r.distance)).toEqual(want.map((w) => expect.closeTo(w.d, 4)));
    expect(new Set(got.map((r) => r.rowid)).size).toBe(10);
  }
}

describe('vec0 deferred vectors', () => {
  test('a large transaction defers after 4096 rows; tables equal 0.1.9, reads rebuild the cache', () => {
    const rand = rng(5);
    const ours = openDb();
    const ref = openRef();
    for (const db of [ours, ref]) db.exec('create virtual table t using vec0(v float[8], chunk_size=64)');
    const d0 = deferred(ours);
    both(ours, ref, 'begin');
    const ins = (id: number) => both(ours, ref, 'insert into t(rowid, v) values (?, ?)', BigInt(id), vecOf(rand, 8));
    for (let i = 1; i <= 10000; i++) ins(i);
    // Rows 4097.. were deferred: exactly those (the table was empty when the transaction began).
    expect(deferred(ours) - d0).toBe(10000 - DEFER);
    // A read in the middle of the transaction sees every row (cache rebuilt from tables + log).
    const l0 = loads(ours);
    expect(ours.prepare('select count(*) from t').pluck().get()).toBe(10000);
    checkKnn(ours, 8, rand);
    expect(loads(ours) - l0).toBe(1);
    // Deletes and updates of deferred rows, then inserts that reuse their slots.
    both(ours, ref, 'delete from t where rowid in (9000, 9001, 10000, 42)');
    both(ours, ref, 'update t set v = ? where rowid = 8000', vecOf(rand, 8));
    for (let i = 10001; i <= 16000; i++) ins(i);
    both(ours, ref, 'delete from t where rowid = 15999');
    both(ours, ref, 'update t set v = ? where rowid = 15000', vecOf(rand, 8));
    for (let i = 16001; i <= 16010; i++) ins(i);
    both(ours, ref, 'commit');
    expect(shadowDump(ours)).toEqual(shadowDump(ref));
    checkKnn(ours, 8, rand);
    const byId = (db: DB) => db.prepare('select rowid, v from t where rowid in (1, 4097, 8000, 15000, 16010) order by rowid').all();
    expect(byId(ours)).toEqual(byId(ref));
    ours.close();
    ref.close();
  });

  test('savepoints and ROLLBACK in a deferring transaction', () => {
    const rand = rng(6);
    const ours = openDb();
    const ref = openRef();
    for (const db of [ours, ref]) db.exec('create virtual table t using vec0(v float[4], chunk_size=32)');
    const ins = (id: number) => both(ours, ref, 'insert into t(rowid, v) values (?, ?)', BigInt(id), vecOf(rand, 4));
    both(ours, ref, 'begin');
    for (let i = 1; i <= 5000; i++) ins(i);
    both(ours, ref, 'savepoint a');
    for (let i = 5001; i <= 6000; i++) ins(i);
    both(ours, ref, 'delete from t where rowid = 5500');
    both(ours, ref, 'rollback to a');
    for (let i = 7001; i <= 7500; i++) ins(i);
    both(ours, ref, 'release a');
    both(ours, ref, 'commit');
    expect(shadowDump(ours)).toEqual(shadowDump(ref));
    expect(ours.prepare('select count(*) from t').pluck().get()).toBe(5500);
    checkKnn(ours, 4, rand);
    // A rolled-back deferring transaction leaves the table as it was.
    both(ours, ref, 'begin');
    for (let i = 10001; i <= 20000; i++) ins(i);
    both(ours, ref, 'rollback');
    expect(shadowDump(ours)).toEqual(shadowDump(ref));
    expect(ours.prepare('select count(*) from t').pluck().get()).toBe(5500);
    checkKnn(ours, 4, rand);
    ours.close();
    ref.close();
  });

  test('later transactions keep deferring until a read; small ones into a big table never defer', () => {
    const rand = rng(7);
    const db = openDb();
    db.exec('create virtual table t using vec0(v float[4])');
    const ins = db.prepare('insert into t(rowid, v) values (?, ?)');
    const txn = (from: number, to: number) => db.transaction(() => { for (let i = from; i <= to; i++) ins.run(BigInt(i), vecOf(rand, 4)); })();
    const d0 = deferred(db);
    txn(1, 6000);
    expect(deferred(db) - d0).toBe(6000 - DEFER);
    txn(6001, 6100);  // no read since: the cache still lacks vectors, so these defer too
    expect(deferred(db) - d0).toBe(6000 - DEFER + 100);
    checkKnn(db, 4, rand);  // rebuilt here
    const d1 = deferred(db);
    txn(6101, 6200);  // 100 rows into 6100: kept in the cache as usual
    expect(deferred(db)).toBe(d1);
    const l1 = loads(db);
    checkKnn(db, 4, rand);
    expect(loads(db)).toBe(l1);
    db.close();
  });

  test('a slot freed by a deferred row and taken by a row kept in the cache gets the new row', () => {
    const rand = rng(10);
    const ours = openDb();
    const ref = openRef();
    for (const db of [ours, ref]) db.exec('create virtual table t using vec0(v float[4], chunk_size=32)');
    const ins = (id: number | null) => both(ours, ref, 'insert into t(rowid, v) values (?, ?)', id === null ? null : BigInt(id), vecOf(rand, 4));
    both(ours, ref, 'begin');
    for (let i = 1; i <= 6000; i++) ins(i);
    both(ours, ref, 'commit');
    both(ours, ref, 'begin');
    for (let i = 0; i < 50; i++) ins(null);  // deferred: the cache still lacks vectors
    // The subquery reads the table (the cache is rebuilt whole); the inserts after it, 50 rows
    // into a table of 6000, are kept in the cache, and the first one takes the freed slot.
    both(ours, ref, 'delete from t where rowid = (select max(rowid) from t)');
    for (let i = 0; i < 50; i++) ins(null);
    both(ours, ref, 'commit');
    expect(shadowDump(ours)).toEqual(shadowDump(ref));
    checkKnn(ours, 4, rand);
    ours.close();
    ref.close();
  });

  test('multi-row statements: the log is written out between statements, and a failed statement after that rolls back alone', () => {
    const rand = rng(8);
    const ours = openDb();
    const ref = openRef();
    const dims = 256;  // 1 KiB a row: 17,000 rows are more than the log's 16 MiB bound
    for (const db of [ours, ref]) {
      db.exec(`create virtual table t using vec0(v float[${dims}]); create table src(id integer primary key, v blob)`);
    }
    const fill = (db: DB, seed: number) => {
      const r = rng(seed);
      const st = db.prepare('insert into src(id, v) values (?, ?)');
      db.transaction(() => { for (let i = 1; i <= 19000; i++) st.run(i, vecOf(r, dims)); })();
    };
    fill(ours, 99);
    fill(ref, 99);
    both(ours, ref, 'begin');
    both(ours, ref, 'insert into t(rowid, v) select id, v from src where id <= 17000');
    // Nothing of it is in the shadow tables yet (one statement: the log holds it).
    expect(ours.prepare('select count(*) from t_rowids').pluck().get()).toBe(0);
    both(ours, ref, 'insert into t(rowid, v) select id, v from src where id > 17000 and id <= 18000');
    // The second statement's start wrote the first one's rows; its own are still in the log.
    expect(ours.prepare('select count(*) from t_rowids').pluck().get()).toBe(17000);
    // A statement failing half-way (rowid 18001 is new, then 1 is a duplicate) undoes only itself.
    both(ours, ref, 'insert into t(rowid, v) select id, v from src where id > 18000 union all select 1, v from src where id = 1');
    both(ours, ref, 'insert into t(rowid, v) select id, v from src where id > 18000');
    both(ours, ref, 'commit');
    expect(ours.prepare('select count(*) from t').pluck().get()).toBe(19000);
    expect(shadowDump(ours)).toEqual(shadowDump(ref));
    checkKnn(ours, dims, rand);
    ours.close();
    ref.close();
  });

  test('another connection sees the committed rows; a text primary key table defers too', () => {
    const rand = rng(9);
    const file = path.join(tempDir(), 'deferred.db');
    const a = openDb(file);
    a.pragma('journal_mode = wal');
    a.exec('create virtual table t using vec0(id text primary key, v float[4], chunk_size=16)');
    const b = openDb(file);
    expect(b.prepare('select count(*) from t').pluck().get()).toBe(0);
    const ins = a.prepare('insert into t(id, v) values (?, ?)');
    const d0 = deferred(a);
    a.transaction(() => { for (let i = 1; i <= 5000; i++) ins.run(`k${i}`, vecOf(rand, 4)); })();
    expect(deferred(a) - d0).toBe(5000 - DEFER);
    const q = vecOf(rand, 4);
    const knn = (db: DB) => db.prepare('select id, distance from t where v match ? and k = 5').all(q);
    expect(knn(b)).toEqual(knn(a));
    expect(b.prepare("select v from t where id = 'k4999'").pluck().get()).toEqual(a.prepare("select v from t where id = 'k4999'").pluck().get());
    a.close();
    b.close();
  });
});
