// vec0 metadata columns: type checks with the original's messages, byte layouts,
// KNN filters (checked against a brute-force oracle, including filters that leave fewer than k
// rows), illegal operators, UPDATE/DELETE with long texts, and the vecsqlite fixes: NULLs stored
// and filtered with IS NULL / IS NOT NULL, whole-number REALs accepted for INTEGER columns.
import Database from 'better-sqlite3';
import { openDb, rng, DB, f32blob, openRef, err } from './helpers/db';


describe('vec0 metadata columns', () => {
  const spec = 'create virtual table t using vec0(a float[2], b boolean, n integer, f float, s text, chunk_size=8)';

  test('INSERT type checks: messages identical to 0.1.9 for values it rejects too', () => {
    const ours = openDb();
    const ref = openRef();
    ours.exec(spec);
    ref.exec(spec);
    const ins = "insert into t(rowid, a, b, n, f, s) values (?, '[1,1]', ?, ?, ?, ?)";
    const bad: [unknown[], string][] = [
      [[1n, 2n, 1n, 1.5, 'x'], 'Expected 0 or 1 for BOOLEAN metadata column b'],
      [[1n, 'yes', 1n, 1.5, 'x'], 'Expected 0 or 1 for BOOLEAN metadata column b'],
      [[1n, 0.5, 1n, 1.5, 'x'], 'Expected 0 or 1 for BOOLEAN metadata column b'],
      [[1n, 1n, 1.5, 1.5, 'x'], 'Expected integer for INTEGER metadata column n, received FLOAT'],
      [[1n, 1n, 'x', 1.5, 'x'], 'Expected integer for INTEGER metadata column n, received TEXT'],
      [[1n, 1n, Buffer.from([1]), 1.5, 'x'], 'Expected integer for INTEGER metadata column n, received BLOB'],
      [[1n, 1n, 1n, 1n, 'x'], 'Expected float for FLOAT metadata column f, received INTEGER'],
      [[1n, 1n, 1n, 'x', 'x'], 'Expected float for FLOAT metadata column f, received TEXT'],
      [[1n, 1n, 1n, 1.5, 1n], 'Expected text for TEXT metadata column s, received INTEGER'],
      [[1n, 1n, 1n, 1.5, Buffer.from('x')], 'Expected text for TEXT metadata column s, received BLOB'],
    ];
    for (const [vals, msg] of bad) {
      expect(err(() => ours.prepare(ins).run(...vals))).toBe(msg);
      expect(err(() => ref.prepare(ins).run(...vals))).toBe(msg);
    }
    // Nothing was half-written (vecsqlite validates every column before writing).
    expect(ours.prepare('select count(*) c from t_rowids').get()).toEqual({ c: 0 });
    expect(ours.prepare('select count(*) c from t_chunks').get()).toEqual({ c: 0 });
  });

  test('vecsqlite fix: whole-number JS numbers are accepted for INTEGER and BOOLEAN metadata (0.1.9 rejects them)', () => {
    const ours = openDb();
    const ref = openRef();
    ours.exec(spec);
    ref.exec(spec);
    const ins = "insert into t(rowid, a, b, n, f, s) values (?, '[1,1]', 1, ?, 0.5, 'x')";
    expect(err(() => ref.prepare(ins).run(1n, 7))).toBe('Expected integer for INTEGER metadata column n, received FLOAT');
    ours.prepare(ins).run(1, 7);
    expect(ours.prepare('select n, typeof(n) ty from t where rowid = 1').get()).toEqual({ n: 7, ty: 'integer' });
    expect(err(() => ours.prepare(ins).run(2, 7.5))).toBe('Expected integer for INTEGER metadata column n, received FLOAT');
    ours.prepare('update t set n = ? where rowid = 1').run(-3);
    expect(ours.prepare('select n from t where rowid = 1').get()).toEqual({ n: -3 });
    // The same for BOOLEAN: a JS 1 / 0 (bound as REAL) is accepted; 0.1.9 rejects it.
    const insb = "insert into t(rowid, a, b, n, f, s) values (?, '[1,1]', ?, 1, 0.5, 'x')";
    expect(err(() => ref.prepare(insb).run(5n, 1))).toBe('Expected 0 or 1 for BOOLEAN metadata column b');
    ours.prepare(insb).run(5, 1);
    ours.prepare(insb).run(6, 0);
    expect(ours.prepare('select rowid, b from t where rowid >= 5').all()).toEqual([{ rowid: 5, b: 1 }, { rowid: 6, b: 0 }]);
    expect(err(() => ours.prepare(insb).run(7, 2))).toBe('Expected 0 or 1 for BOOLEAN metadata column b');
    // Stored exactly as an int64 (byte layout of the original).
    const blob = ours.prepare('select data from t_metadatachunks01 where rowid = 1').get() as { data: Buffer };
    expect(blob.data.length).toBe(64);
    expect(blob.data.readBigInt64LE(0)).toBe(-3n);
  });

  test('byte layouts of the four metadata types (and the long-text side table) equal 0.1.9', () => {
    const ours = openDb();
    const ref = openRef();
    for (const db of [ours, ref]) {
      db.exec(spec);
      const ins = db.prepare("insert into t(rowid, a, b, n, f, s) values (?, '[1,1]', ?, ?, ?, ?)");
      ins.run(1n, 1n, 5n, 1.5, 'short');
      ins.run(2n, 0n, -2n, -0.25, 'exactly12byt');
      ins.run(3n, 1n, 9n, 3.0, 'longer than twelve bytes');
      db.prepare("update t set s = 'now short' where rowid = 3").run();
      db.prepare("update t set s = 'now a much longer text' where rowid = 1").run();
    }
    const dump = (db: DB) =>
      [0, 1, 2, 3].map((i) => db.prepare(`select rowid, data from t_metadatachunks0${i}`).all()).concat([db.prepare('select rowid, data from t_metadatatext03 order by rowid').all()]);
    expect(dump(ours)).toEqual(dump(ref));
    const d = dump(ours) as any[][];
    expect(d[0][0].data).toEqual(Buffer.from([0b101]));
    expect(d[1][0].data.readBigInt64LE(8)).toBe(-2n);
    expect(d[2][0].data.readDoubleLE(8)).toBe(-0.25);
    const text = d[3][0].data as Buffer;
    expect(text.length).toBe(8 * 16);
    expect(text.readInt32LE(0)).toBe('now a much longer text'.length);
    expect(text.subarray(4, 16).toString()).toBe('now a much l');
    expect(text.readInt32LE(16)).toBe(12);
    expect(text.subarray(20, 32).toString()).toBe('exactly12byt');
    expect(d[4]).toEqual([{ rowid: 1, data: 'now a much longer text' }]);
    expect(ours.prepare('select rowid, s from t order by rowid').all()).toEqual([
      { rowid: 1, s: 'now a much longer text' },
      { rowid: 2, s: 'exactly12byt' },
      { rowid: 3, s: 'now short' },
    ]);
    // DELETE removes the long text and zeroes the slot (as 0.1.9).
    for (const db of [ours, ref]) db.prepare('delete from t where rowid = 1').run();
    expect(dump(ours)).toEqual(dump(ref));
    expect((dump(ours) as any[][])[4]).toEqual([]);
  });

  test('illegal operators and types in KNN filters: the original messages', () => {
    const ours = openDb();
    const ref = openRef();
    ours.exec(spec);
    ref.exec(spec);
    const q = "select rowid from t where a match '[1,1]' and k = 3 and ";
    const illegal =
      'An illegal WHERE constraint was provided on a vec0 metadata column in a KNN query. Only one of EQUALS, GREATER_THAN, LESS_THAN_OR_EQUAL, LESS_THAN, GREATER_THAN_OR_EQUAL, NOT_EQUALS is allowed.';
    const cases: [string, string][] = [
      ["s like 'a%'", illegal],
      ["s glob 'a*'", illegal],
      ['n is 5', illegal],
      ['n is not 5', illegal],
      ['b > 0', 'ONLY EQUALS (=) or NOT_EQUALS (!=) operators are allowed on boolean metadata columns.'],
      ['b <= 1', 'ONLY EQUALS (=) or NOT_EQUALS (!=) operators are allowed on boolean metadata columns.'],
      ['f in (1.5, 2.5)', "'xxx in (...)' is only available on INTEGER or TEXT metadata columns."],
      ['b in (0, 1)', "'xxx in (...)' is only available on INTEGER or TEXT metadata columns."],
    ];
    for (const [w, msg] of cases) {
      expect(err(() => ours.prepare(q + w).all())).toBe(msg);
      expect(err(() => ref.prepare(q + w).all())).toBe(msg);
    }
    // Outside KNN queries metadata columns are ordinary columns filtered by SQLite.
    ours.prepare("insert into t(rowid, a, b, n, f, s) values (1, '[1,1]', 1, 1, 0.5, 'abc')").run();
    expect(ours.prepare("select rowid from t where s like 'a%' and b > 0").all()).toEqual([{ rowid: 1 }]);
  });

  test('vecsqlite fix: NULL metadata is stored, returned and filtered with IS NULL / IS NOT NULL', () => {
    const ours = openDb();
    const ref = openRef();
    ours.exec(spec);
    ref.exec(spec);
    expect(err(() => ref.prepare("insert into t(rowid, a, b, n, f, s) values (1, '[1,1]', 1, 1, 0.5, null)").run())).toBe(
      'Expected text for TEXT metadata column s, received NULL',
    );
    const ins = ours.prepare('insert into t(rowid, a, b, n, f, s) values (?, ?, ?, ?, ?, ?)');
    ins.run(1n, '[1,0]', 1n, 1n, 0.5, 'one');
    ins.run(2n, '[2,0]', null, null, null, null);
    ins.run(3n, '[3,0]', 0n, 3n, 1.5, 'a long text, longer than 12');
    ins.run(4n, '[4,0]', 1n, null, 2.5, null);
    expect(ours.prepare('select rowid, b, n, f, s from t order by rowid').all()).toEqual([
      { rowid: 1, b: 1, n: 1, f: 0.5, s: 'one' },
      { rowid: 2, b: null, n: null, f: null, s: null },
      { rowid: 3, b: 0, n: 3, f: 1.5, s: 'a long text, longer than 12' },
      { rowid: 4, b: 1, n: null, f: 2.5, s: null },
    ]);
    const knn = (w: string, ...p: unknown[]) =>
      ours.prepare(`select rowid from t where a match '[0,0]' and k = 10 and ${w}`).all(...p).map((r: any) => r.rowid);
    expect(knn('n is null')).toEqual([2, 4]);
    expect(knn('n is not null')).toEqual([1, 3]);
    expect(knn('s is null and b = 1')).toEqual([4]);
    expect(knn('b is null')).toEqual([2]);
    // NULLs never satisfy comparisons, including !=, and are never in IN lists.
    expect(knn('n != 1')).toEqual([3]);
    expect(knn('n < 100')).toEqual([1, 3]);
    expect(knn('b != 1')).toEqual([3]);
    expect(knn("s != 'one'")).toEqual([3]);
    expect(knn('n in (1, 3)')).toEqual([1, 3]);
    // A NULL target matches nothing (SQL semantics).
    expect(knn('n = ?', null)).toEqual([]);
    expect(ours.prepare("explain query plan select rowid from t where a match '[0,0]' and k = 10 and n is null and s is not null").all().map((r: any) => r.detail)).toEqual([
      'SCAN t VIRTUAL TABLE INDEX 0:3{___}___&Bn_&Dm_',
    ]);
    // UPDATE to and from NULL.
    ours.prepare("update t set n = 8, s = 'back' where rowid = 2").run();
    ours.prepare('update t set f = null where rowid = 1').run();
    expect(knn('n is null')).toEqual([4]);
    expect(knn('f is null')).toEqual([1, 2]);
    expect(ours.prepare('select n, s, f from t where rowid = 2').get()).toEqual({ n: 8, s: 'back', f: null });
    // Survives a reload from the shadow tables (another connection on the same file).
    const dir = require('fs').mkdtempSync(require('path').join(require('os').tmpdir(), 'vec0null-'));
    const file = require('path').join(dir, 'x.db');
    ours.exec(`vacuum into '${file}'`);
    const again = openDb(file);
    expect(again.prepare('select rowid, b, n, f, s from t order by rowid').all()).toEqual([
      { rowid: 1, b: 1, n: 1, f: null, s: 'one' },
      { rowid: 2, b: null, n: 8, f: null, s: 'back' },
      { rowid: 3, b: 0, n: 3, f: 1.5, s: 'a long text, longer than 12' },
      { rowid: 4, b: 1, n: null, f: 2.5, s: null },
    ]);
    expect(again.prepare("select rowid from t where a match '[0,0]' and k = 10 and f is null").all()).toEqual([{ rowid: 1 }, { rowid: 2 }]);
    again.close();
    require('fs').rmSync(dir, { recursive: true, force: true });
  });

  test('NULL encoding: a trailing null bitmap appended to the chunk blob only once a NULL is stored', () => {
    const ours = openDb();
    ours.exec(spec);
    const ins = ours.prepare('insert into t(rowid, a, b, n, f, s) values (?, ?, ?, ?, ?, ?)');
    for (let i = 1n; i <= 8n; i++) ins.run(i, '[1,1]', 1n, i, 0.5, 'x'); // chunk 1, no NULL
    ins.run(9n, '[1,1]', 1n, null, 0.5, 'x'); // chunk 2 slot 0
    ins.run(10n, '[1,1]', 1n, 4n, 0.5, 'x');
    ins.run(11n, '[1,1]', 1n, null, 0.5, 'x'); // slot 2
    const rows = ours.prepare('select rowid, data from t_metadatachunks01 order by rowid').all() as { rowid: number; data: Buffer }[];
    expect(rows[0].data.length).toBe(64); // exactly 0.1.9's layout
    expect(rows[1].data.length).toBe(64 + 1);
    expect(rows[1].data[64]).toBe(0b101);
    expect(rows[1].data.readBigInt64LE(0)).toBe(0n);
    expect(rows[1].data.readBigInt64LE(8)).toBe(4n);
    // Other columns of chunk 2 never saw a NULL: no tail.
    expect((ours.prepare('select data from t_metadatachunks00 where rowid = 2').get() as any).data.length).toBe(1);
    // Clearing a NULL clears its bit; deleting the row clears it too.
    ours.prepare('update t set n = 6 where rowid = 9').run();
    ours.prepare('delete from t where rowid = 11').run();
    const c2 = (ours.prepare('select data from t_metadatachunks01 where rowid = 2').get() as any).data as Buffer;
    expect(c2[64]).toBe(0);
    expect(c2.readBigInt64LE(0)).toBe(6n);
  });

  test('0.1.9 reads a vecsqlite file whose chunks hold NULLs as zero values (no crash, writes keep working)', () => {
    const dir = require('fs').mkdtempSync(require('path').join(require('os').tmpdir(), 'vec0meta-'));
    const file = require('path').join(dir, 'n.db');
    const w = openDb(file);
    w.exec(spec);
    w.prepare("insert into t(rowid, a, b, n, f, s) values (1, '[1,1]', 1, 5, 1.5, 'x')").run();
    w.prepare("insert into t(rowid, a, b, n, f, s) values (2, '[2,2]', null, null, null, null)").run();
    w.close();
    const r = openRef(file);
    expect(r.prepare('select rowid, b, n, f, s from t').all()).toEqual([
      { rowid: 1, b: 1, n: 5, f: 1.5, s: 'x' },
      { rowid: 2, b: 0, n: 0, f: 0, s: '' },
    ]);
    r.prepare("insert into t(rowid, a, b, n, f, s) values (3, '[3,3]', 0, 7, 2.5, 'y')").run();
    r.close();
    const w2 = openDb(file);
    expect(w2.prepare('select rowid, b, n, f, s from t').all()).toEqual([
      { rowid: 1, b: 1, n: 5, f: 1.5, s: 'x' },
      { rowid: 2, b: null, n: null, f: null, s: null },
      { rowid: 3, b: 0, n: 7, f: 2.5, s: 'y' },
    ]);
    w2.close();
    require('fs').rmSync(dir, { recursive: true, force: true });
  });

  // Brute-force oracle: random rows (random f32 vectors, so no distance ties), random filters
  // on every metadata type; the KNN must return exactly the k nearest rows that satisfy them.
  test('filtered KNN equals a brute-force oracle, including filters that leave fewer than k rows', () => {
    const rand = rng(1717);
    const db = openDb();
    db.exec('create virtual table o using vec0(a float[8], b boolean, n integer, f float, s text, chunk_size=64)');
    const words = ['', 'ant', 'apple', 'banana', 'bandana', 'cherry', 'twelve chars', 'twelve chars+', 'a rather long string value', 'a rather long string valve', 'zebra'];
    type Row = { id: number; v: number[]; b: number | null; n: number | null; f: number | null; s: string | null };
    const rows: Row[] = [];
    const ins = db.prepare('insert into o(rowid, a, b, n, f, s) values (?, ?, ?, ?, ?, ?)');
    for (let i = 1; i <= 1500; i++) {
      const v = Array.from({ length: 8 }, () => Math.fround(rand() * 2 - 1));
      const nul = () => rand() < 0.05;
      const r: Row = {
        id: i,
        v,
        b: nul() ? null : rand() < 0.5 ? 1 : 0,
        n: nul() ? null : Math.floor(rand() * 50),
        f: nul() ? null : Math.floor(rand() * 40) / 4,
        s: nul() ? null : words[Math.floor(rand() * words.length)],
      };
      rows.push(r);
      ins.run(BigInt(i), f32blob(v), r.b === null ? null : BigInt(r.b), r.n === null ? null : BigInt(r.n), r.f, r.s);
    }
    // Deletes and updates so that chunks have holes and rewritten values.
    for (let i = 0; i < 200; i++) {
      const idx = Math.floor(rand() * rows.length);
      const r = rows[idx];
      if (rand() < 0.5) {
        db.prepare('delete from o where rowid = ?').run(BigInt(r.id));
        rows.splice(idx, 1);
      } else {
        r.n = rand() < 0.1 ? null : Math.floor(rand() * 50);
        r.s = words[Math.floor(rand() * words.length)];
        db.prepare('update o set n = ?, s = ? where rowid = ?').run(r.n === null ? null : BigInt(r.n), r.s, BigInt(r.id));
      }
    }
    const l2 = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0));
    const cmp = (op: string, a: any, b: any) =>
      op === '=' ? a === b : op === '!=' ? a !== b : op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
    let fewer = 0;
    let empty = 0;
    for (let qi = 0; qi < 250; qi++) {
      const q = Array.from({ length: 8 }, () => Math.fround(rand() * 2 - 1));
      const k = 1 + Math.floor(rand() * 40);
      const conds: string[] = [];
      const params: unknown[] = [f32blob(q)];
      const preds: ((r: Row) => boolean)[] = [];
      const ops = ['=', '!=', '<', '<=', '>', '>='];
      if (rand() < 0.4) {
        const op = rand() < 0.5 ? '=' : '!=';
        const val = rand() < 0.5 ? 1 : 0;
        conds.push(`b ${op} ?`);
        params.push(BigInt(val));
        preds.push((r) => r.b !== null && cmp(op, r.b, val));
      }
      if (rand() < 0.5) {
        if (rand() < 0.3) {
          const vals = [Math.floor(rand() * 50), Math.floor(rand() * 50), Math.floor(rand() * 50)];
          conds.push('n in (?, ?, ?)');
          params.push(...vals.map(BigInt));
          preds.push((r) => r.n !== null && vals.includes(r.n));
        } else {
          const op = ops[Math.floor(rand() * 6)];
          const val = Math.floor(rand() * 50);
          conds.push(`n ${op} ?`);
          params.push(BigInt(val));
          preds.push((r) => r.n !== null && cmp(op, r.n, val));
        }
      }
      if (rand() < 0.4) {
        const op = ops[Math.floor(rand() * 6)];
        const val = Math.floor(rand() * 40) / 4 + (rand() < 0.5 ? 0.1 : 0);
        conds.push(`f ${op} ?`);
        params.push(val);
        preds.push((r) => r.f !== null && cmp(op, r.f, val));
      }
      if (rand() < 0.5) {
        if (rand() < 0.3) {
          const vals = [words[Math.floor(rand() * words.length)], words[Math.floor(rand() * words.length)]];
          conds.push('s in (?, ?)');
          params.push(...vals);
          preds.push((r) => r.s !== null && vals.includes(r.s));
        } else {
          const op = ops[Math.floor(rand() * 6)];
          const val = rand() < 0.8 ? words[Math.floor(rand() * words.length)] : 'a rather long string vam';
          conds.push(`s ${op} ?`);
          params.push(val);
          preds.push((r) => r.s !== null && cmp(op, r.s, val));
        }
      }
      if (rand() < 0.15) {
        conds.push('n is null');
        preds.push((r) => r.n === null);
      }
      const sql = `select rowid, distance from o where a match ? and k = ${k}${conds.map((c) => ' and ' + c).join('')}`;
      const got = db.prepare(sql).all(...params) as { rowid: number; distance: number }[];
      const want = rows
        .filter((r) => preds.every((p) => p(r)))
        .map((r) => ({ id: r.id, d: l2(q, r.v) }))
        .sort((x, y) => x.d - y.d)
        .slice(0, k);
      expect({ sql, ids: got.map((r) => r.rowid) }).toEqual({ sql, ids: want.map((r) => r.id) });
      got.forEach((r, i) => expect(Math.abs(r.distance - want[i].d)).toBeLessThan(1e-5));
      if (want.length < k) fewer++;
      if (want.length === 0) empty++;
    }
    // The random filters did exercise the "fewer than k rows satisfy it" case, and the empty one.
    expect(fewer).toBeGreaterThan(20);
    expect(empty).toBeGreaterThan(3);
  });

  test('a very selective filter still returns k rows when k rows satisfy it (filter before top-k)', () => {
    const db = openDb();
    db.exec('create virtual table s using vec0(a float[1], tag integer, chunk_size=16)');
    const ins = db.prepare('insert into s(rowid, a, tag) values (?, ?, ?)');
    for (let i = 1; i <= 2000; i++) ins.run(BigInt(i), `[${i}]`, BigInt(i % 500 === 0 ? 1 : 0));
    // Rows 500, 1000, 1500, 2000 carry tag 1 and are the farthest from the query.
    expect(db.prepare("select rowid from s where a match '[0]' and k = 3 and tag = 1").all()).toEqual([{ rowid: 500 }, { rowid: 1000 }, { rowid: 1500 }]);
    expect(db.prepare("select rowid from s where a match '[0]' and k = 10 and tag = 1").all().length).toBe(4);
  });
  test('corrupted metadata shadow rows give a clear SQL error, never a crash', () => {
    // A plain connection (no extension: shadow tables are writable) damages the file; a vec0
    // connection opened afterwards loads the tables and reports. (A connection that already
    // holds the table reloads only when data_version and the table's change marker say so.)
    const dir = require('fs').mkdtempSync(require('path').join(require('os').tmpdir(), 'vec0bad-'));
    const file = require('path').join(dir, 'bad.db');
    let db = openDb(file);
    db.exec(spec);
    db.prepare("insert into t(rowid, a, b, n, f, s) values (1, '[1,1]', 1, 2, 0.5, 'a long text value here')").run();
    expect(db.prepare("select rowid from t where a match '[1,1]' and k = 1").all()).toEqual([{ rowid: 1 }]);
    const raw = (sql: string) => {
      db.close();
      const p = new Database(file);
      p.exec(sql);
      p.close();
      db = openDb(file);
    };
    raw('update t_metadatachunks01 set data = zeroblob(3) where rowid = 1');
    expect(err(() => db.prepare("select rowid from t where a match '[1,1]' and k = 1").all())).toBe(
      "metadata chunk size doesn't match for column n at chunk 1 - expected 64, found 3",
    );
    // A text slot whose stored length is garbage and whose long text row is gone: the prefix.
    raw("update t_metadatachunks01 set data = zeroblob(64) where rowid = 1; update t_metadatachunks03 set data = cast(x'ffffff7f' || substr(data, 5) as blob) where rowid = 1; delete from t_metadatatext03");
    expect(db.prepare('select s from t where rowid = 1').get()).toEqual({ s: 'a long text ' });
    raw('update t_metadatachunks03 set data = zeroblob(8) where rowid = 1');
    expect(err(() => db.prepare('select * from t').all())).toMatch(/^metadata chunk size doesn't match for column s at chunk 1/);
    // A missing metadata chunk row: reads give zero values, a write reports the blob error.
    raw('delete from t_metadatachunks01');
    raw('update t_metadatachunks03 set data = zeroblob(128) where rowid = 1');
    expect(db.prepare('select n from t where rowid = 1').get()).toEqual({ n: 0 });
    expect(err(() => db.prepare('update t set n = 5 where rowid = 1').run())).toBe('Internal sqlite-vec error: could not open data blob on main.t_metadatachunks01.1');
    db.close();
    require('fs').rmSync(dir, { recursive: true, force: true });
  });
});
