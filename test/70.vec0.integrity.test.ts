// vec0 integrity: shadow tables that disagree (rows listed in _rowids whose chunks are gone) are
// a loud error naming the table and its shadow tables, never an empty answer; consistent
// tables (written by vecsqlite or by sqlite-vec 0.1.9) load without a false alarm; and whole-number
// JS numbers (better-sqlite3 binds them as REAL) are accepted for INTEGER partition keys.
import * as path from 'path';
import { openDb, openRef, tempDir, err, rng, f32blob, DB } from './helpers/db';

const INCONSISTENT = /^vec0 table "t" is inconsistent: its shadow table "t_rowids" lists 20 rows but the validity bitmaps of "t_chunks" mark (\d+) \(rowid (\d+) points at chunk (\d+), which "t_chunks" does not have\)/;

function filled(file: string, opts = ''): DB {
  const db = openDb(file);
  db.exec(`create virtual table t using vec0(e float[2]${opts})`);
  const ins = db.prepare('insert into t(rowid, e) values (?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= 20; i++) ins.run(BigInt(i), f32blob([i, 0]));
  })();
  return db;
}

describe('vec0 shadow tables that disagree', () => {
  test('every _chunks row deleted, _rowids still listing 20 rows: count, KNN and point lookups raise', () => {
    const file = path.join(tempDir(), 'a.db');
    filled(file).close();
    const raw = openDb(file);
    raw.unsafeMode(true); // lets ordinary SQL write the shadow tables
    raw.exec('delete from t_chunks');
    raw.close();
    const db = openDb(file);
    for (const sql of ['select count(*) from t', "select rowid from t where e match '[1, 0]' and k = 3", 'select * from t where rowid = 3']) {
      const m = err(() => db.prepare(sql).all());
      expect(m).toMatch(INCONSISTENT);
      const [, marked, rowid, chunk] = INCONSISTENT.exec(m as string)!;
      expect([marked, rowid, chunk]).toEqual(['0', '1', '1']);
    }
    try {
      db.prepare('select count(*) from t').get();
    } catch (e) {
      expect((e as { code: string }).code).toBe('SQLITE_CORRUPT_VTAB');
    }
  });

  test('one chunk of three deleted: the error names the first row of the missing chunk', () => {
    const file = path.join(tempDir(), 'b.db');
    filled(file, ', chunk_size=8').close();
    const raw = openDb(file);
    raw.unsafeMode(true);
    raw.exec('delete from t_chunks where chunk_id = 2'); // rows 9..16
    raw.close();
    const m = err(() => openDb(file).prepare('select count(*) from t').get());
    const [, marked, rowid, chunk] = INCONSISTENT.exec(m as string)!;
    expect([marked, rowid, chunk]).toEqual(['12', '9', '2']);
  });

  test('a connection that had loaded the table sees the damage another connection did on its next query', () => {
    const file = path.join(tempDir(), 'c.db');
    const db = filled(file, ', chunk_size=8');
    expect(db.prepare('select count(*) c from t').get()).toEqual({ c: 20 });
    const raw = openDb(file);
    raw.unsafeMode(true);
    raw.exec('delete from t_chunks where chunk_id = 1');
    raw.close();
    expect(err(() => db.prepare("select rowid from t where e match '[1, 0]' and k = 3").all())).toMatch(INCONSISTENT);
  });

  test('once the shadow tables agree again, the remaining rows read back exactly', () => {
    const file = path.join(tempDir(), 'd.db');
    filled(file, ', chunk_size=8').close();
    const raw = openDb(file);
    raw.unsafeMode(true);
    raw.exec('delete from t_chunks where chunk_id = 2');
    expect(err(() => raw.prepare('select count(*) from t').get())).toMatch(INCONSISTENT);
    raw.exec('delete from t_rowids where chunk_id = 2');
    raw.close();
    const db = openDb(file);
    const left = [1, 2, 3, 4, 5, 6, 7, 8, 17, 18, 19, 20];
    expect(db.prepare('select count(*) c from t').get()).toEqual({ c: left.length });
    const want = [...left].sort((a, b) => Math.abs(a - 10) - Math.abs(b - 10) || a - b).slice(0, 3);
    expect(want).toEqual([8, 7, 6]);
    expect(db.prepare("select rowid from t where e match '[10, 0]' and k = 3").pluck().all()).toEqual(want);
    expect(db.prepare('select rowid from t order by rowid').pluck().all()).toEqual(left);
  });

  test('as many rows listed as marked, but not the same ones: a text id without a slot, and one rowid in two slots, raise', () => {
    // (found by the `corrupt` fuzz target: a text-key point lookup dereferenced the missing slot)
    const file = path.join(tempDir(), 'ids.db');
    const db0 = openDb(file);
    db0.exec('create virtual table t using vec0(id text primary key, e float[2], chunk_size=8)');
    const ins = db0.prepare('insert into t(id, e) values (?, ?)');
    for (let i = 1; i <= 5; i++) ins.run(`k${i}`, f32blob([i, 0]));
    db0.close();
    const rowidsBlob = (db: DB) => db.prepare('select rowids from t_chunks').pluck().get() as Buffer;
    // Slot 2 (rowid 3) now says rowid 9: _rowids still lists 3 ('k3'), and 5 rows either way.
    const raw = openDb(file);
    raw.unsafeMode(true);
    const b = Buffer.from(rowidsBlob(raw));
    b.writeBigInt64LE(9n, 2 * 8);
    raw.prepare('update t_chunks set rowids = ?').run(b);
    raw.close();
    let db = openDb(file);
    for (const sql of ["select e from t where id = 'k3'", 'select count(*) from t', "select id from t where e match '[1, 0]' and k = 2"]) {
      expect(err(() => db.prepare(sql).all())).toBe(
        `vec0 table "t" is inconsistent: its shadow table "t_rowids" lists rowid 3 (id 'k3') but no chunk of "t_chunks" holds it; the table cannot be read until its shadow tables agree again (restore it from a backup or recreate it)`);
    }
    db.close();
    // Slot 2 says rowid 2, like slot 1.
    const raw2 = openDb(file);
    raw2.unsafeMode(true);
    b.writeBigInt64LE(2n, 2 * 8);
    raw2.prepare('update t_chunks set rowids = ?').run(b);
    raw2.close();
    db = openDb(file);
    expect(err(() => db.prepare('select count(*) from t').all())).toBe(
      'vec0 table "t" is inconsistent: rowid 2 is in two slots of "t_chunks" (chunk 1 offset 1, chunk 1 offset 2); the table cannot be read until its shadow tables agree again (restore it from a backup or recreate it)');
    db.close();
  });

  test('no false alarm: tables written by vecsqlite and by sqlite-vec 0.1.9 (inserts, deletes, text keys, partitions) load and answer like a brute-force oracle', () => {
    const rand = rng(70);
    const specs = [
      'create virtual table t using vec0(e float[3], chunk_size=8)',
      'create virtual table t using vec0(id text primary key, e float[3], chunk_size=8)',
      'create virtual table t using vec0(g integer partition key, e float[3], +note text, chunk_size=8)',
    ];
    for (const spec of specs) {
      for (const writer of ['ours', 'ref'] as const) {
        const file = path.join(tempDir(), 'e.db');
        const w = writer === 'ours' ? openDb(file) : openRef(file);
        w.exec(spec);
        const textKey = spec.includes('text primary key');
        const part = spec.includes('partition key');
        const model = new Map<number, number[]>();
        w.exec('begin');
        for (let i = 1; i <= 120; i++) {
          const v = [rand(), rand(), rand()];
          const key = textKey ? `k${i}` : BigInt(i);
          if (part) w.prepare('insert into t(rowid, g, e, note) values (?, ?, ?, ?)').run(key, BigInt(i % 3), f32blob(v), `n${i}`);
          else w.prepare(`insert into t(${textKey ? 'id' : 'rowid'}, e) values (?, ?)`).run(key, f32blob(v));
          model.set(i, v);
        }
        for (let i = 1; i <= 120; i += 1 + Math.floor(rand() * 4)) {
          w.prepare(`delete from t where ${textKey ? 'id' : 'rowid'} = ?`).run(textKey ? `k${i}` : BigInt(i));
          model.delete(i);
        }
        w.exec('commit');
        w.close();
        const db = openDb(file);
        expect(db.prepare('select count(*) c from t').get()).toEqual({ c: model.size });
        const q = [rand(), rand(), rand()];
        const d2 = (v: number[]) => v.reduce((s, x, j) => s + (Math.fround(x) - Math.fround(q[j])) ** 2, 0);
        const want = [...model.entries()].sort((a, b) => d2(a[1]) - d2(b[1])).slice(0, 5).map(([i]) => (textKey ? `k${i}` : i));
        const got = db.prepare(`select ${textKey ? 'id' : 'rowid'} as k from t where e match ? and k = 5`).pluck().all(f32blob(q));
        expect(got).toEqual(want);
        db.close();
      }
    }
  });
});

