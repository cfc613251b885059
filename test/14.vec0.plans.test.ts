// vec0 query plans: idxNum:idxStr in EXPLAIN QUERY PLAN exactly as the reference, and the
// xBestIndex errors, each checked literally and against sqlite-vec 0.1.9.
import Database from 'better-sqlite3';
import { openDb, DB } from './helpers/db';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const sqliteVec = require('sqlite-vec');
const DDL = 'create virtual table m using vec0(a float[2], b int8[2], chunk_size=8)';
function both(): DB[] {
  const ours = openDb();
  const ref = new Database(':memory:');
  sqliteVec.load(ref);
  ours.exec(DDL);
  ref.exec(DDL);
  return [ours, ref];
}
const plan = (db: DB, sql: string) => (db.prepare(`explain query plan ${sql}`).all() as any[]).map((r) => r.detail).join(' | ');
const err = (db: DB, sql: string) => {
  try {
    db.prepare(sql).all();
    return 'no error';
  } catch (e) {
    return (e as Error).message;
  }
};

describe('vec0 plans', () => {
  const plans: [string, string][] = [
    ["select * from m where a match '[1,2]' and k = 3", 'SCAN m VIRTUAL TABLE INDEX 0:3{___}___'],
    ["select * from m where b match vec_int8('[1,2]') and k = 3", 'SCAN m VIRTUAL TABLE INDEX 1:3{___}___'],
    ["select rowid from m where a match '[1,2]' order by distance limit 3", 'SCAN m VIRTUAL TABLE INDEX 0:3{___}___'],
    ["select * from m where a match '[1,2]' and k = 3 and rowid in (1,2)", 'SCAN m VIRTUAL TABLE INDEX 0:3{___}___[___'],
    ["select * from m where a match '[1,2]' and k = 3 and distance > 1 and distance >= 1 and distance < 3 and distance <= 3",
      'SCAN m VIRTUAL TABLE INDEX 0:3{___}___*a__*b__*c__*d__'],
    ['select * from m where rowid = 3', 'SCAN m VIRTUAL TABLE INDEX 7:2!___'],
    ['select a from m where rowid = 3', 'SCAN m VIRTUAL TABLE INDEX 3:2!___'],
    ['select * from m', 'SCAN m VIRTUAL TABLE INDEX 0:1'],
    ['select * from m where rowid > 3', 'SCAN m VIRTUAL TABLE INDEX 0:1'],
  ];
  test.each(plans)('%s', (sql, expected) => {
    const [ours, ref] = both();
    expect(plan(ours, sql)).toContain(expected);
    expect(plan(ours, sql)).toBe(plan(ref, sql));
  });

  const errors: [string, string][] = [
    ["select * from m where a match '[1,2]'", "A LIMIT or 'k = ?' constraint is required on vec0 knn queries."],
    ["select * from m where a match '[1,2]' and k = 3 limit 3", "Only LIMIT or 'k =?' can be provided, not both"],
    ["select * from m where a match '[1,2]' and b match vec_int8('[1,2]') and k = 3", 'only 1 MATCH operator is allowed in a single vec0 query'],
    ["select * from m where a match '[1,2]' and k = 3 order by distance desc", 'Only ascending in ORDER BY distance clause is supported, DESC is not supported yet.'],
    ["select * from m where a match '[1,2]' and k = 3 and distance = 1",
      'Illegal WHERE constraint on distance column in a KNN query. Only one of GT, GE, LT, LE constraints are allowed.'],
  ];
  test.each(errors)('error: %s', (sql, expected) => {
    const [ours, ref] = both();
    expect(err(ours, sql)).toBe(expected);
    expect(err(ref, sql)).toBe(expected);
  });

  test('point and fullscan return rows in chunk order with NULL distance and k', () => {
    const [ours] = both();
    const ins = ours.prepare("insert into m(rowid, a, b) values (?, ?, vec_int8('[1,1]'))");
    for (const id of [5, 3, 9]) ins.run(id, `[${id},0]`);
    expect(ours.prepare('select rowid, distance, k from m').all()).toEqual([
      { rowid: 5, distance: null, k: null }, { rowid: 3, distance: null, k: null }, { rowid: 9, distance: null, k: null }]);
    expect(ours.prepare('select rowid from m where rowid = 3').all()).toEqual([{ rowid: 3 }]);
    expect(ours.prepare('select rowid from m where rowid = 4').all()).toEqual([]);
    expect(ours.prepare("select rowid, k from m where a match '[0,0]' and k = 2").all()).toEqual([{ rowid: 3, k: 2 }, { rowid: 5, k: 2 }]);
  });
});
