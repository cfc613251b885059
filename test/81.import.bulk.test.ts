// bulkInsert: both write paths store exactly the given rows (checked against a brute-force
// nearest neighbour and the stored bytes), validation happens before anything is written, and a
// failing insert leaves the table as it was.
import { openDb, randomF32, rng } from './helpers/db';
import { bulkInsert, firstNonFinite, vec0Columns } from '../src/bulk';

function stored(db: ReturnType<typeof openDb>, table: string, col = 'embedding'): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const [id, v] of db.prepare(`select rowid, ${col} from ${table}`).raw().all() as [number, Buffer][]) m.set(String(id), v);
  return m;
}

describe('bulkInsert', () => {
  test('consecutive ids go through vec_rows (one float column) or vec_npy_each; the rows are exactly the input', () => {
    const n = 1500, d = 12;
    for (const [decl, path] of [[`embedding float[${d}]`, 'rows'], [`embedding float[${d}], tag text`, 'npy']] as const) {
      const db = openDb();
      db.exec(`create virtual table t using vec0(${decl})`);
      const data = randomF32(rng(1), n * d);
      const ids = Array.from({ length: n }, (_, i) => 10 + i);
      expect(bulkInsert(db, 't', ids, data)).toEqual({ rows: n, dims: d, path });
      const got = stored(db, 't');
      expect(got.size).toBe(n);
      for (const i of [0, 777, n - 1]) expect(Buffer.compare(got.get(String(10 + i))!, Buffer.from(data.buffer, i * d * 4, d * 4))).toBe(0);
      // Float32Array[] the same way
      const db2 = openDb();
      db2.exec(`create virtual table t using vec0(${decl})`);
      const rows = Array.from({ length: n }, (_, i) => data.subarray(i * d, (i + 1) * d));
      expect(bulkInsert(db2, 't', ids, rows).path).toBe(path);
      expect(stored(db2, 't')).toEqual(got);
    }
  });
  test('arbitrary ids and Float32Array[] go through batched INSERTs; KNN agrees with brute force', () => {
    const db = openDb();
    const n = 700, d = 6;
    db.exec(`create virtual table t using vec0(embedding float[${d}])`);
    const r = rng(2);
    const vecs = Array.from({ length: n }, () => randomF32(r, d));
    const ids = Array.from({ length: n }, (_, i) => 3 * i + 5);
    expect(bulkInsert(db, 't', ids, vecs, { batchSize: 50 }).path).toBe('batched');
    const q = randomF32(r, d);
    const brute = vecs.map((v, i) => ({ id: ids[i], dist: Math.sqrt(v.reduce((s, x, j) => s + (x - q[j]) ** 2, 0)) }))
      .sort((a, b) => a.dist - b.dist).slice(0, 5).map((x) => x.id);
    const knn = db.prepare('select rowid from t where embedding match ? and k = 5').pluck().all(Buffer.from(q.buffer));
    expect(knn).toEqual(brute);
  });
  test('text primary keys, partition and metadata columns', () => {
    const db = openDb();
    db.exec('create virtual table t using vec0(id text primary key, user_id integer partition key, embedding float[2], year integer)');
    expect(vec0Columns(db, 't')).toEqual([{ name: 'embedding', type: 'float', dims: 2 }]);
    bulkInsert(db, 't', ['a', 'b', 'c'], new Float32Array([1, 0, 0, 1, 1, 1]), { idColumn: 'id', columns: { user_id: [1, 1, 2], year: [2020, 2021, 2022] } });
    expect(db.prepare('select id, user_id, year, vec_to_json(embedding) from t order by id').raw().all()).toEqual([
      ['a', 1, 2020, '[1.000000,0.000000]'], ['b', 1, 2021, '[0.000000,1.000000]'], ['c', 2, 2022, '[1.000000,1.000000]'],
    ]);
  });
  test('a plain table with a BLOB column works through the batched path', () => {
    const db = openDb();
    db.exec('create table p(id integer primary key, v blob)');
    bulkInsert(db, 'p', [4, 9], new Float32Array([1, 2, 3, 4]), { column: 'v', dims: 2, idColumn: 'id' });
    expect(db.prepare('select id, vec_to_json(v) from p').raw().all()).toEqual([[4, '[1.000000,2.000000]'], [9, '[3.000000,4.000000]']]);
  });
  test('validation names the row and writes nothing', () => {
    const db = openDb();
    db.exec('create virtual table t using vec0(embedding float[3])');
    const bad = new Float32Array([1, 2, 3, 4, NaN, 6]);
    expect(() => bulkInsert(db, 't', [1, 2], bad)).toThrow('bulkInsert: row 1 (id 2): element 1 is NaN');
    expect(() => bulkInsert(db, 't', [1, 2], new Float32Array([1, 2, 3, Infinity, 0, 0]))).toThrow('bulkInsert: row 1 (id 2): element 0 is Infinity');
    expect(() => bulkInsert(db, 't', [1, 2], new Float32Array(5))).toThrow(/does not hold 2 vectors of 3 dimensions/);
    expect(() => bulkInsert(db, 't', [1], [new Float32Array(4)])).toThrow('bulkInsert: row 0 (id 1): 4 dimensions, expected 3');
    expect(() => bulkInsert(db, 't', [1.5], new Float32Array(3))).toThrow(/id 0 is .*expected an integer/);
    expect(() => bulkInsert(db, 't', [1], new Float32Array(3), { colum: 'x' } as never)).toThrow(/misspelled option "colum" should be "column"|unknown option "colum"/);
    expect(db.prepare('select count(*) from t').pluck().get()).toBe(0);
  });
  test('a constraint failure in the middle rolls the whole import back (duplicate rowid)', () => {
    const db = openDb();
    db.exec('create virtual table t using vec0(embedding float[2])');
    db.prepare('insert into t(rowid, embedding) values (150, ?)').run(Buffer.from(new Float32Array([9, 9]).buffer));
    for (const ids of [Array.from({ length: 200 }, (_, i) => i + 1), Array.from({ length: 200 }, (_, i) => 200 - i)]) {
      expect(() => bulkInsert(db, 't', ids, new Float32Array(400).fill(0.5))).toThrow();
      expect(db.prepare('select count(*) from t').pluck().get()).toBe(1);
    }
  });
  test('inside an open transaction it nests as a savepoint', () => {
    const db = openDb();
    db.exec('create virtual table t using vec0(embedding float[2]); begin');
    bulkInsert(db, 't', [1, 2], new Float32Array([1, 2, 3, 4]));
    db.exec('rollback');
    expect(db.prepare('select count(*) from t').pluck().get()).toBe(0);
  });
});

test('firstNonFinite: the first NaN or infinite element, through the SIMD check and the short-array path alike', () => {
  for (const n of [5, 63, 64, 1000, 200000]) {
    const v = new Float32Array(n).map((_, i) => i * 0.5 - 3);
    expect(firstNonFinite(v)).toBe(-1);
    for (const [at, bad] of [[n - 1, NaN], [Math.floor(n / 2), Infinity], [0, -Infinity]] as const) {
      const w = v.slice();
      w[at] = bad;
      if (at + 1 < n) w[n - 1] = NaN; // a later one does not matter
      expect(firstNonFinite(w)).toBe(at);
    }
  }
  const big = new Float32Array(300000);
  big[131071] = 3.4e38 * 10; // overflows to Infinity in float32
  expect(firstNonFinite(big)).toBe(131071);
  expect(firstNonFinite(big.subarray(131072))).toBe(-1);
});
