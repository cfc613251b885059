// The `vec` table refuses bad input with an error naming the problem: NaN/Inf in the MATCH
// vector or in a data-table row, unknown CREATE options or values, and a dataset_id collation it
// cannot honour. Expected rows come from plain SQL on the data table (SQLite's own collations).
import * as path from 'path';
import { f32blob, msg, openDb, tempDir, DB } from './helpers/db';

function setup(): DB {
  const db = openDb();
  db.exec('CREATE VIRTUAL TABLE vec_docs USING vec(doc_id)');
  const ins = db.prepare('INSERT INTO _vec_vec_docs(dataset_id, id, embedding) VALUES (?, ?, ?)');
  ins.run('A', 'a1', f32blob([1, 0]));
  ins.run('A', 'a2', f32blob([3, 4]));
  ins.run('a', 'l1', f32blob([0, 1]));
  ins.run('B', 'b1', f32blob([1, 1]));
  return db;
}

const match = (db: DB, ds: string, q: unknown) =>
  db.prepare('SELECT doc_id FROM vec_docs WHERE dataset_id = ? AND doc_id MATCH ?').pluck().all(ds, q);

describe('NaN and Inf in the MATCH vector', () => {
  test('a float32 BLOB holding NaN, +Inf or -Inf is an error naming the element', () => {
    const db = setup();
    expect(msg(() => match(db, 'A', f32blob([1, NaN])))).toBe('vec: MATCH vector element 1 is NaN');
    expect(msg(() => match(db, 'A', f32blob([Infinity, 0])))).toBe('vec: MATCH vector element 0 is Inf');
    expect(msg(() => match(db, 'A', f32blob([0, -Infinity])))).toBe('vec: MATCH vector element 1 is Inf');
    // vec_cosine refuses the same input
    expect(msg(() => db.prepare('SELECT vec_cosine(?, ?)').get(f32blob([1, NaN]), f32blob([1, 0])))).toMatch(/not a number/);
  });
  test('text forms that overflow float32 are refused the same way', () => {
    const db = setup();
    // 1e40 is finite as a double but Inf as float32
    expect(msg(() => match(db, 'A', '[1e40, 0]'))).toBe('vec: MATCH vector element 0 is Inf');
    expect(msg(() => match(db, 'A', '0, 1e40'))).toBe('vec: MATCH vector element 1 is Inf');
  });
  test('the check runs before the dataset is read, also for an empty dataset', () => {
    const db = setup();
    expect(msg(() => match(db, 'nothing-here', f32blob([NaN, 0])))).toBe('vec: MATCH vector element 0 is NaN');
  });
  test('finite vectors still work (hand-computed order)', () => {
    const db = setup();
    // q=[1,0]: a1 cos 1, a2 cos 3/5
    expect(match(db, 'A', f32blob([1, 0]))).toEqual(['a1', 'a2']);
  });
});

