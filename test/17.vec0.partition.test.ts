// vec0 partition keys: chunks per partition tuple, pushed-down comparisons, type
// checks, UPDATE refusal, and the vecsqlite fixes: `part IN (...)` returns the k nearest across
// the listed partitions (0.1.9: k per value), whole-number JS numbers for INTEGER keys, NULL
// keys share chunks (0.1.9: one chunk per row).
import { openDb, rng, DB, f32blob, openRef, err } from './helpers/db';


describe('vec0 partition keys', () => {
  const spec = 'create virtual table t using vec0(user text partition key, a float[1], grp integer partition key, chunk_size=8)';

  test('one chunk sequence per partition tuple, partition values in _chunks (as 0.1.9)', () => {
    const ours = openDb();
    const ref = openRef();
    for (const db of [ours, ref]) {
      db.exec(spec);
      const ins = db.prepare('insert into t(rowid, user, a, grp) values (?, ?, ?, ?)');
      for (let i = 1; i <= 30; i++) ins.run(BigInt(i), ['u1', 'u2', 'u3'][i % 3], `[${i}]`, BigInt(i % 2));
      db.prepare('delete from t where rowid in (3, 9, 15, 21, 27)').run(); // empties no chunk
    }
    const dump = (db: DB) => db.prepare('select chunk_id, size, sequence_id, partition00, partition01, validity, rowids from t_chunks order by chunk_id').all();
    expect(dump(ours)).toEqual(dump(ref));
    const chunks = dump(ours) as any[];
    // 6 tuples were used; the deletes emptied (u1, 1) entirely, so its chunk is gone.
    expect(new Set(chunks.map((c) => `${c.partition00}/${c.partition01}`)).size).toBe(5);
    expect(chunks.some((c) => c.partition00 === 'u1' && c.partition01 === 1)).toBe(false);
    expect(ours.prepare('select rowid, user, grp from t order by rowid limit 3').all()).toEqual([
      { rowid: 1, user: 'u2', grp: 1 },
      { rowid: 2, user: 'u3', grp: 0 },
      { rowid: 4, user: 'u2', grp: 0 },
    ]);
  });

  test('pushed-down =, !=, <, <=, >, >= select partitions; results equal a brute-force oracle and 0.1.9', () => {
    const rand = rng(16);
    const ours = openDb();
    const ref = openRef();
    const users = ['alice', 'bob', 'carol', 'dave'];
    const rows: { id: number; user: string; grp: number; v: number[] }[] = [];
    for (const db of [ours, ref]) db.exec('create virtual table p using vec0(user text partition key, grp integer partition key, a float[4], chunk_size=16)');
    for (let i = 1; i <= 600; i++) {
      const r = { id: i, user: users[Math.floor(rand() * 4)], grp: Math.floor(rand() * 5), v: Array.from({ length: 4 }, () => Math.fround(rand() * 2 - 1)) };
      rows.push(r);
      for (const db of [ours, ref]) db.prepare('insert into p(rowid, user, grp, a) values (?, ?, ?, ?)').run(BigInt(i), r.user, BigInt(r.grp), f32blob(r.v));
    }
    const ops = ['=', '!=', '<', '<=', '>', '>='];
    const cmp = (op: string, a: any, b: any) =>
      op === '=' ? a === b : op === '!=' ? a !== b : op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
    const l2 = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, x, i) => s + (x - b[i]) ** 2, 0));
    for (let qi = 0; qi < 120; qi++) {
      const q = Array.from({ length: 4 }, () => Math.fround(rand() * 2 - 1));
      const k = 1 + Math.floor(rand() * 30);
      const o1 = ops[Math.floor(rand() * 6)];
      const u = users[Math.floor(rand() * 4)];
      const o2 = ops[Math.floor(rand() * 6)];
      const g = Math.floor(rand() * 5);
      const sql = `select rowid, distance from p where a match ? and k = ${k} and user ${o1} ? and grp ${o2} ?`;
      const got = ours.prepare(sql).all(f32blob(q), u, BigInt(g)) as any[];
      const want = rows
        .filter((r) => cmp(o1, r.user, u) && cmp(o2, r.grp, g))
        .map((r) => ({ id: r.id, d: l2(q, r.v) }))
        .sort((x, y) => x.d - y.d)
        .slice(0, k);
      expect({ sql, ids: got.map((r) => r.rowid) }).toEqual({ sql, ids: want.map((r) => r.id) });
      expect(got.map((r) => r.rowid)).toEqual(ref.prepare(sql).all(f32blob(q), u, BigInt(g)).map((r: any) => r.rowid));
    }
    // A JS number for an integer key compares numerically (whole REAL); a text value never
    // equals an integer key (SQLite ordering, no affinity).
    expect(ours.prepare("select count(*) c from p where a match ? and k = 1000 and grp = ?").get(f32blob([0, 0, 0, 0]), 2)).toEqual({
      c: rows.filter((r) => r.grp === 2).length,
    });
    expect(ours.prepare("select count(*) c from p where a match ? and k = 1000 and grp = '2'").get(f32blob([0, 0, 0, 0]))).toEqual({ c: 0 });
    expect(ours.prepare("select count(*) c from p where a match ? and k = 1000 and grp < 'x'").get(f32blob([0, 0, 0, 0]))).toEqual({ c: 600 });
  });

  test('vecsqlite fix: part IN (...) returns the k nearest across the listed partitions (0.1.9: k per value)', () => {
    const ours = openDb();
    const ref = openRef();
    for (const db of [ours, ref]) {
      db.exec('create virtual table t using vec0(part text partition key, a float[1], chunk_size=8)');
      const ins = db.prepare('insert into t(rowid, part, a) values (?, ?, ?)');
      for (let i = 1; i <= 30; i++) ins.run(BigInt(i), ['A', 'B', 'C'][i % 3], `[${i}]`);
    }
    const sql = "select rowid, distance from t where a match '[0]' and k = 2 and part in ('A', 'B')";
    expect(ours.prepare(sql).all()).toEqual([
      { rowid: 1, distance: 1 },
      { rowid: 3, distance: 3 },
    ]);
    expect(ref.prepare(sql).all().length).toBe(4); // the original's defect
    expect(ours.prepare("select rowid from t where a match '[0]' and k = 3 and part in ('C', 'Z')").all()).toEqual([{ rowid: 2 }, { rowid: 5 }, { rowid: 8 }]);
    expect(ours.prepare("select rowid from t where a match '[0]' and k = 3 and part in ('Z')").all()).toEqual([]);
    expect(ours.prepare(`explain query plan ${sql}`).all().map((r: any) => r.detail)).toEqual(['SCAN t VIRTUAL TABLE INDEX 0:3{___}___]Ag_']);
    // IN together with another partition comparison and a metadata-free table.
    expect(ours.prepare("select rowid from t where a match '[0]' and k = 3 and part in ('A', 'B', 'C') and part != 'A'").all()).toEqual([{ rowid: 1 }, { rowid: 2 }, { rowid: 4 }]);
  });

  test('type checks: the original message; vecsqlite accepts whole-number JS numbers for INTEGER keys', () => {
    const ours = openDb();
    const ref = openRef();
    ours.exec(spec);
    ref.exec(spec);
    const ins = "insert into t(rowid, user, a, grp) values (?, ?, '[1]', ?)";
    const msgText = 'Parition key type mismatch: The partition key column user has type TEXT, but INTEGER was provided.';
    const msgInt = 'Parition key type mismatch: The partition key column grp has type INTEGER, but FLOAT was provided.';
    expect(err(() => ours.prepare(ins).run(1n, 5n, 1n))).toBe(msgText);
    expect(err(() => ref.prepare(ins).run(1n, 5n, 1n))).toBe(msgText);
    expect(err(() => ref.prepare(ins).run(1n, 'u', 2))).toBe(msgInt);
    expect(err(() => ours.prepare(ins).run(1n, 'u', 2.5))).toBe(msgInt);
    expect(err(() => ours.prepare(ins).run(1n, 'u', 'x'))).toBe('Parition key type mismatch: The partition key column grp has type INTEGER, but TEXT was provided.');
    expect(err(() => ours.prepare(ins).run(1n, Buffer.from('u'), 1n))).toBe('Parition key type mismatch: The partition key column user has type TEXT, but BLOB was provided.');
    ours.prepare(ins).run(1, 'u', 2);
    expect(ours.prepare('select grp, typeof(grp) ty from t').get()).toEqual({ grp: 2, ty: 'integer' });
    expect(ours.prepare('select typeof(partition01) ty from t_chunks').get()).toEqual({ ty: 'integer' });
  });

  test('UPDATE of a partition key is refused with the original message; other columns update', () => {
    const ours = openDb();
    const ref = openRef();
    for (const db of [ours, ref]) {
      db.exec(spec);
      db.prepare("insert into t(rowid, user, a, grp) values (1, 'u', '[1]', 1)").run();
    }
    const msg = 'UPDATE on partition key columns are not supported yet. ';
    for (const db of [ours, ref]) {
      expect(err(() => db.prepare("update t set user = 'v' where rowid = 1").run())).toBe(msg);
      expect(err(() => db.prepare('update t set grp = 2 where rowid = 1').run())).toBe(msg);
      db.prepare("update t set a = '[5]' where rowid = 1").run();
      expect(db.prepare('select user, grp, a from t').get()).toEqual({ user: 'u', grp: 1, a: f32blob([5]) });
    }
  });

  test('NULL partition values: stored, never matched by comparisons; vecsqlite keeps them in shared chunks', () => {
    const ours = openDb();
    ours.exec(spec);
    const ins = ours.prepare('insert into t(rowid, user, a, grp) values (?, ?, ?, ?)');
    for (let i = 1; i <= 10; i++) ins.run(BigInt(i), i % 2 ? null : 'u', `[${i}]`, null);
    expect(ours.prepare('select count(*) c from t_chunks').get()).toEqual({ c: 2 }); // 0.1.9: 6 (one per NULL-key row)
    expect(ours.prepare("select rowid from t where a match '[0]' and k = 3 and user = 'u'").all()).toEqual([{ rowid: 2 }, { rowid: 4 }, { rowid: 6 }]);
    expect(ours.prepare("select rowid from t where a match '[0]' and k = 3 and user != 'u'").all()).toEqual([]);
    expect(ours.prepare("select rowid from t where a match '[0]' and k = 3 and grp > 0").all()).toEqual([]);
    // vecsqlite pushes IS NULL / IS NOT NULL down, so they filter before the top-k (0.1.9 left
    // them to SQLite, which filtered the 3 nearest: rows 1 and 3 only).
    expect(ours.prepare("select rowid from t where a match '[0]' and k = 3 and user is null").all()).toEqual([{ rowid: 1 }, { rowid: 3 }, { rowid: 5 }]);
    expect(ours.prepare("select rowid from t where a match '[0]' and k = 2 and user is not null and grp is null").all()).toEqual([{ rowid: 2 }, { rowid: 4 }]);
    expect(ours.prepare("explain query plan select rowid from t where a match '[0]' and k = 3 and user is null and grp is not null").all().map((r: any) => r.detail)).toEqual([
      'SCAN t VIRTUAL TABLE INDEX 0:3{___}___]An_]Bm_',
    ]);
    expect(ours.prepare("select rowid from t where a match '[0]' and k = 3 and grp is not null").all()).toEqual([]);
    expect(ours.prepare('select rowid, user, grp from t where rowid = 3').get()).toEqual({ rowid: 3, user: null, grp: null });
  });

  test('partition keys with a text primary key, metadata and deletes that empty a partition', () => {
    const db = openDb();
    db.exec('create virtual table d using vec0(id text primary key, tenant integer partition key, a float[2], tag text, chunk_size=8)');
    const ins = db.prepare('insert into d(id, tenant, a, tag) values (?, ?, ?, ?)');
    for (let i = 0; i < 40; i++) ins.run(`doc${i}`, BigInt(i % 4), `[${i}, 0]`, i % 5 === 0 ? 'five' : 'other');
    expect(db.prepare("select id from d where a match '[0,0]' and k = 3 and tenant = 2 and tag = 'five'").all()).toEqual([{ id: 'doc10' }, { id: 'doc30' }]);
    db.prepare('delete from d where tenant = 3').run();
    expect(db.prepare("select count(*) c from d where a match '[0,0]' and k = 100 and tenant = 3").get()).toEqual({ c: 0 });
    expect(db.prepare('select count(*) c from d_chunks where partition00 = 3').get()).toEqual({ c: 0 });
    ins.run('new', 3n, '[1, 1]', 'five');
    expect(db.prepare("select id, tenant, tag from d where a match '[0,0]' and k = 5 and tenant = 3").all()).toEqual([{ id: 'new', tenant: 3, tag: 'five' }]);
  });
  test('many partitions (one per user): = on every key is a direct lookup with the same answers', () => {
    const db = openDb();
    db.exec('create virtual table u using vec0(user integer partition key, region text partition key, a float[1], chunk_size=8)');
    const ins = db.prepare('insert into u(rowid, user, region, a) values (?, ?, ?, ?)');
    db.transaction(() => {
      for (let i = 1; i <= 6000; i++) ins.run(BigInt(i), BigInt(i % 3000), i % 2 ? 'eu' : 'us', `[${i}]`);
    })();
    const q = (w: string, ...p: unknown[]) => db.prepare(`select rowid from u where a match '[0]' and k = 5 and ${w}`).all(...p).map((r: any) => r.rowid);
    expect(q("user = 7 and region = 'eu'")).toEqual([7, 3007]);
    expect(q("region = 'eu' and user = ?", 7)).toEqual([7, 3007]); // JS number 7 (REAL)
    expect(q("user = 7.5 and region = 'eu'")).toEqual([]);
    expect(q("user = '7' and region = 'eu'")).toEqual([]);
    expect(q("user = 7 and region = 'us'")).toEqual([]);
    expect(q("user = 8 and region = 'us'")).toEqual([8, 3008]);
    expect(q('user = ? and region = ?', null, 'us')).toEqual([]);
    // The general path (not one = per key) agrees.
    expect(q("user = 7 and region >= 'eu'")).toEqual([7, 3007]);
    expect(q("user in (7, 8) and region = 'eu'")).toEqual([7, 3007]);
    expect(q("user = 8 and region = 'us' and region != 'x'")).toEqual([8, 3008]);
  });
});
