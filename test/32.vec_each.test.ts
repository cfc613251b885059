// vec_each(vector): the eponymous table function, one row per element: types, bit order, joins, errors.
import Database from 'better-sqlite3';
import { f32blob, openDb } from './helpers/db';
import { load } from '../src';

const db = openDb();
const rows = (sql: string, ...args: unknown[]) => db.prepare(sql).raw().all(...args);
const err = (sql: string, ...args: unknown[]): string => {
  try {
    db.prepare(sql).all(...args);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`expected an error from: ${sql}`);
};

describe('vec_each', () => {
  test('float32 elements as REAL with rowid 0..n-1', () => {
    expect(rows("select rowid, value, typeof(value) from vec_each('[1, -2.5, 0.1]')")).toEqual([
      [0, 1, 'real'], [1, -2.5, 'real'], [2, Math.fround(0.1), 'real'],
    ]);
    expect(rows('select value from vec_each(?)', f32blob([7, 8]))).toEqual([[7], [8]]);
  });
  test('int8 elements as INTEGER', () => {
    expect(rows("select value, typeof(value) from vec_each(vec_int8('[-128, 0, 127]'))")).toEqual([
      [-128, 'integer'], [0, 'integer'], [127, 'integer'],
    ]);
  });
  test('bit elements as 0/1, MSB-first within a byte (opposite of vec_to_json)', () => {
    expect(rows("select value from vec_each(vec_bit(X'01'))").flat()).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(rows("select value from vec_each(vec_bit(X'80c0'))").flat()).toEqual([1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
    expect(db.prepare("select vec_to_json(vec_bit(X'01'))").pluck().get()).toBe('[1,0,0,0,0,0,0,0]');
  });
  test('works in joins and aggregates, re-filtered per outer row', () => {
    db.exec('create table if not exists vs(id integer primary key, v blob)');
    db.prepare('delete from vs').run();
    db.prepare('insert into vs values (1, ?), (2, ?)').run(f32blob([1, 2, 3]), f32blob([10, 20]));
    expect(rows('select vs.id, sum(e.value), count(*) from vs, vec_each(vs.v) e group by vs.id order by vs.id')).toEqual([
      [1, 6, 3], [2, 30, 2],
    ]);
  });
  test('invalid vectors give the parser message', () => {
    expect(err("select * from vec_each('[1, x]')")).toBe('JSON parsing error');
    expect(err('select * from vec_each(NULL)')).toBe('Input must have type BLOB (compact format) or TEXT (JSON), found NULL');
    expect(err("select * from vec_each(X'000000')")).toBe('invalid float32 vector BLOB length. Must be divisible by 4, found 3');
  });
  test('a missing argument has no query solution', () => {
    expect(err('select * from vec_each')).toBe('no query solution');
  });
  test('is eponymous-only', () => {
    expect(() => db.exec('create virtual table t using vec_each')).toThrow('no such module: vec_each');
  });
  test('is registered by sqlite3_vec_init', () => {
    const d = new Database(':memory:');
    load(d, { entryPoint: 'sqlite3_vec_init' });
    expect(d.prepare("select count(*) from vec_each('[1,2,3,4]')").pluck().get()).toBe(4);
    d.close();
  });
});
