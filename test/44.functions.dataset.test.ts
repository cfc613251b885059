// vec_cosine / vec_l2: the reference's semantics and messages, values computed by hand.
import { f32blob, openDb, randomF32, rng } from './helpers/db';
import { encodeEmbedding } from '../src';

const db = openDb();
const one = (sql: string, ...args: unknown[]) => db.prepare(sql).pluck().get(...args);

describe('vec_cosine', () => {
  test('hand-computed similarities', () => {
    expect(one('select vec_cosine(?, ?)', f32blob([1, 0]), f32blob([0, 1]))).toBe(0);
    expect(one('select vec_cosine(?, ?)', f32blob([1, 0]), f32blob([2, 0]))).toBeCloseTo(1, 12);
    expect(one('select vec_cosine(?, ?)', f32blob([1, 0]), f32blob([-3, 0]))).toBeCloseTo(-1, 12);
    // 32 / sqrt(14 * 77)
    expect(one('select vec_cosine(?, ?)', f32blob([1, 2, 3]), f32blob([4, 5, 6]))).toBeCloseTo(32 / Math.sqrt(1078), 7);
  });
  test('agrees with a float64 reference on long random vectors', () => {
    const r = rng(7);
    for (const n of [1, 3, 17, 384, 1000, 1536]) {
      const a = randomF32(r, n), b = randomF32(r, n);
      let dot = 0, aa = 0, bb = 0;
      for (let i = 0; i < n; i++) { dot += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
      const want = dot / Math.sqrt(aa * bb);
      const got = one('select vec_cosine(?, ?)', encodeEmbedding(a), encodeEmbedding(b)) as number;
      expect(Math.abs(got - want)).toBeLessThan(1e-5);
    }
  });
  test('NULL or an empty blob on either side gives NULL', () => {
    expect(one('select vec_cosine(NULL, ?)', f32blob([1]))).toBeNull();
    expect(one("select vec_cosine(?, X'')", f32blob([1]))).toBeNull();
    expect(one("select vec_cosine(X'', NULL)")).toBeNull();
  });
  test('dimension mismatch', () => {
    expect(() => one('select vec_cosine(?, ?)', f32blob([1, 2, 3]), f32blob([1, 2]))).toThrow(/^vec: cosine dim mismatch 3 vs 2$/);
  });
  test('zero-magnitude vector', () => {
    expect(() => one('select vec_cosine(?, ?)', f32blob([0, 0]), f32blob([1, 2]))).toThrow(/^vec: cosine with zero-magnitude vector$/);
    expect(() => one('select vec_cosine(?, ?)', f32blob([1, 2]), f32blob([0, 0]))).toThrow(/^vec: cosine with zero-magnitude vector$/);
  });
  test('unsupported argument types use the original Go type names', () => {
    expect(() => one("select vec_cosine('abc', ?)", f32blob([1]))).toThrow(/^vec: unsupported argument type string for embedding; want BLOB$/);
    expect(() => one('select vec_cosine(?, 1)', f32blob([1]))).toThrow(/^vec: unsupported argument type int64 for embedding; want BLOB$/);
    expect(() => one('select vec_cosine(1.5, ?)', f32blob([1]))).toThrow(/^vec: unsupported argument type float64 for embedding; want BLOB$/);
  });
  test('blob length not a multiple of 4', () => {
    expect(() => one("select vec_cosine(X'0102030405', ?)", f32blob([1]))).toThrow(/^vec: invalid embedding blob length 5$/);
  });
  test('NaN in an embedding is an error, not a silent NULL', () => {
    expect(() => one('select vec_cosine(?, ?)', f32blob([NaN, 1]), f32blob([1, 1]))).toThrow(/^vec: cosine result is not a number/);
  });
  test('registered with exactly two arguments', () => {
    expect(() => one('select vec_cosine(?)', f32blob([1]))).toThrow(/wrong number of arguments to function vec_cosine\(\)/);
  });
});

describe('vec_l2', () => {
  test('hand-computed distances', () => {
    expect(one('select vec_l2(?, ?)', f32blob([1, 2, 3]), f32blob([4, 6, 8]))).toBeCloseTo(Math.sqrt(50), 6);
    expect(one('select vec_l2(?, ?)', f32blob([0, 0]), f32blob([0, 0]))).toBe(0);
    expect(one('select vec_l2(?, ?)', f32blob([-1]), f32blob([2]))).toBe(3);
  });
  test('agrees with a float64 reference on long random vectors', () => {
    const r = rng(11);
    for (const n of [2, 15, 128, 769, 4096]) {
      const a = randomF32(r, n), b = randomF32(r, n);
      let s = 0;
      for (let i = 0; i < n; i++) s += (a[i] - b[i]) ** 2;
      const got = one('select vec_l2(?, ?)', encodeEmbedding(a), encodeEmbedding(b)) as number;
      expect(Math.abs(got - Math.sqrt(s)) / Math.sqrt(s)).toBeLessThan(1e-5);
    }
  });
  test('NULL and empty blobs give NULL, errors name the problem', () => {
    expect(one('select vec_l2(NULL, NULL)')).toBeNull();
    expect(one("select vec_l2(X'', ?)", f32blob([1]))).toBeNull();
    expect(() => one('select vec_l2(?, ?)', f32blob([1]), f32blob([1, 2]))).toThrow(/^vec: L2 dim mismatch 1 vs 2$/);
    expect(() => one("select vec_l2('x', ?)", f32blob([1]))).toThrow(/^vec: unsupported argument type string for embedding; want BLOB$/);
    expect(() => one("select vec_l2(?, X'00')", f32blob([1]))).toThrow(/^vec: invalid embedding blob length 1$/);
  });
  test('usable in ORDER BY over a table', () => {
    db.exec('create table pts(id integer primary key, v blob)');
    const ins = db.prepare('insert into pts(v) values (?)');
    [[5, 5], [1, 1], [3, 3], [0, 0]].forEach((p) => ins.run(f32blob(p)));
    const ids = db.prepare('select id from pts order by vec_l2(v, ?) limit 3').pluck().all(f32blob([0.9, 0.9]));
    expect(ids).toEqual([2, 4, 3]);
  });
});
