// vec0 KNN against a brute-force JS oracle: ids, distances, tie order, k beyond 4096, filters.
import { openDb, rng, randomF32, f32blob } from './helpers/db';

function l2(a: Float32Array, b: Float32Array) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}
function cosd(a: Float32Array, b: Float32Array) {
  let d = 0, x = 0, y = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; x += a[i] * a[i]; y += b[i] * b[i]; }
  return 1 - d / Math.sqrt(x * y);
}
function l1(a: Float32Array, b: Float32Array) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i] - b[i]);
  return s;
}

describe('vec0 KNN', () => {
  for (const [metric, fn] of [['l2', l2], ['cosine', cosd], ['l1', l1]] as const) {
    test(`${metric}: matches a brute-force oracle (distinct distances)`, () => {
      const rand = rng(metric.length * 31);
      const db = openDb();
      db.exec(`create virtual table t using vec0(v float[24] distance_metric=${metric}, chunk_size=64)`);
      const rows: Float32Array[] = [];
      const ins = db.prepare('insert into t(rowid, v) values (?, ?)');
      db.transaction(() => {
        for (let i = 0; i < 700; i++) {
          const v = randomF32(rand, 24);
          rows.push(v);
          ins.run(i + 1, Buffer.from(v.buffer));
        }
      })();
      for (let qi = 0; qi < 5; qi++) {
        const q = randomF32(rand, 24);
        const want = rows.map((r, i) => ({ id: i + 1, d: fn(q, r) })).sort((a, b) => a.d - b.d).slice(0, 17);
        const got = db.prepare('select rowid, distance from t where v match ? and k = 17').all(Buffer.from(q.buffer)) as any[];
        expect(got.map((r) => r.rowid)).toEqual(want.map((w) => w.id));
        got.forEach((r, i) => expect(r.distance).toBeCloseTo(want[i].d, 4));
        const viaLimit = db.prepare('select rowid from t where v match ? order by distance limit 17').all(Buffer.from(q.buffer)) as any[];
        expect(viaLimit.map((r) => r.rowid)).toEqual(want.map((w) => w.id));
      }
    });
  }

  test('tie order as the original: highest slot first within a chunk, earlier chunk first', () => {
    const db = openDb();
    db.exec('create virtual table t using vec0(a float[1], chunk_size=8)');
    const ins = db.prepare('insert into t(rowid, a) values (?, ?)');
    for (let i = 0; i < 20; i++) ins.run(i, f32blob([i * 0.01]));
    // The query sits on row 1; rows 0 and 2 tie (test_vec0_knn in the original pins 1, 2, 0, 3).
    const ids = db.prepare('select rowid from t where a match ? and k = 4').all(f32blob([0.01])).map((r: any) => r.rowid);
    expect(ids).toEqual([1, 2, 0, 3]);
    // Equal vectors everywhere: chunk 1 slots 7..0, then chunk 2 slots 7..0, ...
    const db2 = openDb();
    db2.exec('create virtual table t using vec0(a float[1], chunk_size=8)');
    const ins2 = db2.prepare('insert into t(rowid, a) values (?, ?)');
    for (let i = 1; i <= 20; i++) ins2.run(i, f32blob([1]));
    const all = db2.prepare('select rowid from t where a match ? and k = 20').all(f32blob([1])).map((r: any) => r.rowid);
    expect(all).toEqual([8, 7, 6, 5, 4, 3, 2, 1, 16, 15, 14, 13, 12, 11, 10, 9, 20, 19, 18, 17]);
  });

  test('k is not capped at 4096; k = 0 returns nothing; negative k errors', () => {
    const db = openDb();
    db.exec('create virtual table t using vec0(a float[1])');
    const ins = db.prepare('insert into t(rowid, a) values (?, ?)');
    db.transaction(() => { for (let i = 1; i <= 5000; i++) ins.run(i, f32blob([i])); })();
    const rows = db.prepare('select rowid from t where a match ? and k = 5000').all(f32blob([0])) as any[];
    expect(rows.length).toBe(5000);
    expect(rows[4999].rowid).toBe(5000);
    expect(db.prepare('select rowid from t where a match ? and k = 1000000000').all(f32blob([0])).length).toBe(5000);
    expect(db.prepare('select rowid from t where a match ? and k = 0').all(f32blob([0]))).toEqual([]);
    expect(() => db.prepare('select rowid from t where a match ? and k = -1').all(f32blob([0]))).toThrow(
      'k value in knn queries must be greater than or equal to 0.');
  });

  test('rowid IN and distance constraints filter before the top-k', () => {
    const db = openDb();
    db.exec('create virtual table t using vec0(a float[1], chunk_size=8)');
    const ins = db.prepare('insert into t(rowid, a) values (?, ?)');
    for (let i = 1; i <= 30; i++) ins.run(i, f32blob([i]));
    const q = f32blob([0]);
    expect(db.prepare('select rowid from t where a match ? and k = 3 and rowid in (30, 5, 17, 2)').all(q).map((r: any) => r.rowid)).toEqual([2, 5, 17]);
    expect(db.prepare('select rowid, distance from t where a match ? and k = 3 and distance > 10').all(q)).toEqual([
      { rowid: 11, distance: 11 }, { rowid: 12, distance: 12 }, { rowid: 13, distance: 13 }]);
    expect(db.prepare('select rowid from t where a match ? and k = 5 and distance >= 10 and distance < 12').all(q).map((r: any) => r.rowid)).toEqual([10, 11]);
    expect(db.prepare('select rowid from t where a match ? and k = 5 and distance <= 2').all(q).map((r: any) => r.rowid)).toEqual([1, 2]);
  });

  test('fixed: text-key IN list with an unknown id still returns the known ones', () => {
    const db = openDb();
    db.exec('create virtual table t using vec0(id text primary key, a float[1])');
    const ins = db.prepare('insert into t(id, a) values (?, ?)');
    for (let i = 1; i <= 10; i++) ins.run(`k${i}`, f32blob([i]));
    const rows = db.prepare("select id from t where a match ? and k = 5 and id in ('k3', 'nope', 'k7')").all(f32blob([0]));
    expect(rows).toEqual([{ id: 'k3' }, { id: 'k7' }]);
  });

  test('int8 and bit columns', () => {
    const db = openDb();
    db.exec('create virtual table t using vec0(a int8[4], b bit[16])');
    const ins = db.prepare('insert into t(rowid, a, b) values (?, vec_int8(?), vec_bit(?))');
    ins.run(1, '[1,2,3,4]', Buffer.from([0xff, 0x00]));
    ins.run(2, '[-1,-2,-3,-4]', Buffer.from([0x0f, 0x00]));
    ins.run(3, '[0,0,0,1]', Buffer.from([0x00, 0x00]));
    expect(db.prepare("select rowid, distance from t where a match vec_int8('[1,2,3,3]') and k = 3").all()).toEqual([
      { rowid: 1, distance: 1 }, { rowid: 3, distance: Math.fround(Math.sqrt(1 + 4 + 9 + 4)) }, { rowid: 2, distance: Math.fround(Math.sqrt(4 + 16 + 36 + 49)) }]);
    expect(db.prepare("select rowid, distance from t where b match vec_bit(x'0100') and k = 3").all()).toEqual([
      { rowid: 3, distance: 1 }, { rowid: 2, distance: 3 }, { rowid: 1, distance: 7 }]);
    expect(db.prepare("select rowid, a from t where a match vec_int8('[0,0,0,0]') and k = 1").all()).toEqual([
      { rowid: 3, a: Buffer.from([0, 0, 0, 1]) }]);
  });
});
