// vec_knn_batch: many query vectors in one call give exactly what each vector gives alone through
// `match ? and k = ?`, and a brute-force oracle agrees; bad arguments are errors naming them.
import { openDb, rng, randomF32, msg } from './helpers/db';

type Row = { query: number; rowid: number; id: number | string; distance: number };

function l2(a: Float32Array, b: Float32Array) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}
const blob = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
const concat = (vs: Float32Array[]) => Buffer.concat(vs.map(blob));

// For each query: what the single-query form returns.
function singles(db: ReturnType<typeof openDb>, table: string, col: string, qs: (Float32Array | Buffer)[], k: number) {
  const st = db.prepare(`select rowid, distance from ${table} where ${col} match ? and k = ?`);
  return qs.map((q) => st.all(q instanceof Float32Array ? blob(q) : q, k) as { rowid: number; distance: number }[]);
}
function byQuery(rows: Row[], n: number) {
  const out: { rowid: number; distance: number }[][] = Array.from({ length: n }, () => []);
  for (const r of rows) out[r.query].push({ rowid: r.rowid, distance: r.distance });
  return out;
}

describe('vec_knn_batch', () => {
  for (const [metric, n] of [['l2', 700], ['cosine', 700], ['l1', 700], ['l2', 5000], ['cosine', 6000]] as const) {
    test(`float32 ${metric}, ${n} rows (${n >= 2048 ? 'sketch scans' : 'plain scans'}): every query as alone, and the oracle`, () => {
      const rand = rng(n + metric.length);
      const db = openDb();
      db.exec(`create virtual table t using vec0(v float[48] distance_metric=${metric}, chunk_size=256)`);
      const rows: Float32Array[] = [];
      const ins = db.prepare('insert into t(rowid, v) values (?, ?)');
      db.transaction(() => {
        for (let i = 0; i < n; i++) {
          const v = randomF32(rand, 48);
          rows.push(v);
          ins.run(i + 1, blob(v));
        }
      })();
      const qs = Array.from({ length: 40 }, () => randomF32(rand, 48));
      const got = db.prepare("select query, rowid, id, distance from vec_knn_batch('t', ?, 10)").all(concat(qs)) as Row[];
      expect(got).toHaveLength(40 * 10);
      expect(byQuery(got, 40)).toEqual(singles(db, 't', 'v', qs, 10));
      got.forEach((r) => expect(r.id).toBe(r.rowid));
      if (metric === 'l2') {
        for (let q = 0; q < 40; q += 7) {
          const want = rows.map((r, i) => ({ id: i + 1, d: l2(qs[q], r) })).sort((a, b) => a.d - b.d || a.id - b.id).slice(0, 10);
          const mine = got.filter((r) => r.query === q);
          expect(mine.map((r) => r.rowid)).toEqual(want.map((w) => w.id));
          mine.forEach((r, i) => expect(r.distance).toBeCloseTo(want[i].d, 4));
        }
      }
    });
  }

  test('a JSON array of vectors, partitions, text primary keys, k larger than the table, k = 0', () => {
    const rand = rng(5);
    const db = openDb();
    db.exec('create virtual table t using vec0(id text primary key, lang text partition key, v float[8])');
    const ins = db.prepare('insert into t(id, lang, v) values (?, ?, ?)');
    for (let i = 0; i < 300; i++) ins.run(`doc-${i}`, i % 3 === 0 ? 'en' : 'de', blob(randomF32(rand, 8)));
    const qs = Array.from({ length: 5 }, () => Array.from(randomF32(rand, 8)));
    const json = JSON.stringify(qs);
    const got = db.prepare("select query, rowid, id, distance from vec_knn_batch('t', ?, 7)").all(json) as Row[];
    const alone = qs.map((q) => db.prepare('select id, distance from t where v match ? and k = 7').all(JSON.stringify(q)));
    expect(byQuery(got, 5).map((l, q) => l.map((r, i) => ({ id: got.filter((g) => g.query === q)[i].id, distance: r.distance })))).toEqual(alone);
    expect(got.every((r) => typeof r.id === 'string')).toBe(true);
    expect(db.prepare("select count(*) from vec_knn_batch('t', ?, 1000)").pluck().get(json)).toBe(5 * 300);
    expect(db.prepare("select count(*) from vec_knn_batch('t', ?, 0)").pluck().get(json)).toBe(0);
    expect(db.prepare("select count(*) from vec_knn_batch('t', '[]', 3)").pluck().get()).toBe(0);
  });

  test('int8 and bit columns; a named column of a table with two', () => {
    const rand = rng(9);
    const db = openDb();
    db.exec('create virtual table t using vec0(a int8[16], b bit[64])');
    const ins = db.prepare('insert into t(rowid, a, b) values (?, vec_int8(?), vec_bit(?))');
    for (let i = 1; i <= 400; i++) {
      const a = Buffer.from(Array.from({ length: 16 }, () => Math.floor(rand() * 256) - 128).map((x) => x & 255));
      const b = Buffer.from(Array.from({ length: 8 }, () => Math.floor(rand() * 256)));
      ins.run(i, a, b);
    }
    const qa = Array.from({ length: 6 }, () => Buffer.from(Array.from({ length: 16 }, () => Math.floor(rand() * 256))));
    const qb = Array.from({ length: 6 }, () => Buffer.from(Array.from({ length: 8 }, () => Math.floor(rand() * 256))));
    const ga = db.prepare("select query, rowid, id, distance from vec_knn_batch('t', ?, 5, 'a')").all(Buffer.concat(qa)) as Row[];
    const sa = qa.map((q) => db.prepare('select rowid, distance from t where a match vec_int8(?) and k = 5').all(q));
    expect(byQuery(ga, 6)).toEqual(sa);
    const gb = db.prepare("select query, rowid, id, distance from vec_knn_batch('t', ?, 5, 'b')").all(Buffer.concat(qb)) as Row[];
    const sb = qb.map((q) => db.prepare('select rowid, distance from t where b match vec_bit(?) and k = 5').all(q));
    expect(byQuery(gb, 6)).toEqual(sb);
  });

  test('a graph-indexed column answers each query as a single query would', () => {
    const rand = rng(13);
    const db = openDb();
    db.exec('create virtual table g using vec0(v float[16] indexed by hnsw(m=8, ef_construction=64))');
    const ins = db.prepare('insert into g(rowid, v) values (?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= 20000; i++) ins.run(i, blob(randomF32(rand, 16)));
    })();
    const qs = Array.from({ length: 12 }, () => randomF32(rand, 16));
    const got = db.prepare("select query, rowid, id, distance from vec_knn_batch('g', ?, 10)").all(concat(qs)) as Row[];
    expect(byQuery(got, 12)).toEqual(singles(db, 'g', 'v', qs, 10));
  });

  test('a table this connection has not used yet, another schema, a write in the open transaction', () => {
    const db = openDb();
    db.exec("attach ':memory:' as aux");
    db.exec('create virtual table aux.t using vec0(v float[2])');
    db.exec("insert into aux.t(rowid, v) values (1, '[0, 0]'), (2, '[1, 1]'), (3, '[5, 5]')");
    db.exec('create virtual table t using vec0(v float[2])');
    db.exec("insert into t(rowid, v) values (7, '[9, 9]')");
    const q = "select query, rowid from vec_knn_batch(?, '[[0.9, 0.9], [6, 6]]', 1)";
    expect(db.prepare(q).all('aux.t')).toEqual([{ query: 0, rowid: 2 }, { query: 1, rowid: 3 }]);
    expect(db.prepare(q).all('t')).toEqual([{ query: 0, rowid: 7 }, { query: 1, rowid: 7 }]);
    db.exec('begin');
    db.exec("insert into t(rowid, v) values (8, '[1, 1]')");
    expect(db.prepare(q).all('t')).toEqual([{ query: 0, rowid: 8 }, { query: 1, rowid: 7 }]);
    db.exec('rollback');
    expect(db.prepare(q).all('t')).toEqual([{ query: 0, rowid: 7 }, { query: 1, rowid: 7 }]);
  });

  test('bad arguments are errors naming the problem', () => {
    const db = openDb();
    db.exec('create virtual table t using vec0(v float[4])');
    db.exec('create table plain(x)');
    db.exec("insert into t(rowid, v) values (1, '[1, 2, 3, 4]')");
    const q = (sql: string, ...args: unknown[]) => msg(() => db.prepare(sql).all(...args));
    expect(q("select * from vec_knn_batch('nope', '[[1,2,3,4]]', 3)")).toMatch(/no such table: nope/);
    expect(q("select * from vec_knn_batch('plain', '[[1,2,3,4]]', 3)")).toMatch(/plain is not a vec0 table/);
    expect(q("select * from vec_knn_batch('t', '[[1,2,3]]', 3)")).toMatch(/query 0 has 3 dimensions; the "v" column has 4/);
    expect(q("select * from vec_knn_batch('t', '[[1,2,3,4], [1,2,\"x\",4]]', 3)")).toMatch(/query 1/);
    expect(q("select * from vec_knn_batch('t', ?, 3)", Buffer.alloc(10))).toMatch(/whole float32\[4\] vectors of 16 bytes; got 10/);
    expect(q("select * from vec_knn_batch('t', ?, 3)", blob(new Float32Array([1, NaN, 0, 0])))).toMatch(/query 0: element 1 is not a finite number/);
    expect(q("select * from vec_knn_batch('t', '[[1,2,3,4]', 3)")).toMatch(/JSON array of vectors/);
    expect(q("select * from vec_knn_batch('t', 42, 3)")).toMatch(/queries must be a JSON array of vectors or a BLOB/);
    expect(q("select * from vec_knn_batch('t', '[[1,2,3,4]]', -1)")).toMatch(/k must be an integer from 0 to 4096/);
    expect(q("select * from vec_knn_batch('t', '[[1,2,3,4]]', 5000)")).toMatch(/k must be an integer/);
    expect(q("select * from vec_knn_batch('t', '[[1,2,3,4]]', 3, 'w')")).toMatch(/t has no vector column "w"/);
    expect(q("select * from vec_knn_batch('t', '[[1,2,3,4]]')")).toMatch(/no query solution/);
    expect(msg(() => db.exec('create virtual table x using vec_knn_batch()'))).toMatch(/vec_knn_batch/);
  });
});
