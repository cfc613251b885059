// vec0 malformed inputs and corrupted shadow tables: the reference's errors, never a crash.
import Database from 'better-sqlite3';
import * as path from 'path';
import { openDb, f32blob, tempDir, DB, msg } from './helpers/db';

function table(): DB {
  const db = openDb();
  db.exec('create virtual table t1 using vec0(a float[2], chunk_size=8)');
  const ins = db.prepare('insert into t1(rowid, a) values (?, ?)');
  for (let i = 1; i <= 3; i++) ins.run(i, f32blob([i, i]));
  return db;
}
const knn = (db: DB, q: unknown) => db.prepare('select rowid from t1 where a match ? and k = 2').all(q);

describe('vec0 malformed input', () => {
  test('query vectors', () => {
    const db = table();
    expect(msg(() => knn(db, '[1,2'))).toBe('no error'); // lenient JSON: a missing ] is accepted
    expect(msg(() => knn(db, 'nope'))).toBe(
      `Query vector on the "a" column is invalid: JSON array parsing error: Input does not start with '['`);
    expect(msg(() => knn(db, Buffer.alloc(5)))).toBe(
      'Query vector on the "a" column is invalid: invalid float32 vector BLOB length. Must be divisible by 4, found 5');
    expect(msg(() => knn(db, null))).toBe(
      'Query vector on the "a" column is invalid: Input must have type BLOB (compact format) or TEXT (JSON), found NULL');
    expect(msg(() => knn(db, '[1]'))).toBe(
      'Dimension mismatch for query vector for the "a" column. Expected 2 dimensions but received 1.');
    expect(msg(() => db.prepare("select rowid from t1 where a match vec_bit(x'ff') and k = 2").all())).toBe(
      'Query vector for the "a" column is expected to be of type float32, but a bit vector was provided.');
    expect(msg(() => knn(db, f32blob([NaN, 1])))).toMatch(/Query vector on the "a" column is invalid: invalid float32 vector: element 0 is NaN/);
  });

  test('inserted vectors: NaN, bad JSON, wrong lengths leave the table unchanged', () => {
    const db = table();
    const before = db.prepare('select * from t1_chunks').all();
    const ins = db.prepare('insert into t1(rowid, a) values (?, ?)');
    expect(msg(() => ins.run(9, f32blob([NaN, 0])))).toMatch(/^Inserted vector for the "a" column is invalid: invalid float32 vector: element 0 is NaN/);
    expect(msg(() => ins.run(9, '[1, x]'))).toBe('Inserted vector for the "a" column is invalid: JSON parsing error');
    expect(msg(() => ins.run(9, Buffer.alloc(0)))).toMatch(/^Inserted vector for the "a" column is invalid: zero-length vectors are not supported\./);
    expect(msg(() => ins.run(9, Buffer.alloc(12)))).toBe('Dimension mismatch for inserted vector for the "a" column. Expected 2 dimensions but received 3.');
    expect(db.prepare('select * from t1_chunks').all()).toEqual(before);
  });
});

describe('vec0 corrupted shadow tables', () => {
  // A plain SQLite connection (no extension: shadow tables are writable there) corrupts the
  // file; a vec0 connection opened afterwards loads the tables and reports. (A connection that
  // already holds the table in memory reloads only when data_version and the table's change
  // marker say so: see test/21.vec0.writes.test.ts.)
  function setup(corruption: string): DB {
    const file = path.join(tempDir(), 'c.db');
    const first = openDb(file);
    first.exec('create virtual table t1 using vec0(a float[2], chunk_size=8)');
    const ins = first.prepare('insert into t1(rowid, a) values (?, ?)');
    for (let i = 1; i <= 3; i++) ins.run(i, f32blob([i, i]));
    expect(msg(() => knn(first, '[1,1]'))).toBe('no error');
    first.close();
    const other = new Database(file);
    other.exec(corruption);
    other.close();
    return openDb(file);
  }
  test.each([
    ['update t1_chunks set validity = randomblob(100)', "chunk validity size doesn't match - expected 1, found 100"],
    ['update t1_chunks set rowids = randomblob(100)', "chunk rowids size doesn't match - expected 64, found 100"],
    ['update t1_vector_chunks00 set vectors = randomblob(100)', "vectors blob size doesn't match - expected 64, found 100"],
  ])('%s', (sql, expected) => {
    const db = setup(sql);
    expect(msg(() => knn(db, '[1,1]'))).toBe(expected);
    expect(msg(() => db.prepare('select * from t1').all())).toBe(expected);
    expect(msg(() => db.prepare('insert into t1(rowid, a) values (?, ?)').run(50, '[1,1]'))).toBe(expected);
    expect(msg(() => db.prepare('delete from t1 where rowid = 1').run())).toBe(expected);
    db.close();
  });

  test('a missing vector chunk row is an error, not a crash', () => {
    const db = setup('delete from t1_vector_chunks00');
    expect(msg(() => knn(db, '[1,1]'))).toMatch(/could not open vectors blob on main\.t1_vector_chunks00\.1/);
    db.close();
  });

  test('garbage everywhere: never a crash', () => {
    const db = setup("update t1_chunks set validity = x'ff', rowids = randomblob(64); update t1_vector_chunks00 set vectors = randomblob(64)");
    // Sizes are right, contents are nonsense: 8 valid slots for the 3 rows _rowids lists is
    // reported, not answered from.
    const inconsistent = /^vec0 table "t1" is inconsistent: its shadow table "t1_rowids" lists 3 rows but the validity bitmaps of "t1_chunks" mark 8/;
    expect(msg(() => knn(db, '[1,1]'))).toMatch(inconsistent);
    expect(msg(() => db.prepare('select * from t1').all())).toMatch(inconsistent);
    db.close();
  });
});