describe('INTEGER partition keys and JS numbers', () => {
  test('a whole JS number (bound as REAL) is accepted and stored as an integer; 2.5 keeps the type error', () => {
    const db = openDb();
    db.exec('create virtual table t using vec0(tenant integer partition key, e float[2])');
    const ins = db.prepare('insert into t(rowid, tenant, e) values (?, ?, ?)');
    ins.run(1, 2, '[1, 0]');
    ins.run(2, 3, '[0, 1]');
    ins.run(3, -0, '[1, 1]');
    expect(err(() => ins.run(4, 2.5, '[1, 1]'))).toBe(
      'Parition key type mismatch: The partition key column tenant has type INTEGER, but FLOAT was provided.',
    );
    // 2^63 is not an int64; the largest double below it is.
    expect(err(() => ins.run(5, 2 ** 63, '[1, 1]'))).toBe(
      'Parition key type mismatch: The partition key column tenant has type INTEGER, but FLOAT was provided.',
    );
    ins.run(6, 2 ** 62, '[1, 1]');
    expect(db.prepare('select rowid, tenant, typeof(tenant) ty from t order by rowid').all()).toEqual([
      { rowid: 1, tenant: 2, ty: 'integer' },
      { rowid: 2, tenant: 3, ty: 'integer' },
      { rowid: 3, tenant: 0, ty: 'integer' },
      { rowid: 6, tenant: 2 ** 62, ty: 'integer' },
    ]);
    // The same JS numbers select the partition in a KNN query.
    expect(db.prepare("select rowid from t where e match '[1, 0]' and k = 5 and tenant = ?").pluck().all(2)).toEqual([1]);
    expect(db.prepare("select rowid from t where e match '[1, 0]' and k = 5 and tenant = ?").pluck().all(2.5)).toEqual([]);
  });
});
