// vec0 write path and cache freshness: the deferred write log (transactions, savepoints,
// statement rollbacks, a log larger than its flush bound), checked against sqlite-vec 0.1.9
// doing the same work (shadow tables byte for byte, KNN results); the per-table change marker
// (observed through vec_stats().vec0_loads); and the threaded scan against a brute-force oracle.
import * as path from 'path';
import { openDb, rng, randomF32, tempDir, DB, openRef, msg } from './helpers/db';
import { shadowDump, both, digest } from './helpers/shadow';

const stats = (db: DB) => JSON.parse(db.prepare('select vec_stats()').pluck().get() as string);
const loads = (db: DB): number => stats(db).vec0_loads;

const vec = (rand: () => number, dims: number): string =>
  JSON.stringify(Array.from({ length: dims }, () => Math.floor(rand() * 9) - 4));

describe('vec0 write log: transactions and savepoints against sqlite-vec 0.1.9', () => {
  for (let seed = 1; seed <= 8; seed++) {
    test(`random transactions with savepoints, statement rollbacks and ROLLBACK (seed ${seed})`, () => {
      const rand = rng(seed * 104729);
      const textPk = seed % 3 === 0;
      const idCol = textPk ? 'id' : 'rowid';
      const ddl = `create virtual table t using vec0(${textPk ? 'id text primary key, ' : ''}v float[4], chunk_size=8)`;
      const ours = openDb();
      const ref = openRef();
      ours.exec(ddl);
      ref.exec(ddl);
      let next = 1;
      const id = () => (textPk ? `k${next++}` : BigInt(next++));
      const liveIds = (db: DB) => db.prepare(`select ${idCol} as id from t`).all().map((r: any) => r.id);
      for (let txn = 0; txn < 12; txn++) {
        both(ours, ref, 'begin');
        const open: string[] = [];
        const steps = 5 + Math.floor(rand() * 25);
        for (let s = 0; s < steps; s++) {
          const r = rand();
          const live = liveIds(ours);
          if (r < 0.35 || live.length === 0) {
            both(ours, ref, `insert into t(${idCol}, v) values (?, ?)`, id(), vec(rand, 4));
          } else if (r < 0.45) {
            // Several rows in one statement (a statement journal); sometimes the last one is
            // invalid, so the statement fails after writing the first ones.
            const bad = rand() < 0.5;
            const rows = [id(), id(), id()];
            const vals = rows.map((_, i) => (bad && i === 2 ? "'[1,2]'" : `'${vec(rand, 4)}'`));
            const keys = rows.map((k) => (typeof k === 'string' ? `'${k}'` : String(k)));
            both(ours, ref, `insert into t(${idCol}, v) values ${rows.map((_, i) => `(${keys[i]}, ${vals[i]})`).join(', ')}`);
          } else if (r < 0.6) {
            both(ours, ref, `delete from t where ${idCol} = ?`, live[Math.floor(rand() * live.length)]);
          } else if (r < 0.7) {
            both(ours, ref, `update t set v = ? where ${idCol} = ?`, vec(rand, 4), live[Math.floor(rand() * live.length)]);
          } else if (r < 0.8) {
            const name = `s${s}`;
            both(ours, ref, `savepoint ${name}`);
            open.push(name);
          } else if (r < 0.9 && open.length > 0) {
            const i = Math.floor(rand() * open.length);
            if (rand() < 0.5) {
              both(ours, ref, `rollback to ${open[i]}`);
              open.length = i + 1;
            } else {
              both(ours, ref, `release ${open[i]}`);
              open.length = i;
            }
          } else {
            // A KNN inside the transaction sees its own writes.
            const q = vec(rand, 4);
            const sql = `select ${idCol} as id, distance from t where v match ? and k = 5`;
            expect(ours.prepare(sql).all(q)).toEqual(ref.prepare(sql).all(q));
          }
        }
        both(ours, ref, rand() < 0.25 ? 'rollback' : 'commit');
        expect(shadowDump(ours)).toEqual(shadowDump(ref));
        const q = vec(rand, 4);
        const sql = `select ${idCol} as id, distance from t where v match ? and k = 20`;
        expect(ours.prepare(sql).all(q)).toEqual(ref.prepare(sql).all(q));
      }
      ours.close();
      ref.close();
    });
  }

  test('a transaction larger than the log bound (written early), then ROLLBACK and COMMIT', () => {
    // 40k x 128 float32 = 20 MiB of vectors, past the 16 MiB bound at which the log is written
    // out in the middle of the transaction.
    const n = 40000;
    const rand = rng(5);
    const rows = Array.from({ length: n }, () => Buffer.from(randomF32(rand, 128).buffer));
    const ours = openDb();
    const ref = openRef();
    for (const db of [ours, ref]) db.exec('create virtual table t using vec0(v float[128])');
    const fill = (db: DB, count: number) => {
      const ins = db.prepare('insert into t(rowid, v) values (?, ?)');
      for (let i = 0; i < count; i++) ins.run(BigInt(i + 1), rows[i]);
    };
    ours.exec('begin');
    fill(ours, n);
    expect(ours.prepare('select count(*) from t').pluck().get()).toBe(n);
    ours.exec('rollback');
    expect(ours.prepare('select count(*) from t').pluck().get()).toBe(0);
    expect(ours.prepare('select count(*) from t_rowids').pluck().get()).toBe(0);
    for (const db of [ours, ref]) db.transaction(() => fill(db, n))();
    expect(shadowDump(ours)).toEqual(shadowDump(ref));
    const q = Buffer.from(randomF32(rand, 128).buffer);
    const sql = 'select rowid, distance from t where v match ? and k = 10';
    const a = ours.prepare(sql).all(q) as any[];
    const b = ref.prepare(sql).all(q) as any[];
    expect(a.map((r) => r.rowid)).toEqual(b.map((r) => r.rowid));
    a.forEach((r, i) => expect(Math.abs(r.distance - b[i].distance)).toBeLessThan(1e-5 * b[i].distance));
    ours.close();
    ref.close();
  });

  test('_rowids rows inserted with and without their rowid (ascending runs, gaps, descending ids, NULL ids, deletes)', () => {
    // A flush inserts batches of 256 _rowids rows; a batch whose rowids are exactly the ones
    // SQLite would choose goes in without them. Gaps, descending ids, rows deleted in the same
    // transaction and AUTOINCREMENT ids must give the same tables as 0.1.9.
    const rand = rng(17);
    const ours = openDb();
    const ref = openRef();
    for (const db of [ours, ref]) db.exec('create virtual table t using vec0(v float[4], chunk_size=32)');
    const ins = (id: bigint | null) => both(ours, ref, 'insert into t(rowid, v) values (?, ?)', id, vec(rand, 4));
    both(ours, ref, 'begin');
    for (let i = 1n; i <= 300n; i++) ins(i);
    for (let i = 1000n; i < 1300n; i++) ins(i);
    for (let i = 5000n; i > 4700n; i--) ins(i);
    for (let i = 0; i < 300; i++) ins(null);
    both(ours, ref, 'commit');
    expect(shadowDump(ours)).toEqual(shadowDump(ref));
    both(ours, ref, 'begin');
    for (let i = 0; i < 200; i++) ins(null);
    both(ours, ref, 'delete from t where rowid = (select max(rowid) from t)');
    both(ours, ref, 'delete from t where rowid = 1000');
    for (let i = 0; i < 300; i++) ins(null);
    for (let i = 20000n; i < 20100n; i++) ins(i);
    both(ours, ref, 'commit');
    expect(shadowDump(ours)).toEqual(shadowDump(ref));
    both(ours, ref, 'delete from t where rowid > 5300');
    both(ours, ref, 'begin');
    for (let i = 0; i < 400; i++) ins(null);  // AUTOINCREMENT: past the deleted ones, not reusing them
    both(ours, ref, 'commit');
    expect(shadowDump(ours)).toEqual(shadowDump(ref));
    const sql = 'select rowid from t order by rowid';
    expect(ours.prepare(sql).all()).toEqual(ref.prepare(sql).all());
    ours.close();
    ref.close();
  });

  test('inside a savepoint the log is kept whole and ROLLBACK TO discards only what followed', () => {
    const db = openDb();
    db.exec('create virtual table t using vec0(v float[128])');
    const rand = rng(6);
    const ins = db.prepare('insert into t(rowid, v) values (?, ?)');
    db.exec('begin');
    for (let i = 1; i <= 100; i++) ins.run(i, Buffer.from(randomF32(rand, 128).buffer));
    db.exec('savepoint a');
    for (let i = 101; i <= 40100; i++) ins.run(i, Buffer.from(randomF32(rand, 128).buffer));
    expect(db.prepare('select count(*) from t').pluck().get()).toBe(40100);
    db.exec('rollback to a');
    expect(db.prepare('select count(*) from t').pluck().get()).toBe(100);
    db.exec('release a');
    db.exec('commit');
    // What is on disk is exactly the first 100 rows.
    expect(db.prepare('select count(*) from t_rowids').pluck().get()).toBe(100);
    expect(db.prepare('select max(rowid) from t_rowids').pluck().get()).toBe(100);
    expect(db.prepare('select count(*) from t_vector_chunks00').pluck().get()).toBe(1);
    db.close();
  });

  test('rowids without an explicit id follow AUTOINCREMENT, as the original', () => {
    for (const textPk of [false, true]) {
      const ddl = `create virtual table t using vec0(${textPk ? 'id text primary key, ' : ''}v float[2], chunk_size=8)`;
      const ours = openDb();
      const ref = openRef();
      for (const db of [ours, ref]) {
        db.exec(ddl);
        const ins = db.prepare(textPk ? 'insert into t(id, v) values (?, ?)' : 'insert into t(v) values (?)');
        db.exec('begin');
        for (let i = 0; i < 20; i++) (textPk ? ins.run(`x${i}`, '[1,2]') : ins.run('[1,2]'));
        db.exec('commit');
        db.exec(textPk ? "delete from t where id in ('x18', 'x19')" : 'delete from t where rowid in (19, 20)');
        if (!textPk) db.prepare('insert into t(rowid, v) values (?, ?)').run(100n, '[3,4]');
        for (let i = 0; i < 3; i++) (textPk ? ins.run(`y${i}`, '[5,6]') : ins.run('[5,6]'));
      }
      expect(shadowDump(ours)).toEqual(shadowDump(ref));
      // last_insert_rowid() is the new row's rowid.
      const r = ours.prepare(textPk ? "insert into t(id, v) values ('z', '[0,0]')" : "insert into t(v) values ('[0,0]')").run();
      const rr = ref.prepare(textPk ? "insert into t(id, v) values ('z', '[0,0]')" : "insert into t(v) values ('[0,0]')").run();
      expect(r.lastInsertRowid).toBe(rr.lastInsertRowid);
      ours.close();
      ref.close();
    }
  });

  test('the largest rowid (2^63 - 1) in the table, then a bulk insert of small ids', () => {
    // The flush looks for inserts it can append without their rowids from max(rowid) + 1 on;
    // with max(rowid) = 2^63 - 1 there is no such id, and every row goes in with its own.
    const ours = openDb();
    const ref = openRef();
    for (const db of [ours, ref]) {
      db.exec('create virtual table t using vec0(v float[2], chunk_size=8)');
      db.prepare('insert into t(rowid, v) values (?, ?)').run(9223372036854775807n, '[9,9]');
      const ins = db.prepare('insert into t(rowid, v) values (?, ?)');
      db.transaction(() => {
        for (let i = 1; i <= 300; i++) ins.run(BigInt(i), `[${i},0]`);
      })();
    }
    expect(shadowDump(ours)).toEqual(shadowDump(ref));
    expect(ours.prepare('select count(*) from t').pluck().get()).toBe(301);
    ours.close();
    ref.close();
  });
  test('text ids deleted and inserted again in one transaction', () => {
    const ours = openDb();
    const ref = openRef();
    for (const db of [ours, ref]) {
      db.exec('create virtual table t using vec0(id text primary key, v float[2], chunk_size=8)');
      db.prepare("insert into t(id, v) values ('a', '[1,1]'), ('b', '[2,2]')").run();
      db.exec('begin');
      db.exec("delete from t where id = 'a'");
      db.exec("insert into t(id, v) values ('a', '[3,3]')");
      db.exec("delete from t where id = 'b'; insert into t(id, v) values ('b', '[4,4]'), ('c', '[5,5]')");
      db.exec("delete from t where id = 'c'");
      db.exec('commit');
    }
    expect(shadowDump(ours)).toEqual(shadowDump(ref));
    expect(ours.prepare('select id, v from t order by id').all()).toEqual(ref.prepare('select id, v from t order by id').all());
    // A duplicate inside the transaction is still refused at once, with the original's message.
    ours.exec('begin');
    expect(msg(() => ours.exec("insert into t(id, v) values ('a', '[0,0]')"))).toBe('UNIQUE constraint failed on t primary key');
    ours.exec('commit');
    ours.close();
    ref.close();
  });
});

