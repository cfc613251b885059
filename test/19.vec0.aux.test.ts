// vec0 auxiliary columns: `_auxiliary` storage keyed by the internal rowid, values in
// KNN / point / full-scan rows, type checks (INSERT as 0.1.9, and UPDATE too: a vecsqlite fix),
// the KNN WHERE refusal, DELETE, and old-release `_info` keys.
import Database from 'better-sqlite3';
import * as path from 'path';
import { openDb, DB, tempDir, openRef, err } from './helpers/db';


describe('vec0 auxiliary columns', () => {
  const spec = 'create virtual table t using vec0(a float[2], +title text, +n integer, +score float, +raw blob, chunk_size=8)';

  test('values round-trip through KNN, point and full-scan rows; _auxiliary is keyed by rowid (as 0.1.9)', () => {
    const ours = openDb();
    const ref = openRef();
    for (const db of [ours, ref]) {
      db.exec(spec);
      const ins = db.prepare('insert into t(rowid, a, title, n, score, raw) values (?, ?, ?, ?, ?, ?)');
      ins.run(10n, '[1,0]', 'ten', 10n, 1.5, Buffer.from([1, 2]));
      ins.run(20n, '[2,0]', null, null, null, null);
      ins.run(30n, '[3,0]', 'thirty', 30n, 3.5, Buffer.alloc(0));
    }
    const q = "select rowid, distance, title, n, score, raw from t where a match '[0,0]' and k = 3";
    expect(ours.prepare(q).all()).toEqual(ref.prepare(q).all());
    expect(ours.prepare(q).all()).toEqual([
      { rowid: 10, distance: 1, title: 'ten', n: 10, score: 1.5, raw: Buffer.from([1, 2]) },
      { rowid: 20, distance: 2, title: null, n: null, score: null, raw: null },
      { rowid: 30, distance: 3, title: 'thirty', n: 30, score: 3.5, raw: Buffer.alloc(0) },
    ]);
    expect(ours.prepare('select title, raw from t where rowid = 30').get()).toEqual({ title: 'thirty', raw: Buffer.alloc(0) });
    expect(ours.prepare('select * from t').all()).toEqual(ref.prepare('select * from t').all());
    expect(ours.prepare('select * from t_auxiliary order by rowid').all()).toEqual(ref.prepare('select * from t_auxiliary order by rowid').all());
    // DELETE removes the aux row.
    for (const db of [ours, ref]) db.prepare('delete from t where rowid = 10').run();
    expect(ours.prepare('select rowid from t_auxiliary order by rowid').all()).toEqual([{ rowid: 20 }, { rowid: 30 }]);
    expect(ours.prepare('select * from t_auxiliary order by rowid').all()).toEqual(ref.prepare('select * from t_auxiliary order by rowid').all());
  });

  test('INSERT type checks with the original message', () => {
    const ours = openDb();
    const ref = openRef();
    ours.exec(spec);
    ref.exec(spec);
    const ins = "insert into t(rowid, a, title, n, score, raw) values (1, '[1,1]', ?, ?, ?, ?)";
    const cases: [unknown[], string][] = [
      [[5n, null, null, null], 'Auxiliary column type mismatch: The auxiliary column title has type TEXT, but INTEGER was provided.'],
      [[null, 'x', null, null], 'Auxiliary column type mismatch: The auxiliary column n has type INTEGER, but TEXT was provided.'],
      [[null, 1.5, null, null], 'Auxiliary column type mismatch: The auxiliary column n has type INTEGER, but FLOAT was provided.'],
      [[null, null, 2n, null], 'Auxiliary column type mismatch: The auxiliary column score has type FLOAT, but INTEGER was provided.'],
      [[null, null, null, 'x'], 'Auxiliary column type mismatch: The auxiliary column raw has type BLOB, but TEXT was provided.'],
    ];
    for (const [vals, msg] of cases) {
      expect(err(() => ours.prepare(ins).run(...vals))).toBe(msg);
      expect(err(() => ref.prepare(ins).run(...vals))).toBe(msg);
    }
    expect(ours.prepare('select count(*) c from t_rowids').get()).toEqual({ c: 0 });
    // Without a type the name is read as the type (0.1.9's parser): +b is BLOB, +d FLOAT.
    for (const db of [ours, ref]) {
      db.exec('create virtual table q using vec0(a float[1], +b, +d)');
      expect(err(() => db.prepare("insert into q(rowid, a, b, d) values (1, '[1]', 'x', null)").run())).toBe(
        'Auxiliary column type mismatch: The auxiliary column b has type BLOB, but TEXT was provided.',
      );
      expect(err(() => db.prepare("insert into q(rowid, a, b, d) values (1, '[1]', null, 'x')").run())).toBe(
        'Auxiliary column type mismatch: The auxiliary column d has type FLOAT, but TEXT was provided.',
      );
    }
    // A whole-number JS number is an integer (0.1.9 rejects it as FLOAT).
    ours.prepare(ins).run(null, 7, null, null);
    expect(ours.prepare('select n, typeof(n) ty from t').get()).toEqual({ n: 7, ty: 'integer' });
  });

  test('vecsqlite fix: UPDATE of an aux column is type-checked (0.1.9 stores anything)', () => {
    const ours = openDb();
    const ref = openRef();
    for (const db of [ours, ref]) {
      db.exec(spec);
      db.prepare("insert into t(rowid, a, title, n, score, raw) values (1, '[1,1]', 'x', 1, 0.5, x'00')").run();
    }
    ref.prepare('update t set title = 5 where rowid = 1').run();
    expect(ref.prepare('select typeof(title) ty from t').get()).toEqual({ ty: 'integer' });
    expect(err(() => ours.prepare('update t set title = 5 where rowid = 1').run())).toBe(
      'Auxiliary column type mismatch: The auxiliary column title has type TEXT, but INTEGER was provided.',
    );
    expect(err(() => ours.prepare("update t set raw = 'x' where rowid = 1").run())).toBe(
      'Auxiliary column type mismatch: The auxiliary column raw has type BLOB, but TEXT was provided.',
    );
    ours.prepare("update t set title = 'y', n = null, score = 2.5 where rowid = 1").run();
    expect(ours.prepare('select title, n, score, raw from t').get()).toEqual({ title: 'y', n: null, score: 2.5, raw: Buffer.from([0]) });
  });

  test('a WHERE constraint on an aux column in a KNN query is refused; outside KNN it is a normal column', () => {
    const ours = openDb();
    const ref = openRef();
    ours.exec(spec);
    ref.exec(spec);
    const msg = 'An illegal WHERE constraint was provided on a vec0 auxiliary column in a KNN query.';
    for (const db of [ours, ref]) {
      expect(err(() => db.prepare("select rowid from t where a match '[1,1]' and k = 2 and title = 'x'").all())).toBe(msg);
      expect(err(() => db.prepare("select rowid from t where a match '[1,1]' and k = 2 and n > 3").all())).toBe(msg);
      db.prepare("insert into t(rowid, a, title) values (1, '[1,1]', 'x')").run();
      expect(db.prepare("select rowid from t where title = 'x'").all()).toEqual([{ rowid: 1 }]);
    }
  });

  test('aux rows use the internal rowid with a text primary key', () => {
    const ours = openDb();
    const ref = openRef();
    for (const db of [ours, ref]) {
      db.exec('create virtual table d using vec0(id text primary key, a float[1], +body text)');
      db.prepare("insert into d(id, a, body) values ('x', '[1]', 'body x'), ('y', '[2]', 'body y')").run();
      db.prepare("delete from d where id = 'x'").run();
      db.prepare("insert into d(id, a, body) values ('z', '[3]', 'body z')").run();
      db.prepare("update d set body = 'new y' where id = 'y'").run();
    }
    expect(ours.prepare('select * from d_auxiliary order by rowid').all()).toEqual(ref.prepare('select * from d_auxiliary order by rowid').all());
    expect(ours.prepare("select id, body from d where a match '[0]' and k = 5").all()).toEqual([
      { id: 'y', body: 'new y' },
      { id: 'z', body: 'body z' },
    ]);
  });

  test('tables created by older releases (pre-0.1.7 _info keys, empty chunks left behind) stay readable and writable', () => {
    const dir = tempDir();
    const file = path.join(dir, 'legacy.db');
    const w = openRef(file);
    w.exec('create virtual table l using vec0(a float[2], cat text, +note text, chunk_size=8)');
    const ins = w.prepare('insert into l(rowid, a, cat, note) values (?, ?, ?, ?)');
    for (let i = 1n; i <= 20n; i++) ins.run(i, `[${i}, 0]`, i % 2n ? 'odd' : 'even', `n${i}`);
    w.close();
    // Rewrite the file as a 0.1.6 table would look: older version keys, and a chunk whose rows
    // were all deleted but which was kept (with stale vector bytes), as before 0.1.7.
    const raw = new Database(file);
    raw.exec("delete from l_info; insert into l_info(key, value) values ('CREATE_VERSION', 'v0.1.6'), ('CREATE_VERSION_MAJOR', 0), ('CREATE_VERSION_MINOR', 1), ('CREATE_VERSION_PATCH', 6)");
    raw.exec('update l_chunks set validity = zeroblob(1) where chunk_id = 2');
    raw.exec('delete from l_rowids where chunk_id = 2');
    raw.exec('delete from l_auxiliary where rowid between 9 and 16');
    raw.close();
    const r = openDb(file);
    expect(r.prepare("select rowid, cat, note from l where a match '[0,0]' and k = 3 and cat = 'odd'").all()).toEqual([
      { rowid: 1, cat: 'odd', note: 'n1' },
      { rowid: 3, cat: 'odd', note: 'n3' },
      { rowid: 5, cat: 'odd', note: 'n5' },
    ]);
    expect(r.prepare('select count(*) c from l').get()).toEqual({ c: 12 });
    r.prepare("insert into l(rowid, a, cat, note) values (100, '[0, 0]', 'odd', 'new')").run();
    r.prepare("update l set cat = 'even', note = 'upd' where rowid = 1").run();
    r.prepare('delete from l where rowid = 3').run();
    expect(r.prepare("select rowid, note from l where a match '[0,0]' and k = 3 and cat = 'odd'").all()).toEqual([
      { rowid: 100, note: 'new' },
      { rowid: 5, note: 'n5' },
      { rowid: 7, note: 'n7' },
    ]);
    r.close();
    const back = openRef(file);
    expect(back.prepare("select rowid, note from l where a match '[0,0]' and k = 3 and cat = 'odd'").all()).toEqual([
      { rowid: 100, note: 'new' },
      { rowid: 5, note: 'n5' },
      { rowid: 7, note: 'n7' },
    ]);
    back.close();
  });
  test('ALTER TABLE RENAME renames the metadata and aux shadow tables; ROLLBACK restores every column', () => {
    const db = openDb();
    db.exec('create virtual table r using vec0(p text partition key, a float[1], m text, n integer, +x text, chunk_size=8)');
    db.prepare("insert into r(rowid, p, a, m, n, x) values (1, 'A', '[1]', 'a long text value over 12', 1, 'x1'), (2, 'B', '[2]', 's', 2, 'x2')").run();
    db.exec('alter table r rename to r2');
    const names = db.prepare("select name from sqlite_master where type = 'table' and name like 'r%' order by name").all().map((x: any) => x.name);
    expect(names).toEqual(['r2', 'r2_auxiliary', 'r2_chunks', 'r2_info', 'r2_metadatachunks00', 'r2_metadatachunks01', 'r2_metadatatext00', 'r2_rowids', 'r2_vector_chunks00']);
    expect(db.prepare("select rowid, p, m, n, x from r2 where a match '[0]' and k = 5 and n >= 1").all()).toEqual([
      { rowid: 1, p: 'A', m: 'a long text value over 12', n: 1, x: 'x1' },
      { rowid: 2, p: 'B', m: 's', n: 2, x: 'x2' },
    ]);
    db.prepare("update r2 set m = 'changed', x = 'y' where rowid = 2").run();
    db.exec('begin');
    db.prepare("update r2 set m = 'inside a transaction, long', n = 9, x = 'z' where rowid = 1").run();
    db.prepare("insert into r2(rowid, p, a, m, n, x) values (3, 'A', '[3]', 't', 3, 'x3')").run();
    db.prepare('delete from r2 where rowid = 2').run();
    expect(db.prepare("select rowid from r2 where a match '[0]' and k = 5 and n = 9").all()).toEqual([{ rowid: 1 }]);
    db.exec('rollback');
    expect(db.prepare("select rowid, p, m, n, x from r2 where a match '[0]' and k = 5").all()).toEqual([
      { rowid: 1, p: 'A', m: 'a long text value over 12', n: 1, x: 'x1' },
      { rowid: 2, p: 'B', m: 'changed', n: 2, x: 'y' },
    ]);
    expect(db.prepare("select rowid from r2 where a match '[0]' and k = 5 and n = 9").all()).toEqual([]);
    db.exec('drop table r2');
    expect(db.prepare("select count(*) c from sqlite_master where name like 'r2%'").get()).toEqual({ c: 0 });
  });

  test('a failed multi-column INSERT or UPDATE leaves nothing behind (validation before any write)', () => {
    const db = openDb();
    db.exec('create virtual table f using vec0(a float[1], m integer, +x text, chunk_size=8)');
    db.prepare("insert into f(rowid, a, m, x) values (1, '[1]', 1, 'ok')").run();
    db.exec('begin');
    expect(err(() => db.prepare("insert into f(rowid, a, m, x) values (2, '[2]', 2, 5)").run())).toBe(
      'Auxiliary column type mismatch: The auxiliary column x has type TEXT, but INTEGER was provided.',
    );
    expect(err(() => db.prepare("update f set m = 5, x = 7 where rowid = 1").run())).toBe(
      'Auxiliary column type mismatch: The auxiliary column x has type TEXT, but INTEGER was provided.',
    );
    db.exec('commit');
    expect(db.prepare('select rowid, m, x from f').all()).toEqual([{ rowid: 1, m: 1, x: 'ok' }]);
    expect(db.prepare('select count(*) c from f_rowids').get()).toEqual({ c: 1 });
    expect(db.prepare('select count(*) c from f_auxiliary').get()).toEqual({ c: 1 });
  });
});
