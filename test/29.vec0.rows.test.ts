// vec_rows(): many rows in one INSERT (whole chunks written at once). Checked against sqlite-vec
// 0.1.9 inserting the same rows one by one (shadow tables byte for byte), a brute-force KNN, and
// every error naming its cause with nothing written.
import { openDb, openRef, rng, msg, DB } from './helpers/db';
import { shadowDump, both } from './helpers/shadow';
import { bulkInsert } from '../src';

const stats = (db: DB) => JSON.parse(db.prepare('select vec_stats()').pluck().get() as string);

function rowsOf(rand: () => number, n: number, dims: number): Float32Array {
  return Float32Array.from({ length: n * dims }, () => Math.round(rand() * 200 - 100) / 4);
}
const bytes = (v: Float32Array | Int8Array | Uint8Array, from = 0, to?: number) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).subarray(from, to);

/** Inserts rows [from, to) of `data` into the reference row by row (rowid first + i, or NULL). */
function refInsert(ref: DB, data: Float32Array, dims: number, from: number, to: number, firstRowid: number | null): void {
  const st = ref.prepare('insert into t(rowid, v) values (?, ?)');
  for (let i = from; i < to; i++) st.run(firstRowid === null ? null : BigInt(firstRowid + i - from), bytes(data.subarray(i * dims, (i + 1) * dims)));
}

function knnMatches(db: DB, data: Float32Array, ids: number[], dims: number, rand: () => number): void {
  const q = rowsOf(rand, 1, dims);
  const want = ids.map((id, i) => {
    let s = 0;
    for (let t = 0; t < dims; t++) s += (data[i * dims + t] - q[t]) ** 2;
    return { id, d: Math.sqrt(s) };
  }).sort((a, b) => a.d - b.d).slice(0, 8);
  const got = db.prepare('select rowid, distance from t where v match ? and k = 8').all(bytes(q)) as any[];
  expect(got.map((r) => r.distance)).toEqual(want.map((w) => expect.closeTo(w.d, 3)));
}