describe('vec0 write log: several vector columns against sqlite-vec 0.1.9', () => {
  for (let seed = 1; seed <= 4; seed++) {
    test(`bulk inserts with deletes, updates and savepoints (seed ${seed})`, () => {
      // Three vector columns of different types: each insert joins the log's run of its chunk,
      // whose vector bytes for every column come from that column's arena at flush.
      const rand = rng(seed * 6151);
      const ddl = 'create virtual table t using vec0(a float[48], b int8[20], c bit[24], chunk_size=64)';
      const ours = openDb();
      const ref = openRef();
      ours.exec(ddl);
      ref.exec(ddl);
      const f = (n: number) => JSON.stringify(Array.from({ length: n }, () => Math.round(rand() * 200 - 100) / 8));
      const i8 = (n: number) => JSON.stringify(Array.from({ length: n }, () => Math.floor(rand() * 255) - 127));
      let next = 1;
      const live: bigint[] = [];
      for (let txn = 0; txn < 6; txn++) {
        both(ours, ref, 'begin');
        let open = false;
        const steps = 100 + Math.floor(rand() * 300);
        for (let s = 0; s < steps; s++) {
          const r = rand();
          if (r < 0.75 || live.length === 0) {
            const id = BigInt(next++);
            both(ours, ref, 'insert into t(rowid, a, b, c) values (?, ?, vec_int8(?), vec_bit(vec_quantize_binary(vec_int8(?))))',
              id, f(48), i8(20), i8(24));
            live.push(id);
          } else if (r < 0.85) {
            const id = live.splice(Math.floor(rand() * live.length), 1)[0];
            both(ours, ref, 'delete from t where rowid = ?', id);
          } else if (r < 0.93) {
            both(ours, ref, 'update t set a = ? where rowid = ?', f(48), live[Math.floor(rand() * live.length)]);
          } else if (!open) {
            both(ours, ref, 'savepoint sp');
            open = true;
          } else {
            if (rand() < 0.5) {
              both(ours, ref, 'rollback to sp');
              // Rows the savepoint took back are gone from both.
              const have = new Set((ours.prepare('select rowid from t').all() as any[]).map((x) => BigInt(x.rowid)));
              for (let k = live.length - 1; k >= 0; k--) if (!have.has(live[k])) live.splice(k, 1);
            }
            both(ours, ref, 'release sp');
            open = false;
          }
        }
        both(ours, ref, rand() < 0.2 ? 'rollback' : 'commit');
        const have = new Set((ours.prepare('select rowid from t').all() as any[]).map((x) => BigInt(x.rowid)));
        for (let k = live.length - 1; k >= 0; k--) if (!have.has(live[k])) live.splice(k, 1);
        expect(shadowDump(ours)).toEqual(shadowDump(ref));
        for (const col of ['01', '02']) {
          const q = `select rowid, vectors from t_vector_chunks${col} order by rowid`;
          expect(digest(ours.prepare(q).all())).toEqual(digest(ref.prepare(q).all()));
        }
      }
      ours.close();
      ref.close();
    });
  }
});