describe('NaN and Inf in data-table rows', () => {
  test('a full build fails naming the dataset, rowid, id and element', () => {
    const db = setup();
    db.prepare("INSERT INTO _vec_vec_docs(dataset_id, id, embedding) VALUES ('A', 'bad', ?)").run(f32blob([0, NaN]));
    const rowid = db.prepare("SELECT rowid FROM _vec_vec_docs WHERE id = 'bad'").pluck().get();
    expect(msg(() => match(db, 'A', f32blob([1, 0])))).toBe(`vec: dataset 'A' row ${rowid} (id 'bad'): embedding element 1 is NaN`);
    // other datasets are unaffected
    expect(match(db, 'B', f32blob([1, 0]))).toEqual(['b1']);
    // removing the row makes the dataset searchable again
    db.exec("DELETE FROM _vec_vec_docs WHERE id = 'bad'");
    expect(match(db, 'A', f32blob([1, 0]))).toEqual(['a1', 'a2']);
  });
  test('a row written after the index was cached (incremental path) fails the same way', () => {
    const db = setup();
    expect(match(db, 'A', f32blob([1, 0]))).toEqual(['a1', 'a2']);
    db.prepare("UPDATE _vec_vec_docs SET embedding = ? WHERE id = 'a2'").run(f32blob([Infinity, 1]));
    const rowid = db.prepare("SELECT rowid FROM _vec_vec_docs WHERE id = 'a2'").pluck().get();
    expect(msg(() => match(db, 'A', f32blob([1, 0])))).toBe(`vec: dataset 'A' row ${rowid} (id 'a2'): embedding element 0 is Inf`);
    db.prepare("UPDATE _vec_vec_docs SET embedding = ? WHERE id = 'a2'").run(f32blob([0, 2]));
    expect(match(db, 'A', f32blob([1, 0]))).toEqual(['a1', 'a2']);
  });
  test('vec_admin refuses to save an index of such a dataset', () => {
    const db = setup();
    db.prepare("INSERT INTO _vec_vec_docs(dataset_id, id, embedding) VALUES ('A', 'bad', ?)").run(f32blob([-Infinity, 0]));
    db.exec('CREATE VIRTUAL TABLE vec_admin USING vec_admin(op)');
    expect(msg(() => db.prepare("SELECT op FROM vec_admin WHERE op MATCH 'main._vec_vec_docs:A'").all())).toMatch(
      /^vec: dataset 'A' row \d+ \(id 'bad'\): embedding element 0 is Inf$/,
    );
  });
  test('a saved legacy index holding NaN is not trusted: the dataset is rebuilt from the table', () => {
    const file = path.join(tempDir(), 'legacy-nan.db');
    const db = openDb(file);
    db.exec('CREATE VIRTUAL TABLE vec_docs USING vec(doc_id)');
    db.prepare("INSERT INTO _vec_vec_docs(dataset_id, id, embedding) VALUES ('ds', 'x', ?), ('ds', 'y', ?)").run(f32blob([1, 0]), f32blob([0, 1]));
    // legacy layout: u32 dim | u32 n | n x (u32 idLen | id | dim x f32); y holds NaN here only
    const parts: Buffer[] = [];
    const head = Buffer.alloc(8); head.writeUInt32LE(2, 0); head.writeUInt32LE(2, 4); parts.push(head);
    for (const [id, v] of [['x', [1, 0]], ['y', [NaN, 1]]] as [string, number[]][]) {
      const l = Buffer.alloc(4); l.writeUInt32LE(id.length, 0); parts.push(l, Buffer.from(id), f32blob(v));
    }
    db.prepare("INSERT OR REPLACE INTO vector_storage VALUES ('main._vec_vec_docs', 'ds', ?)").run(Buffer.concat(parts));
    db.exec('DELETE FROM vector_storage_gen');
    db.close();
    const b = openDb(file);
    const stats = () => JSON.parse(b.prepare('SELECT vec_stats()').pluck().get() as string);
    const s0 = stats();
    expect(match(b, 'ds', f32blob([0, 1]))).toEqual(['y', 'x']);
    const s1 = stats();
    expect(s1.blob_loads - s0.blob_loads).toBe(0);
    expect(s1.full_builds - s0.full_builds).toBe(1);
    b.close();
  });
});