describe('vec_rows()', () => {
  test('into an empty table, a partly filled one, and with NULL rowids: the same tables as 0.1.9 row by row', () => {
    const rand = rng(11);
    const dims = 6;
    const ours = openDb();
    const ref = openRef();
    for (const db of [ours, ref]) db.exec('create virtual table t using vec0(v float[6], chunk_size=64)');
    const data = rowsOf(rand, 5000, dims);
    const ins = ours.prepare('insert into t(rowid, v) values (?, vec_rows(?))');
    // 1000 rows from rowid 1: 15 whole chunks and 40 rows more.
    ours.transaction(() => ins.run(1, bytes(data, 0, 1000 * dims * 4)))();
    ref.transaction(() => refInsert(ref, data, dims, 0, 1000, 1))();
    expect(shadowDump(ours)).toEqual(shadowDump(ref));
    // The latest chunk holds 40 rows: 24 fill it, then whole chunks, then the rest.
    ours.transaction(() => ins.run(5001, bytes(data, 1000 * dims * 4, 3000 * dims * 4)))();
    ref.transaction(() => refInsert(ref, data, dims, 1000, 3000, 5001))();
    expect(shadowDump(ours)).toEqual(shadowDump(ref));
    // NULL: the next AUTOINCREMENT rowids; outside an explicit transaction.
    const last = ins.run(null, bytes(data, 3000 * dims * 4, 5000 * dims * 4));
    ref.transaction(() => refInsert(ref, data, dims, 3000, 5000, null))();
    expect(shadowDump(ours)).toEqual(shadowDump(ref));
    expect(Number(last.lastInsertRowid)).toBe(7000 + 2000);
    const ids = [...Array.from({ length: 1000 }, (_, i) => i + 1), ...Array.from({ length: 2000 }, (_, i) => 5001 + i), ...Array.from({ length: 2000 }, (_, i) => 7001 + i)];
    knnMatches(ours, data, ids, dims, rand);
    expect(ours.prepare('select v from t where rowid = 7001').pluck().get()).toEqual(bytes(data, 3000 * dims * 4, 3001 * dims * 4));
    ours.close();
    ref.close();
  });

  test('with a pending write log: flushed first at the transaction level, row by row inside a savepoint', () => {
    const rand = rng(12);
    const dims = 4;
    const ours = openDb();
    const ref = openRef();
    for (const db of [ours, ref]) db.exec('create virtual table t using vec0(v float[4], chunk_size=32)');
    const data = rowsOf(rand, 700, dims);
    const ins = ours.prepare('insert into t(rowid, v) values (?, vec_rows(?))');
    both(ours, ref, 'begin');
    refInsert(ours, data, dims, 0, 100, 1);
    refInsert(ref, data, dims, 0, 100, 1);
    both(ours, ref, 'delete from t where rowid in (5, 90)');  // _rowids deletes pending in the log
    ins.run(5, bytes(data, 100 * dims * 4, 101 * dims * 4));  // takes rowid 5 again
    refInsert(ref, data, dims, 100, 101, 5);
    ins.run(101, bytes(data, 101 * dims * 4, 300 * dims * 4));
    refInsert(ref, data, dims, 101, 300, 101);
    both(ours, ref, 'savepoint a');
    ins.run(1001, bytes(data, 300 * dims * 4, 500 * dims * 4));
    refInsert(ref, data, dims, 300, 500, 1001);
    both(ours, ref, 'rollback to a');
    ins.run(2001, bytes(data, 500 * dims * 4, 700 * dims * 4));
    refInsert(ref, data, dims, 500, 700, 2001);
    both(ours, ref, 'release a');
    both(ours, ref, 'commit');
    expect(shadowDump(ours)).toEqual(shadowDump(ref));
    expect(ours.prepare('select count(*) from t').pluck().get()).toBe(98 + 1 + 199 + 200);
    ours.close();
    ref.close();
  });

  test('rowids deleted earlier in the transaction (their _rowids deletes still in the log) can be inserted as a whole chunk', () => {
    const rand = rng(15);
    const dims = 4;
    const ours = openDb();
    const ref = openRef();
    for (const db of [ours, ref]) db.exec('create virtual table t using vec0(v float[4], chunk_size=32)');
    const data = rowsOf(rand, 104, dims);
    refInsert(ours, data, dims, 0, 64, 1);
    refInsert(ref, data, dims, 0, 64, 1);
    both(ours, ref, 'begin');
    both(ours, ref, 'delete from t where rowid > 32');  // chunk 2 emptied: the latest chunk is full
    ours.prepare('insert into t(rowid, v) values (33, vec_rows(?))').run(bytes(data, 64 * dims * 4, 104 * dims * 4));
    refInsert(ref, data, dims, 64, 104, 33);
    both(ours, ref, 'commit');
    expect(shadowDump(ours)).toEqual(shadowDump(ref));
    ours.close();
    ref.close();
  });

  test('int8 and bit columns', () => {
    const rand = rng(13);
    for (const [decl, rowBytes] of [['int8[16]', 16], ['bit[64]', 8]] as const) {
      const ours = openDb();
      const ref = openRef();
      for (const db of [ours, ref]) db.exec(`create virtual table t using vec0(v ${decl}, chunk_size=16)`);
      const raw = Int8Array.from({ length: 100 * rowBytes }, () => Math.floor(rand() * 256) - 128);
      ours.prepare('insert into t(rowid, v) values (1, vec_rows(?))').run(bytes(raw));
      const fn = decl.startsWith('int8') ? 'vec_int8' : 'vec_bit';
      const st = ref.prepare(`insert into t(rowid, v) values (?, ${fn}(?))`);
      for (let i = 0; i < 100; i++) st.run(BigInt(i + 1), bytes(raw, i * rowBytes, (i + 1) * rowBytes));
      expect(shadowDump(ours)).toEqual(shadowDump(ref));
      ours.close();
      ref.close();
    }
  });

  test('errors name the problem and write nothing', () => {
    const db = openDb();
    db.exec(`create virtual table t using vec0(v float[4], chunk_size=8);
             create virtual table m using vec0(v float[4], tag text);
             create virtual table p using vec0(tenant integer partition key, v float[4]);
             create virtual table x using vec0(id text primary key, v float[4]);
             create virtual table g using vec0(v float[4] indexed by hnsw());`);
    const four = (n: number) => bytes(new Float32Array(n * 4).fill(1));
    db.prepare('insert into t(rowid, v) values (10, vec_rows(?))').run(four(3));
    const before = shadowDump(db);
    expect(msg(() => db.prepare('insert into t(rowid, v) values (8, vec_rows(?))').run(four(20)))).toBe('UNIQUE constraint failed on t primary key');
    expect(msg(() => db.prepare('insert into t(rowid, v) values (100, vec_rows(?))').run(Buffer.alloc(20)))).toBe(
      'vec_rows(): 20 bytes are not a whole number of float32[4] vectors for the "v" column (16 bytes each)');
    expect(msg(() => db.prepare("insert into t(rowid, v) values ('a', vec_rows(?))").run(four(1)))).toBe('Only integers are allows for primary key values on t');
    expect(msg(() => db.prepare('select vec_rows(?)').get('text'))).toBe('vec_rows(): expected one BLOB of vectors back to back');
    expect(shadowDump(db)).toEqual(before);
    for (const name of ['m', 'p', 'x', 'g']) {
      expect(msg(() => db.prepare(`insert into ${name}(v) values (vec_rows(?))`).run(four(2)))).toBe(
        `vec_rows(): vec0 table ${name} must have one vector column and no partition key, metadata, auxiliary column, text primary key or graph index`);
      expect(db.prepare(`select count(*) from ${name}`).pluck().get()).toBe(0);
    }
    // Anywhere else the value is NULL.
    expect(db.prepare('select vec_rows(?) is null').pluck().get(four(1))).toBe(1);
    db.close();
  });

  test('bulkInsert uses it for a table of one float column, and defers the cache of a large import', () => {
    const rand = rng(14);
    const db = openDb();
    db.exec('create virtual table t using vec0(v float[8]); create virtual table u using vec0(v float[8], tag text)');
    const n = 20000;
    const data = rowsOf(rand, n, 8);
    const ids = Array.from({ length: n }, (_, i) => i + 1);
    const d0 = stats(db).vec0_deferred_rows;
    expect(bulkInsert(db, 't', ids, data).path).toBe('rows');
    // 4 whole chunks kept in the cache, then the rest deferred (4096 rows: VECSQLITE_DEFER_ROWS).
    expect(stats(db).vec0_deferred_rows - d0).toBe(n - 4096);
    expect(db.prepare('select count(*) from t').pluck().get()).toBe(n);
    knnMatches(db, data, ids, 8, rand);
    expect(bulkInsert(db, 'u', ids.slice(0, 10), data.subarray(0, 80)).path).toBe('npy');
    db.close();
  });
});