describe('vec0 write log with metadata columns (NULLs included) against a JS model', () => {
  test('random transactions with savepoints; the file read back by a new connection matches', () => {
    const file = path.join(tempDir(), 'meta.db');
    const db = openDb(file);
    db.exec('create virtual table t using vec0(v float[2], n integer, s text, b boolean, chunk_size=8)');
    const rand = rng(4242);
    type Row = { n: number | null; s: string | null; b: number | null };
    let model = new Map<number, Row>();
    const val = (): Row => ({
      n: rand() < 0.3 ? null : Math.floor(rand() * 100),
      s: rand() < 0.3 ? null : rand() < 0.5 ? `t${Math.floor(rand() * 9)}` : `a long text value ${Math.floor(rand() * 1000)}`,
      b: rand() < 0.3 ? null : rand() < 0.5 ? 1 : 0,
    });
    const dump = (d: DB) => d.prepare('select rowid, n, s, b from t order by rowid').all();
    const expected = (m: Map<number, Row>) => [...m.entries()].sort((x, y) => x[0] - y[0]).map(([rowid, r]) => ({ rowid, ...r }));
    let next = 1;
    for (let txn = 0; txn < 30; txn++) {
      db.exec('begin');
      const saved: Map<number, Row>[] = [];
      const names: string[] = [];
      let work = new Map(model);
      for (let step = 0; step < 20; step++) {
        const r = rand();
        const live = [...work.keys()];
        if (r < 0.4 || live.length === 0) {
          const row = val();
          db.prepare('insert into t(rowid, v, n, s, b) values (?, ?, ?, ?, ?)').run(next, '[1,2]', row.n, row.s, row.b);
          work.set(next++, row);
        } else if (r < 0.55) {
          const id = live[Math.floor(rand() * live.length)];
          db.prepare('delete from t where rowid = ?').run(id);
          work.delete(id);
        } else if (r < 0.75) {
          const id = live[Math.floor(rand() * live.length)];
          const row = val();
          db.prepare('update t set n = ?, s = ?, b = ? where rowid = ?').run(row.n, row.s, row.b, id);
          work.set(id, row);
        } else if (r < 0.85) {
          names.push(`p${step}`);
          saved.push(new Map(work));
          db.exec(`savepoint p${step}`);
        } else if (names.length > 0) {
          const i = Math.floor(rand() * names.length);
          if (rand() < 0.5) {
            db.exec(`rollback to ${names[i]}`);
            work = new Map(saved[i]);
            names.length = i + 1;
            saved.length = i + 1;
            saved[i] = new Map(work);
          } else {
            db.exec(`release ${names[i]}`);
            names.length = i;
            saved.length = i;
          }
        }
      }
      expect(dump(db)).toEqual(expected(work));
      if (rand() < 0.2) {
        db.exec('rollback');
      } else {
        db.exec('commit');
        model = work;
      }
      expect(dump(db)).toEqual(expected(model));
    }
    db.close();
    const again = openDb(file);
    expect(dump(again)).toEqual(expected(model));
    // And the filters see the same values.
    const nulls = [...model.entries()].filter(([, r]) => r.n === null).map(([id]) => id).sort((x, y) => x - y);
    expect(again.prepare("select rowid from t where v match '[1,2]' and k = 10000 and n is null").all()
      .map((r: any) => r.rowid).sort((x: number, y: number) => x - y)).toEqual(nulls);
    again.close();
  });
});