describe('CREATE options', () => {
  const create = (db: DB, args: string) => msg(() => db.exec(`CREATE VIRTUAL TABLE t USING vec(${args})`));
  const keys = 'options: index, m, ef_construction, ef_search, ann, cover_base, cover_bound, cover_distance, cover_parallel';
  test('an unknown key is refused, naming it and listing the keys', () => {
    const db = openDb();
    expect(create(db, 'doc_id, foo=bar')).toBe(`vec: unknown option "foo" (${keys})`);
    expect(create(db, 'doc_id, index=auto, bogus=1')).toBe(`vec: unknown option "bogus" (${keys})`);
    // nothing was created
    expect(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name IN ('t', '_vec_t')").pluck().get()).toBe(0);
  });
  test('an invalid value is refused, naming it and listing the accepted values', () => {
    const db = openDb();
    expect(create(db, 'doc_id, index=bogus')).toBe('vec: invalid value "bogus" for option index (accepted: auto, brute, cover, hnsw)');
    expect(create(db, 'index=hnsw2')).toBe('vec: invalid value "hnsw2" for option index (accepted: auto, brute, cover, hnsw)');
    expect(create(db, 'doc_id, cover_base=1')).toBe('vec: invalid value "1" for option cover_base (accepted: a number greater than 1)');
    expect(create(db, 'doc_id, cover_base=abc')).toBe('vec: invalid value "abc" for option cover_base (accepted: a number greater than 1)');
    expect(create(db, 'doc_id, cover_bound=tight')).toBe('vec: invalid value "tight" for option cover_bound (accepted: level, boundlevel, per_node, pernode, node)');
    expect(create(db, 'doc_id, cover_distance=dot')).toBe('vec: invalid value "dot" for option cover_distance (accepted: cos, cosine, l2, euclidean)');
    expect(create(db, 'doc_id, cover_parallel=many')).toBe('vec: invalid value "many" for option cover_parallel (accepted: off, auto, or an integer)');
  });
  test('a stray argument after the id column is refused', () => {
    const db = openDb();
    expect(create(db, 'doc_id, brute')).toBe(`vec: unexpected argument "brute": after the id column every argument is an option key=value (${keys})`);
  });
  test('every accepted value and alias creates a working table (keys and values case-insensitive)', () => {
    const db = openDb();
    const ok = [
      'index=auto', 'index=BRUTE', 'Index = cover', 'cover_base=1.3', 'cover_base=2', 'cover_bound=level', 'cover_bound=boundlevel',
      'cover_bound=per_node', 'cover_bound=pernode', 'cover_bound=node', 'cover_distance=cos', 'cover_distance=cosine',
      'cover_distance=l2', 'cover_distance=EUCLIDEAN', 'cover_parallel=', 'cover_parallel=0', 'cover_parallel=off',
      'cover_parallel=auto', 'cover_parallel=4', 'cover_parallel=-1',
    ];
    const ins = (v: number[]) => db.prepare("INSERT INTO _vec_t(dataset_id, id, embedding) VALUES ('ds', ?, ?)").run(`r${v.join('_')}`, f32blob(v));
    for (const opt of ok) {
      expect([opt, create(db, `doc_id, ${opt}`)]).toEqual([opt, 'no error']);
      ins([0, 1]);
      ins([1, 0]);
      expect(db.prepare("SELECT doc_id FROM t WHERE dataset_id = 'ds' AND doc_id MATCH ?").pluck().all(f32blob([1, 0]))).toEqual(['r1_0', 'r0_1']);
      db.exec('DROP TABLE t; DROP TABLE _vec_t');
    }
  });
  test('dbpath stays refused', () => {
    const db = openDb();
    expect(create(db, 'doc_id, dbpath=/tmp/x.db')).toMatch(/dbpath option is not supported/);
  });
  test('a table already in a database file with options this version does not know keeps opening', () => {
    const file = path.join(tempDir(), 'old-options.db');
    const db = openDb(file);
    db.exec('CREATE VIRTUAL TABLE t USING vec(doc_id, index=brute)');
    db.prepare("INSERT INTO _vec_t(dataset_id, id, embedding) VALUES ('ds', 'x', ?), ('ds', 'y', ?)").run(f32blob([1, 0]), f32blob([0, 1]));
    // Rewrite the stored CREATE statement as an older version or the original module may have left it.
    db.unsafeMode(true);
    db.pragma('writable_schema = ON');
    db.exec("UPDATE sqlite_schema SET sql = replace(sql, 'index=brute', 'index=bogus, foo=bar, stray') WHERE name = 't'");
    db.pragma('writable_schema = OFF');
    db.close();
    const b = openDb(file);
    expect(b.prepare("SELECT sql FROM sqlite_schema WHERE name = 't'").pluck().get()).toMatch(/foo=bar/);
    expect(b.prepare("SELECT doc_id FROM t WHERE dataset_id = 'ds' AND doc_id MATCH ?").pluck().all(f32blob([0, 1]))).toEqual(['y', 'x']);
    b.close();
  });
});

describe('collations on dataset_id and the id column', () => {
  const oracle = (db: DB, where: string, ...args: unknown[]) =>
    db.prepare(`SELECT dataset_id, id AS doc_id FROM _vec_vec_docs WHERE ${where} ORDER BY rowid`).all(...args);
  test('without a collation dataset_id compares as written (binary)', () => {
    const db = setup();
    expect(db.prepare("SELECT dataset_id, doc_id FROM vec_docs WHERE dataset_id = 'a'").all()).toEqual([{ dataset_id: 'a', doc_id: 'l1' }]);
    expect(db.prepare("SELECT dataset_id, doc_id FROM vec_docs WHERE dataset_id = 'a' COLLATE BINARY").all()).toEqual([{ dataset_id: 'a', doc_id: 'l1' }]);
  });
  test('a scan honours COLLATE NOCASE / RTRIM: every dataset that compares equal, each row with its own dataset_id', () => {
    const db = setup();
    const nocase = db.prepare("SELECT dataset_id, doc_id FROM vec_docs WHERE dataset_id = 'a' COLLATE NOCASE").all();
    expect(nocase).toEqual(oracle(db, "dataset_id = 'a' COLLATE NOCASE"));
    expect(nocase).toEqual([
      { dataset_id: 'A', doc_id: 'a1' }, { dataset_id: 'A', doc_id: 'a2' }, { dataset_id: 'a', doc_id: 'l1' },
    ]);
    const rtrim = db.prepare("SELECT dataset_id, doc_id FROM vec_docs WHERE dataset_id = 'B  ' COLLATE RTRIM").all();
    expect(rtrim).toEqual([{ dataset_id: 'B', doc_id: 'b1' }]);
    // bound parameter, with an id constraint too
    expect(db.prepare("SELECT dataset_id, doc_id FROM vec_docs WHERE dataset_id = ? COLLATE NOCASE AND doc_id = 'a2'").all('a'))
      .toEqual([{ dataset_id: 'A', doc_id: 'a2' }]);
  });
  test('a collation on the id column is applied (by SQLite) instead of being ignored', () => {
    const db = setup();
    expect(db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id = 'A' AND doc_id = 'A2' COLLATE NOCASE").pluck().all()).toEqual(['a2']);
    expect(db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id = 'A' AND doc_id = 'A2'").pluck().all()).toEqual([]);
  });
  test('MATCH with a non-binary dataset_id collation is refused with a clear error', () => {
    const db = setup();
    expect(msg(() => db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id = 'a' COLLATE NOCASE AND doc_id MATCH ?").all(f32blob([1, 0]))))
      .toBe('vec: dataset_id COLLATE NOCASE cannot be used with MATCH: a search covers one dataset, named exactly (compare dataset_id without a collation)');
    // the same query without the collation searches dataset 'a' only
    expect(db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id = 'a' AND doc_id MATCH ?").pluck().all(f32blob([1, 0]))).toEqual(['l1']);
    // with a binary dataset_id constraint as well, that one names the dataset and SQLite checks the other
    expect(db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id = 'a' COLLATE NOCASE AND dataset_id = 'A' AND doc_id MATCH ?").pluck().all(f32blob([1, 0])))
      .toEqual(['a1', 'a2']);
    expect(db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id = 'b' COLLATE NOCASE AND dataset_id = 'A' AND doc_id MATCH ?").pluck().all(f32blob([1, 0])))
      .toEqual([]);
  });
});
