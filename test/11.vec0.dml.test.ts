// vec0 INSERT / UPDATE / DELETE: storage effects, validation messages, and the fixed defects.
import Database from 'better-sqlite3';
import { openDb, tempDir, f32blob, DB, msg } from './helpers/db';
import * as path from 'path';

const dump = (db: DB, t = "t"): { chunks: any[]; rowids: any[]; vectors: any[] } => ({
  chunks: db.prepare(`select chunk_id, size, validity, rowids from ${t}_chunks`).all(),
  rowids: db.prepare(`select rowid, id, chunk_id, chunk_offset from ${t}_rowids`).all(),
  vectors: db.prepare(`select rowid, vectors from ${t}_vector_chunks00`).all(),
});
const i64 = (xs: number[]) => {
  const b = Buffer.alloc(xs.length * 8);
  xs.forEach((x, i) => b.writeBigInt64LE(BigInt(x), i * 8));
  return b;
};

describe('vec0 DML', () => {
  test('inserts fill the latest chunk slot by slot; blobs are laid out as documented', () => {
    const db = openDb();
    db.exec('create virtual table t using vec0(a float[2], chunk_size=8)');
    const ins = db.prepare('insert into t(rowid, a) values (?, ?)');
    for (let i = 1; i <= 9; i++) ins.run(i * 10, f32blob([i, -i]));
    const d = dump(db);
    expect(d.chunks).toEqual([
      { chunk_id: 1, size: 8, validity: Buffer.from([0xff]), rowids: i64([10, 20, 30, 40, 50, 60, 70, 80]) },
      { chunk_id: 2, size: 8, validity: Buffer.from([0x01]), rowids: i64([90, 0, 0, 0, 0, 0, 0, 0]) },
    ]);
    expect(d.rowids[8]).toEqual({ rowid: 90, id: null, chunk_id: 2, chunk_offset: 0 });
    expect(d.vectors[1].vectors).toEqual(Buffer.concat([f32blob([9, -9]), Buffer.alloc(7 * 8)]));
    // Delete zeroes the slot; free slots in older chunks are not reused.
    db.prepare('delete from t where rowid = 30').run();
    const after = dump(db);
    expect(after.chunks[0].validity).toEqual(Buffer.from([0xfb]));
    expect(after.chunks[0].rowids).toEqual(i64([10, 20, 0, 40, 50, 60, 70, 80]));
    expect((after.vectors[0].vectors as Buffer).subarray(16, 24)).toEqual(Buffer.alloc(8));
    ins.run(100, f32blob([1, 1]));
    expect(db.prepare('select chunk_id, chunk_offset from t_rowids where rowid = 100').get()).toEqual({ chunk_id: 2, chunk_offset: 1 });
    // Emptying a chunk deletes it and its vector row.
    db.prepare('delete from t where rowid in (90, 100)').run();
    expect(db.prepare('select chunk_id from t_chunks').all()).toEqual([{ chunk_id: 1 }]);
    expect(db.prepare('select rowid from t_vector_chunks00').all()).toEqual([{ rowid: 1 }]);
    // Deleting a missing id is a no-op.
    expect(db.prepare('delete from t where rowid = 12345').run().changes).toBe(0);
  });

  test('validation messages (as the reference)', () => {
    const db = openDb();
    db.exec('create virtual table t1 using vec0(aaa float[4])');
    db.exec('create virtual table txt_pk using vec0(id text primary key, aaa float[4])');
    expect(msg(() => db.prepare('insert into t1(rowid, aaa) values (?, ?)').run(1, null))).toBe(
      'Inserted vector for the "aaa" column is invalid: Input must have type BLOB (compact format) or TEXT (JSON), found NULL');
    expect(msg(() => db.prepare("insert into t1(rowid, aaa) values (1, vec_bit(x'ff'))").run())).toBe(
      'Inserted vector for the "aaa" column is expected to be of type float32, but a bit vector was provided.');
    expect(msg(() => db.prepare("insert into t1(rowid, aaa) values (1, '[1,2,3]')").run())).toBe(
      'Dimension mismatch for inserted vector for the "aaa" column. Expected 4 dimensions but received 3.');
    expect(msg(() => db.prepare("insert into t1(rowid, aaa) values (1.5, '[1,2,3,4]')").run())).toBe(
      'Only integers are allows for primary key values on t1');
    expect(msg(() => db.prepare("insert into t1(rowid, aaa) values ('x', '[1,2,3,4]')").run())).toBe(
      'Only integers are allows for primary key values on t1');
    expect(msg(() => db.prepare("insert into txt_pk(id, aaa) values (1, '[1,2,3,4]')").run())).toBe(
      'The txt_pk virtual table was declared with a TEXT primary key, but a non-TEXT value was provided in an INSERT.');
    expect(msg(() => db.prepare("insert into t1(rowid, aaa, distance) values (1, '[1,2,3,4]', 1)").run())).toBe(
      'A value was provided for the hidden "distance" column.');
    expect(msg(() => db.prepare("insert into t1(rowid, aaa, k) values (1, '[1,2,3,4]', 1)").run())).toBe(
      'A value was provided for the hidden "k" column.');
    db.prepare("insert into t1(rowid, aaa) values (1, '[1,2,3,4]')").run();
    expect(msg(() => db.prepare("insert into t1(rowid, aaa) values (1, '[1,2,3,4]')").run())).toBe('UNIQUE constraint failed on t1 primary key');
    expect(msg(() => db.prepare("update t1 set aaa = '[1]' where rowid = 1").run())).toBe(
      'Dimension mismatch for new updated vector for the "aaa" column. Expected 4 dimensions but received 1.');
    db.prepare("insert into txt_pk(id, aaa) values ('a', '[1,2,3,4]')").run();
    expect(msg(() => db.prepare("update txt_pk set id = 'b' where id = 'a'").run())).toBe('UPDATEs on vec0 primary key values are not allowed.');
    // NULL id autoincrements; negative ids are allowed.
    db.prepare("insert into t1(aaa) values ('[0,0,0,0]')").run();
    db.prepare("insert into t1(rowid, aaa) values (-5, '[0,0,0,0]')").run();
    expect(db.prepare('select rowid from t1 order by rowid').all()).toEqual([{ rowid: -5 }, { rowid: 1 }, { rowid: 2 }]);
  });

  test('fixed: every column is validated before anything is written (no half-written row in a transaction)', () => {
    const db = openDb();
    db.exec('create virtual table t using vec0(a float[2], b float[2])');
    const before = dump(db);
    db.exec('begin');
    expect(msg(() => db.prepare("insert into t(rowid, a, b) values (1, '[1,2]', '[1]')").run())).toMatch(/Dimension mismatch/);
    db.exec('commit');
    expect(dump(db)).toEqual(before);
    // The retry succeeds (the original reported UNIQUE constraint failed here).
    db.prepare("insert into t(rowid, a, b) values (1, '[1,2]', '[3,4]')").run();
    expect(db.prepare('select count(*) as c from t_rowids').get()).toEqual({ c: 1 });
  });

  test('fixed: UPDATE … SET rowid and SET vec = NULL give clear errors and change nothing', () => {
    const db = openDb();
    db.exec('create virtual table t using vec0(a float[2])');
    db.prepare("insert into t(rowid, a) values (1, '[1,2]')").run();
    const before = dump(db);
    expect(msg(() => db.prepare('update t set rowid = 10 where rowid = 1').run())).toBe('UPDATEs on vec0 primary key values are not allowed.');
    expect(msg(() => db.prepare('update t set a = NULL where rowid = 1').run())).toMatch(/Cannot set the vector column "a" to NULL/);
    expect(dump(db)).toEqual(before);
    db.prepare("update t set a = '[5,6]' where rowid = 1").run();
    expect(db.prepare('select a from t where rowid = 1').get()).toEqual({ a: f32blob([5, 6]) });
  });

  test('fixed: whole-number JS numbers (bound as REAL) are accepted as integer ids', () => {
    const db = openDb();
    db.exec('create virtual table t using vec0(a float[2])');
    expect(db.prepare('select typeof(?) as t').get(3)).toEqual({ t: 'real' });
    db.prepare('insert into t(rowid, a) values (?, ?)').run(3, '[1,2]');
    expect(db.prepare('select rowid from t where rowid = ?').all(3)).toEqual([{ rowid: 3 }]);
    expect(db.prepare("select rowid from t where a match '[1,2]' and k = ?").all(1)).toEqual([{ rowid: 3 }]);
    db.prepare('delete from t where rowid = ?').run(3);
    expect(db.prepare('select count(*) as c from t').get()).toEqual({ c: 0 });
  });

  test('INSERT OR REPLACE replaces; OR IGNORE-less duplicates fail', () => {
    const db = openDb();
    db.exec('create virtual table t using vec0(id text primary key, a float[2])');
    db.prepare("insert into t(id, a) values ('x', '[1,2]')").run();
    db.prepare("insert or replace into t(id, a) values ('x', '[3,4]')").run();
    expect(db.prepare('select id, a from t').all()).toEqual([{ id: 'x', a: f32blob([3, 4]) }]);
    expect(db.prepare('select count(*) as c from t_rowids').get()).toEqual({ c: 1 });
  });

  test('ROLLBACK and ROLLBACK TO restore what queries see', () => {
    const db = openDb();
    db.exec('create virtual table t using vec0(a float[1])');
    db.prepare("insert into t(rowid, a) values (1, '[1]')").run();
    const knn = () => db.prepare("select rowid from t where a match '[0]' and k = 10").all().map((r: any) => r.rowid);
    db.exec('begin');
    db.prepare("insert into t(rowid, a) values (2, '[0.5]')").run();
    expect(knn()).toEqual([2, 1]); // own uncommitted write is visible
    db.exec('rollback');
    expect(knn()).toEqual([1]);
    db.exec('begin; savepoint s1');
    db.prepare('delete from t where rowid = 1').run();
    expect(knn()).toEqual([]);
    db.exec('rollback to s1; commit');
    expect(knn()).toEqual([1]);
    // A multi-row statement that fails midway is undone, and queries agree.
    expect(msg(() => db.prepare("insert into t(rowid, a) select value, '[3]' from json_each('[5,6,1]')").run())).toMatch(/UNIQUE/);
    expect(knn()).toEqual([1]);
  });

  test('writes by another connection are seen (data_version), both ways', () => {
    const file = path.join(tempDir(), 'x.db');
    const a = openDb(file);
    const b = openDb(file);
    a.exec('create virtual table t using vec0(a float[1])');
    a.prepare("insert into t(rowid, a) values (1, '[1]')").run();
    const knn = (db: DB) => db.prepare("select rowid from t where a match '[0]' and k = 10").all().map((r: any) => r.rowid);
    expect(knn(b)).toEqual([1]);
    b.prepare("insert into t(rowid, a) values (2, '[0.5]')").run();
    expect(knn(a)).toEqual([2, 1]);
    a.prepare("update t set a = '[9]' where rowid = 2").run();
    expect(knn(b)).toEqual([1, 2]);
    b.prepare('delete from t where rowid = 1').run();
    expect(knn(a)).toEqual([2]);
    a.close();
    b.close();
    const plain = new Database(file);
    expect(plain.prepare('select count(*) as c from t_rowids').get()).toEqual({ c: 1 });
    plain.close();
  });

  test('DELETE through a KNN subquery and directly with MATCH (the original errors on the latter)', () => {
    const db = openDb();
    db.exec('create virtual table t using vec0(a float[1])');
    const ins = db.prepare('insert into t(rowid, a) values (?, ?)');
    for (let i = 1; i <= 10; i++) ins.run(i, f32blob([i]));
    db.prepare('delete from t where rowid in (select rowid from t where a match ? and k = 3)').run(f32blob([0]));
    expect(db.prepare('select rowid from t').all().map((r: any) => r.rowid)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    db.prepare('delete from t where a match ? and k = 2').run(f32blob([10]));
    expect(db.prepare('select rowid from t').all().map((r: any) => r.rowid)).toEqual([4, 5, 6, 7, 8]);
  });

  test("a write from inside the same table's write (a trigger on a shadow table, unsafe mode) is refused", () => {
    // The INSERT's new chunk row fires the trigger, which would write the table again from
    // inside the first write's xUpdate: a clear error, and the transaction leaves nothing behind.
    const db = openDb();
    db.unsafeMode(true);
    db.exec('create virtual table t using vec0(v float[2], chunk_size=8)');
    db.prepare('insert into t(rowid, v) values (?, ?)').run(1, f32blob([1, -1]));
    db.exec("create trigger tr after insert on t_chunks begin insert into t(rowid, v) values (1000 + new.rowid, '[100, 100]'); end");
    const ins = db.prepare('insert into t(rowid, v) values (?, ?)');
    expect(msg(() => db.transaction(() => {
      for (let i = 2; i <= 20; i++) ins.run(i, f32blob([i, -i]));
    })())).toBe('vec0 table t cannot be written from inside its own write (a trigger on one of its shadow tables?)');
    expect(db.prepare('select rowid from t').all()).toEqual([{ rowid: 1 }]);
    expect(db.prepare('select count(*) as c from t_rowids').get()).toEqual({ c: 1 });
    db.exec('drop trigger tr');
    for (let i = 2; i <= 20; i++) ins.run(i, f32blob([i, -i]));
    expect(db.prepare("select rowid from t where v match '[3, -3]' and k = 1").all()).toEqual([{ rowid: 3 }]);
    expect(db.prepare('select count(*) as c from t_rowids').get()).toEqual({ c: 20 });
  });

  describe('a write that fails part-way inside a transaction never reaches the file', () => {
    // The failure comes after the row went into the arena and the write log: an auxiliary
    // column's shadow row is refused by a trigger (unsafe mode). SQLite undoes a failed
    // single-row statement only where it took a statement savepoint, which it does not here.
    const BROKEN =
      'vec0 table t: a write to it failed part-way in this transaction; roll the transaction back (or back to a savepoint from before that write)';
    const setup = (file: string): DB => {
      const db = new Database(file);
      db.loadExtension(require('../lib').getLoadablePath());
      db.unsafeMode(true);
      db.exec('create virtual table if not exists t using vec0(v float[2], +label text, chunk_size=8)');
      db.exec("create trigger if not exists tr before insert on t_auxiliary when new.value00 = 'bad' begin select raise(abort, 'aux refused'); end");
      return db;
    };
    const contents = (db: DB) => ({
      rows: db.prepare('select rowid, label, vec_to_json(v) as v from t order by rowid').all(),
      rowids: db.prepare('select rowid from t_rowids order by rowid').pluck().all(),
      aux: db.prepare('select rowid, value00 from t_auxiliary order by rowid').all(),
      validity: db.prepare('select hex(validity) as h from t_chunks').pluck().all(),
    });
    const ins = (db: DB, id: number, label: string) => () =>
      db.prepare('insert into t(rowid, v, label) values (?, ?, ?)').run(id, `[${id},${id}]`, label);
    let dir: string;
    beforeAll(() => {
      dir = tempDir('vec0-broken');
    });

    test('COMMIT is refused and rolls back; a new connection finds the table empty', () => {
      const file = path.join(dir, 'a.db');
      const db = setup(file);
      db.exec('begin');
      ins(db, 1, 'ok')();
      expect(msg(ins(db, 2, 'bad'))).toBe('aux refused');
      expect(msg(() => db.exec('commit'))).toBe(BROKEN);
      expect(db.inTransaction).toBe(false);
      db.close();
      const again = setup(file);
      expect(contents(again)).toEqual({ rows: [], rowids: [], aux: [], validity: [] });
      // Without the failure, the same transaction commits.
      again.exec('begin');
      ins(again, 1, 'ok')();
      again.exec('commit');
      expect(contents(again).rowids).toEqual([1]);
      again.close();
    });

    test('a validation error (checked before anything is written) does not block the COMMIT', () => {
      const db = setup(path.join(dir, 'b.db'));
      db.exec('begin');
      ins(db, 1, 'ok')();
      expect(msg(() => db.prepare('insert into t(rowid, v, label) values (2, ?, ?)').run('[1,2,3]', 'x'))).toMatch(/Dimension mismatch/);
      db.exec('commit');
      expect(contents(db).rowids).toEqual([1]);
      db.close();
    });

    test('ROLLBACK TO a savepoint from before the failed write undoes it; COMMIT then keeps the rest', () => {
      const file = path.join(dir, 'c.db');
      const db = setup(file);
      db.exec('begin');
      ins(db, 1, 'ok')();
      db.exec('savepoint s');
      ins(db, 3, 'ok')();
      expect(msg(ins(db, 2, 'bad'))).toBe('aux refused');
      db.exec('rollback to s');
      ins(db, 4, 'ok')();
      db.exec('commit');
      db.close();
      const again = setup(file);
      expect(contents(again)).toEqual({
        rows: [{ rowid: 1, label: 'ok', v: '[1.000000,1.000000]' }, { rowid: 4, label: 'ok', v: '[4.000000,4.000000]' }],
        rowids: [1, 4],
        aux: [{ rowid: 1, value00: 'ok' }, { rowid: 4, value00: 'ok' }],
        validity: ['03'],
      });
      again.close();
    });

    test('a savepoint opened after the failed write, rolled back or released, does not undo it', () => {
      const db = setup(path.join(dir, 'd.db'));
      db.exec('begin');
      ins(db, 1, 'ok')();
      db.exec('savepoint a');
      expect(msg(ins(db, 2, 'bad'))).toBe('aux refused');
      db.exec('release a');  // merges the failed write into the transaction itself
      db.exec('savepoint b');
      db.exec('rollback to b');
      expect(msg(() => db.exec('commit'))).toBe(BROKEN);
      db.close();
    });

    test('a multi-row statement failing part-way is undone by its statement savepoint; COMMIT succeeds', () => {
      const db = setup(path.join(dir, 'e.db'));
      db.exec('begin');
      ins(db, 1, 'ok')();
      expect(msg(() => db.exec("insert into t(rowid, v, label) values (5, '[5,5]', 'ok'), (6, '[6,6]', 'bad')"))).toBe('aux refused');
      db.exec('commit');
      expect(contents(db)).toEqual({
        rows: [{ rowid: 1, label: 'ok', v: '[1.000000,1.000000]' }],
        rowids: [1],
        aux: [{ rowid: 1, value00: 'ok' }],
        validity: ['01'],
      });
      db.close();
    });
  });
});