describe('vec0 per-table change marker', () => {
  function pair() {
    const file = path.join(tempDir(), 'm.db');
    const a = openDb(file);
    a.pragma('journal_mode = wal');
    a.exec('create virtual table t using vec0(v float[2], chunk_size=8); create table other(x)');
    const ins = a.prepare('insert into t(rowid, v) values (?, ?)');
    for (let i = 1; i <= 10; i++) ins.run(i, JSON.stringify([i, i]));
    const b = openDb(file);
    b.prepare("select rowid from t where v match '[0,0]' and k = 1").all(); // b's cache is loaded too
    return { a, b, file };
  }
  const knn = (db: DB) => db.prepare("select rowid from t where v match '[0,0]' and k = 3").all().map((r: any) => r.rowid);

  test('a commit to another table keeps the cache; writes to the table refresh it', () => {
    const { a, b } = pair();
    expect(knn(a)).toEqual([1, 2, 3]);
    const l0 = loads(a);
    const r0 = stats(a).vec0_refreshes;
    b.exec('insert into other values (1)');
    expect(knn(a)).toEqual([1, 2, 3]);
    expect(loads(a)).toBe(l0); // no reload
    b.prepare('insert into t(rowid, v) values (?, ?)').run(50, '[0.5,0.5]');
    expect(knn(a)).toEqual([50, 1, 2]);
    // b's commit is in the change log: a re-reads the one chunk it touched, not the table
    // (test/22.vec0.refresh.test.ts covers the change log itself).
    expect(loads(a)).toBe(l0);
    expect(stats(a).vec0_refreshes).toBe(r0 + 1);
    b.exec('update t set v = \'[0.1,0.1]\' where rowid = 3');
    expect(knn(a)).toEqual([3, 50, 1]);
    b.exec('delete from t where rowid = 50');
    expect(knn(a)).toEqual([3, 1, 2]);
    // Its own writes never reload it.
    const l1 = loads(a);
    a.exec('delete from t where rowid = 1');
    b.exec('insert into other values (2)');
    expect(knn(a)).toEqual([3, 2, 4]);
    expect(loads(a)).toBe(l1);
    a.close();
    b.close();
  });

  test('an insert by sqlite-vec 0.1.9 in another connection is noticed (AUTOINCREMENT sequence)', () => {
    const { a, b, file } = pair();
    b.close();
    expect(knn(a)).toEqual([1, 2, 3]);
    const ref = openRef(file);
    ref.prepare('insert into t(rowid, v) values (?, ?)').run(60n, '[0.2,0.2]');
    ref.close();
    expect(knn(a)).toEqual([60, 1, 2]);
    a.close();
  });

  test('a rejected write (validation error) keeps the cache and the table unchanged', () => {
    const { a, b } = pair();
    b.close();
    expect(knn(a)).toEqual([1, 2, 3]);
    const l0 = loads(a);
    const ins = a.prepare('insert into t(rowid, v) values (?, ?)');
    expect(msg(() => ins.run(99, '[1,2,3]'))).toBe('Dimension mismatch for inserted vector for the "v" column. Expected 2 dimensions but received 3.');
    expect(msg(() => ins.run(5, '[1,2]'))).toBe('UNIQUE constraint failed on t primary key');
    expect(msg(() => a.prepare('update t set v = ? where rowid = 2').run('[nope]'))).toMatch(/^Updated vector for the "v" column is invalid/);
    expect(knn(a)).toEqual([1, 2, 3]);
    expect(loads(a)).toBe(l0);
    expect(a.prepare('select count(*) from t_rowids').pluck().get()).toBe(10);
    a.close();
  });

  test('ROLLBACK TO keeps the cache when nothing in the table changed since the savepoint, and reloads it when something did', () => {
    const { a, b } = pair();
    b.close();
    const sp = a.prepare('savepoint s');
    const back = a.prepare('rollback to s');
    a.exec('begin');
    a.prepare('insert into t(rowid, v) values (?, ?)').run(11, '[-0.5,-0.5]');
    expect(knn(a)).toEqual([11, 1, 2]);
    const l0 = loads(a);
    // A savepoint around writes to another table only.
    sp.run();
    a.prepare('insert into other(x) values (1)').run();
    back.run();
    expect(knn(a)).toEqual([11, 1, 2]);
    expect(loads(a)).toBe(l0);
    // A multi-row statement whose first row fails validation (a statement savepoint, rolled
    // back, and nothing written).
    expect(msg(() => a.exec("insert into t(rowid, v) values (12, '[1,2,3]'), (13, '[0,0]')"))).toMatch(/^Dimension mismatch/);
    expect(knn(a)).toEqual([11, 1, 2]);
    expect(loads(a)).toBe(l0);
    // A multi-row statement that wrote its first row before the second failed: undone, and
    // the cache is rebuilt without that row.
    expect(msg(() => a.exec("insert into t(rowid, v) values (14, '[0,0]'), (15, '[1,2,3]')"))).toMatch(/^Dimension mismatch/);
    expect(knn(a)).toEqual([11, 1, 2]);
    expect(loads(a)).toBe(l0 + 1);
    // Savepoint, a write to t, ROLLBACK TO: the row is gone again.
    sp.run();
    a.prepare('insert into t(rowid, v) values (?, ?)').run(16, '[0,0]');
    expect(knn(a)).toEqual([16, 11, 1]);
    back.run();
    expect(knn(a)).toEqual([11, 1, 2]);
    a.exec('release s');
    a.exec('commit');
    expect(a.prepare('select rowid from t_rowids order by rowid').pluck().all()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    a.close();
  });

  test('a delete by sqlite-vec 0.1.9 in another connection is noticed (validity fingerprint)', () => {
    const { a, b, file } = pair();
    b.close();
    expect(knn(a)).toEqual([1, 2, 3]);
    const ref = openRef(file);
    ref.prepare('delete from t where rowid = ?').run(2n);
    ref.close();
    expect(knn(a)).toEqual([1, 3, 4]);
    a.close();
  });

  test('a rolled-back write by another connection changes nothing', () => {
    const { a, b } = pair();
    expect(knn(a)).toEqual([1, 2, 3]);
    const l0 = loads(a);
    b.exec('begin');
    b.prepare('insert into t(rowid, v) values (?, ?)').run(70, '[0,0]');
    b.exec('rollback');
    b.exec('insert into other values (3)');
    expect(knn(a)).toEqual([1, 2, 3]);
    expect(loads(a)).toBe(l0);
    a.close();
    b.close();
  });
});

describe('vec0 threaded scan (arenas of 16 MiB and more) against a brute-force oracle', () => {
  test('many partitions scanned together, with a dense metadata filter and distance bounds', () => {
    // 48k x 128 float32 in 8 partitions of 3 MiB each: 24 MiB together, so the threads split
    // the partitions' rows between them.
    const n = 48000;
    const dims = 128;
    const rand = rng(78);
    const data = randomF32(rand, n * dims);
    const part = (i: number) => i % 8;
    const tag = (i: number) => (i % 3 === 0 ? 1 : 0);
    const db = openDb();
    db.exec('create virtual table t using vec0(p integer partition key, v float[128], tag integer)');
    const ins = db.prepare('insert into t(rowid, p, v, tag) values (?, ?, ?, ?)');
    db.transaction(() => {
      for (let i = 0; i < n; i++) ins.run(i + 1, part(i), Buffer.from(data.buffer, i * dims * 4, dims * 4), tag(i));
    })();
    const l2 = (q: Float32Array, i: number) => {
      let acc = 0;
      for (let j = 0; j < dims; j++) {
        const d = q[j] - data[i * dims + j];
        acc += d * d;
      }
      return Math.sqrt(acc);
    };
    for (let t = 0; t < 3; t++) {
      const q = randomF32(rand, dims);
      const qb = Buffer.from(q.buffer);
      const all = Array.from({ length: n }, (_, i) => ({ i, id: i + 1, d: l2(q, i) })).sort((x, y) => x.d - y.d);
      const ids = (rows: any[]) => rows.map((r) => r.rowid);
      expect(ids(db.prepare('select rowid from t where v match ? and k = 20').all(qb))).toEqual(all.slice(0, 20).map((r) => r.id));
      const tagged = all.filter((r) => tag(r.i) === 1);
      expect(ids(db.prepare('select rowid from t where v match ? and k = 20 and tag = 1').all(qb))).toEqual(
        tagged.slice(0, 20).map((r) => r.id));
      const some = all.filter((r) => [1, 2, 5, 6, 7].includes(part(r.i)) && tag(r.i) === 0);
      expect(ids(db.prepare('select rowid from t where v match ? and k = 20 and p in (1, 2, 5, 6, 7) and tag = 0').all(qb))).toEqual(
        some.slice(0, 20).map((r) => r.id));
      const lo = all[200].d;
      const win = all.filter((r) => Math.fround(r.d) >= Math.fround(lo));
      expect(ids(db.prepare('select rowid from t where v match ? and k = 20 and distance >= ?').all(qb, lo))).toEqual(
        win.slice(0, 20).map((r) => r.id));
    }
    db.close();
  });

  test('k, rowid IN and distance bounds over 40k x 128', () => {
    const n = 40000;
    const dims = 128;
    const rand = rng(77);
    const data = randomF32(rand, n * dims);
    const db = openDb();
    db.exec('create virtual table t using vec0(v float[128])');
    const ins = db.prepare('insert into t(rowid, v) values (?, ?)');
    db.transaction(() => {
      for (let i = 0; i < n; i++) ins.run(i + 1, Buffer.from(data.buffer, i * dims * 4, dims * 4));
    })();
    const l2 = (q: Float32Array, i: number) => {
      let s = 0;
      for (let j = 0; j < dims; j++) {
        const d = q[j] - data[i * dims + j];
        s += d * d;
      }
      return Math.sqrt(s);
    };
    for (let t = 0; t < 4; t++) {
      const q = randomF32(rand, dims);
      const all = Array.from({ length: n }, (_, i) => ({ id: i + 1, d: l2(q, i) })).sort((x, y) => x.d - y.d);
      const qb = Buffer.from(q.buffer);
      const got = db.prepare('select rowid, distance from t where v match ? and k = 25').all(qb) as any[];
      expect(got.map((r) => r.rowid)).toEqual(all.slice(0, 25).map((r) => r.id));
      got.forEach((r, i) => expect(Math.abs(r.distance - all[i].d)).toBeLessThan(1e-4));
      // Distance window: the 25 nearest with lo < d <= hi.
      const lo = all[100].d, hi = all[5000].d;
      const inWin = all.filter((r) => Math.fround(r.d) > Math.fround(lo) && Math.fround(r.d) <= Math.fround(hi));
      const win = db.prepare('select rowid from t where v match ? and k = 25 and distance > ? and distance <= ?').all(qb, lo, hi) as any[];
      expect(win.map((r) => r.rowid)).toEqual(inWin.slice(0, 25).map((r) => r.id));
      // rowid IN: a scattered subset, fewer than k of them.
      const some = Array.from({ length: 12 }, () => 1 + Math.floor(rand() * n));
      const expectIn = all.filter((r) => some.includes(r.id)).map((r) => r.id);
      const gotIn = db.prepare(`select rowid from t where v match ? and k = 25 and rowid in (${some.join(',')})`).all(qb) as any[];
      expect(gotIn.map((r) => r.rowid)).toEqual(expectIn);
    }
    db.close();
  });
});
