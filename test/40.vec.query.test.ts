// The `vec` table: create, query contract, errors, checked against a
// brute-force JS oracle and hand-computed values.
import { f32blob, openDb, randomF32, rng, DB } from './helpers/db';
import { encodeEmbedding } from '../src';

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
  return d / Math.sqrt(aa * bb);
}

function setup(): DB {
  const db = openDb();
  db.exec('CREATE VIRTUAL TABLE vec_docs USING vec(doc_id)');
  return db;
}

describe('create', () => {
  test('declares dataset_id, the id column and hidden match_score; data table layout of the reference', () => {
    const db = openDb();
    db.exec('CREATE VIRTUAL TABLE t USING vec(my_id, index=brute)');
    const cols = db.prepare('SELECT name, hidden FROM pragma_table_xinfo(?)').all('t') as { name: string; hidden: number }[];
    expect(cols.map((c) => c.name)).toEqual(['dataset_id', 'my_id', 'match_score']);
    expect(cols[2].hidden).not.toBe(0);
    const data = db.prepare('SELECT name, pk FROM pragma_table_info(?)').all('_vec_t') as { name: string; pk: number }[];
    expect(data.map((c) => c.name)).toEqual(['dataset_id', 'id', 'content', 'meta', 'embedding', 'embedding_model', 'scn', 'archived']);
    expect(data.filter((c) => c.pk > 0).map((c) => c.name)).toEqual(['dataset_id', 'id']);
    const triggers = db.prepare("SELECT name, sql FROM sqlite_schema WHERE type='trigger' ORDER BY name").all() as { name: string; sql: string }[];
    expect(triggers.map((t) => t.name)).toEqual(['trg_vec_main__vec_t_del', 'trg_vec_main__vec_t_ins', 'trg_vec_main__vec_t_upd']);
    expect(triggers[0].sql).toMatch(/AFTER DELETE ON/);
    expect(triggers[1].sql).toMatch(/AFTER INSERT ON/);
    expect(triggers[2].sql).toMatch(/AFTER UPDATE ON/);
    expect(triggers[2].sql).toMatch(/NEW\.dataset_id[\s\S]*OLD\.dataset_id/);
    for (const t of triggers) expect(t.sql).toMatch(/vec_invalidate\('main\._vec_t'/);
  });
  test('default id column is doc_id; SELECT * shows two columns', () => {
    const db = setup();
    db.prepare("INSERT INTO _vec_vec_docs(dataset_id, id) VALUES ('ds','a')").run();
    expect(db.prepare("SELECT * FROM vec_docs WHERE dataset_id='ds'").all()).toEqual([{ dataset_id: 'ds', doc_id: 'a' }]);
  });
  test('index=brute|cover|auto and the cover-tree options are accepted; every kind runs the exact scan (unknown options: test/46)', () => {
    const db = openDb();
    const r = rng(4);
    const vs = Array.from({ length: 200 }, () => randomF32(r, 16));
    const q = randomF32(r, 16);
    const want = vs.map((v, i) => ({ id: `d${i}`, s: cosine(q, v) })).sort((a, b) => b.s - a.s).slice(0, 5).map((x) => x.id);
    for (const [name, opts] of [['tb', 'index=brute'], ['tc', 'index=COVER, cover_base=1.5, cover_bound=level, cover_distance=cos, cover_parallel=auto'], ['ta', 'index=auto']]) {
      db.exec(`CREATE VIRTUAL TABLE ${name} USING vec(doc_id, ${opts})`);
      const ins = db.prepare(`INSERT INTO _vec_${name}(dataset_id, id, embedding) VALUES ('ds', ?, ?)`);
      vs.forEach((v, i) => ins.run(`d${i}`, encodeEmbedding(v)));
      expect(db.prepare(`SELECT doc_id FROM ${name} WHERE dataset_id='ds' AND doc_id MATCH ? LIMIT 5`).pluck().all(encodeEmbedding(q))).toEqual(want);
    }
  });
  test('dbpath is rejected', () => {
    const db = openDb();
    expect(() => db.exec("CREATE VIRTUAL TABLE x USING vec(doc_id, dbpath=/tmp/other.db)")).toThrow(/dbpath option is not supported/);
  });
  test('the vtab is read-only', () => {
    const db = setup();
    expect(() => db.prepare("INSERT INTO vec_docs(dataset_id, doc_id) VALUES ('a','b')").run()).toThrow(/^table vec_docs may not be modified$/);
  });
});

describe('README example (seed) works verbatim', () => {
  test('quick start returns a=1, b=0 in that order', () => {
    const db = openDb();
    db.exec('CREATE VIRTUAL TABLE vec_docs USING vec(doc_id)');
    db.exec(`CREATE TABLE IF NOT EXISTS _vec_vec_docs (
        dataset_id TEXT NOT NULL,
        id         TEXT NOT NULL,
        content    TEXT,
        meta       TEXT,
        embedding  BLOB,
        PRIMARY KEY(dataset_id, id)
    )`);
    db.prepare(`INSERT INTO _vec_vec_docs(dataset_id, id, embedding) VALUES
        ('demo','a',?),
        ('demo','b',?)`).run(f32blob([1, 0]), f32blob([0, 1]));
    const rows = db.prepare(`SELECT doc_id, match_score FROM vec_docs
        WHERE dataset_id = 'demo' AND doc_id MATCH ?`).all(f32blob([1, 0]));
    expect(rows).toEqual([{ doc_id: 'a', match_score: 1 }, { doc_id: 'b', match_score: 0 }]);
    const admin = db.prepare("SELECT 1").get();
    expect(admin).toBeTruthy();
  });
});

describe('MATCH', () => {
  const db = setup();
  const r = rng(30);
  const dim = 24;
  const data: Record<string, { id: string; v: Float32Array }[]> = { ds: [], other: [] };
  const ins = db.prepare('INSERT INTO _vec_vec_docs(dataset_id, id, embedding) VALUES (?,?,?)');
  for (const ds of ['ds', 'other']) {
    for (let i = 0; i < 300; i++) {
      const v = randomF32(r, dim);
      data[ds].push({ id: `${ds}-${i}`, v });
      ins.run(ds, `${ds}-${i}`, encodeEmbedding(v));
    }
  }
  const oracle = (ds: string, q: Float32Array) =>
    data[ds].map((d) => ({ id: d.id, s: cosine(q, d.v) })).sort((a, b) => b.s - a.s);

  test('returns every embedded row of the dataset by cosine similarity, highest first', () => {
    const q = randomF32(r, dim);
    const rows = db.prepare("SELECT doc_id, match_score FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ?").all(encodeEmbedding(q)) as { doc_id: string; match_score: number }[];
    const want = oracle('ds', q);
    expect(rows.length).toBe(300);
    expect(rows.map((x) => x.doc_id)).toEqual(want.map((x) => x.id));
    rows.forEach((x, i) => expect(Math.abs(x.match_score - want[i].s)).toBeLessThan(1e-6));
  });
  test('LIMIT k is a top-k scan and agrees with the oracle; OFFSET too', () => {
    const q = randomF32(r, dim);
    const want = oracle('ds', q);
    const top = db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ? ORDER BY match_score DESC LIMIT 7").pluck().all(encodeEmbedding(q));
    expect(top).toEqual(want.slice(0, 7).map((x) => x.id));
    const off = db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ? LIMIT 5 OFFSET 3").pluck().all(encodeEmbedding(q));
    expect(off).toEqual(want.slice(3, 8).map((x) => x.id));
    // LIMIT + OFFSET past int64 (the rows to rank saturate instead of overflowing)
    const huge = db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ? LIMIT 9223372036854775807 OFFSET 3").pluck().all(encodeEmbedding(q));
    expect(huge).toEqual(want.slice(3).map((x) => x.id));
    const plan = db.prepare("EXPLAIN QUERY PLAN SELECT doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ? ORDER BY match_score DESC LIMIT 7").all(encodeEmbedding(q)) as { detail: string }[];
    expect(plan.map((p) => p.detail).join('\n')).not.toMatch(/TEMP B-TREE/);
  });
  test('ORDER BY another column is still correct (not pushed down)', () => {
    const q = randomF32(r, dim);
    const want = oracle('ds', q).slice(0, 300).map((x) => x.id).sort().slice(0, 4);
    const got = db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ? ORDER BY doc_id LIMIT 4").pluck().all(encodeEmbedding(q));
    expect(got).toEqual(want);
  });
  test('match_score >= x and > x: >= keeps equality, > is strict', () => {
    const q = data.ds[5].v;
    const want = oracle('ds', q);
    const x = (db.prepare("SELECT match_score FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ? LIMIT 1 OFFSET 9").pluck().get(encodeEmbedding(q))) as number;
    const ge = db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ? AND match_score >= ?").pluck().all(encodeEmbedding(q), x);
    const gt = db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ? AND match_score > ?").pluck().all(encodeEmbedding(q), x);
    expect(ge).toEqual(want.slice(0, 10).map((w) => w.id));
    expect(gt).toEqual(want.slice(0, 9).map((w) => w.id));
    // the query row itself scores exactly 1: > 1 drops it, >= 1 keeps it
    expect(db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ? AND match_score > 0.9999999").pluck().all(encodeEmbedding(q))).toEqual(['ds-5']);
    const gtAll = db.prepare("SELECT count(*) FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ? AND match_score > 0.5").pluck().get(encodeEmbedding(q));
    expect(gtAll).toBe(want.filter((w) => w.s > 0.5).length);
  });
  test('isolation: no query returns another dataset\'s rows, whatever the WHERE clause', () => {
    const q = encodeEmbedding(data.other[0].v);
    const queries = [
      "SELECT dataset_id, doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ?",
      "SELECT dataset_id, doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ? AND doc_id LIKE 'other%'",
      "SELECT dataset_id, doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ? AND (dataset_id='other' OR 1)",
      "SELECT dataset_id, doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ? AND match_score >= -2 LIMIT 1000",
      "SELECT dataset_id, doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ? ORDER BY match_score DESC LIMIT 1",
    ];
    for (const sql of queries) {
      const rows = db.prepare(sql).all(q) as { dataset_id: string; doc_id: string }[];
      for (const row of rows) {
        expect(row.dataset_id).toBe('ds');
        expect(row.doc_id.startsWith('ds-')).toBe(true);
      }
    }
    const scan = db.prepare("SELECT dataset_id, doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id='other-1'").all();
    expect(scan).toEqual([]);
    expect(db.prepare("SELECT count(*) FROM vec_docs WHERE dataset_id='other' AND doc_id MATCH ?").pluck().get(q)).toBe(300);
    // dataset_id IN (...) runs the plan once per value
    const both = db.prepare("SELECT dataset_id, count(*) AS n FROM vec_docs WHERE dataset_id IN ('ds','other') AND doc_id MATCH ? GROUP BY dataset_id").all(q);
    expect(both).toEqual([{ dataset_id: 'ds', n: 300 }, { dataset_id: 'other', n: 300 }]);
  });
  test('a join binding dataset_id from another table works (SQLITE_CONSTRAINT, not an error)', () => {
    db.exec("CREATE TEMP TABLE pick(ds TEXT); INSERT INTO pick VALUES ('other')");
    const n = db.prepare('SELECT count(*) FROM pick p JOIN vec_docs v ON v.dataset_id = p.ds WHERE v.doc_id MATCH ?').pluck().get(encodeEmbedding(data.ds[0].v));
    expect(n).toBe(300);
  });
  test('TEXT MATCH forms: JSON array, base64, CSV', () => {
    const q = data.ds[3].v;
    const want = db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ? LIMIT 3").pluck().all(encodeEmbedding(q));
    const json = JSON.stringify(Array.from(q));
    const b64 = encodeEmbedding(q)!.toString('base64');
    const csv = Array.from(q).join(', ');
    for (const form of [json, b64, csv]) {
      expect(db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ? LIMIT 3").pluck().all(form)).toEqual(want);
    }
  });
});

test('a dataset of 16 MiB and more (split across threads) agrees with the oracle, LIMIT and full', () => {
  const db = setup();
  const r = rng(77);
  const dim = 768, n = 6000;   // 18 MiB of vectors
  const vs: Float32Array[] = [];
  const ins = db.prepare("INSERT INTO _vec_vec_docs(dataset_id, id, embedding) VALUES ('big', ?, ?)");
  db.transaction(() => { for (let i = 0; i < n; i++) { const v = randomF32(r, dim); vs.push(v); ins.run(`b${i}`, encodeEmbedding(v)); } })();
  for (let t = 0; t < 3; t++) {
    const q = randomF32(r, dim);
    const want = vs.map((v, i) => ({ id: `b${i}`, s: cosine(q, v) })).sort((a, b) => b.s - a.s);
    expect(db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id='big' AND doc_id MATCH ? LIMIT 10").pluck().all(encodeEmbedding(q))).toEqual(want.slice(0, 10).map((w) => w.id));
    const all = db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id='big' AND doc_id MATCH ?").pluck().all(encodeEmbedding(q));
    expect(all.length).toBe(n);
    expect(all.slice(0, 50)).toEqual(want.slice(0, 50).map((w) => w.id));
  }
});

describe('errors (exact messages)', () => {
  const db = setup();
  db.prepare("INSERT INTO _vec_vec_docs(dataset_id, id, embedding) VALUES ('ds','a',?), ('ds','b',?)").run(f32blob([1, 0]), f32blob([0, 1]));
  const m = (sql: string, ...a: unknown[]) => () => db.prepare(sql).all(...a);
  test('dataset_id missing', () => {
    expect(m('SELECT doc_id FROM vec_docs WHERE doc_id MATCH ?', f32blob([1, 0]))).toThrow(/^vec: dataset_id constraint is required with MATCH$/);
    expect(m('SELECT doc_id FROM vec_docs')).toThrow(/^vec: dataset_id constraint required$/);
    expect(m("SELECT doc_id FROM vec_docs WHERE dataset_id > 'a'")).toThrow(/^vec: dataset_id constraint required$/);
  });
  test('NULL and typed arguments', () => {
    expect(m('SELECT doc_id FROM vec_docs WHERE dataset_id = ?', null)).toThrow(/^vec: dataset_id argument is required$/);
    expect(m('SELECT doc_id FROM vec_docs WHERE dataset_id = 1')).toThrow(/^vec: unsupported dataset_id type int64$/);
    expect(m('SELECT doc_id FROM vec_docs WHERE dataset_id = ? AND doc_id MATCH ?', 'ds', null)).toThrow(/^vec: dataset_id and MATCH arguments are required$/);
    expect(m("SELECT doc_id FROM vec_docs WHERE dataset_id = '' AND doc_id MATCH ?", f32blob([1, 0]))).toThrow(/^vec: dataset_id is required for ensureIndex$/);
    expect(m("SELECT doc_id FROM vec_docs WHERE dataset_id = 'ds' AND doc_id MATCH 5")).toThrow(/^vec: expected MATCH arg as BLOB or string, got int64$/);
    expect(m("SELECT doc_id FROM vec_docs WHERE dataset_id = 'ds' AND doc_id MATCH '  '")).toThrow(/^vec: MATCH string is empty$/);
    expect(m("SELECT doc_id FROM vec_docs WHERE dataset_id = 'ds' AND doc_id MATCH 'hello'")).toThrow(/^vec: MATCH string must be base64-encoded embedding or JSON\/CSV float list$/);
    expect(m("SELECT doc_id FROM vec_docs WHERE dataset_id = 'ds' AND doc_id MATCH '1, x'")).toThrow(/^vec: invalid MATCH float "x": /);
    expect(m("SELECT doc_id FROM vec_docs WHERE dataset_id = 'ds' AND doc_id MATCH ? AND match_score >= 'abc'", f32blob([1, 0]))).toThrow(/^vec: cannot parse score "abc": /);
    expect(m("SELECT doc_id FROM vec_docs WHERE dataset_id = 'ds' AND doc_id MATCH ? AND match_score >= NULL", f32blob([1, 0]))).toThrow(/^vec: unsupported score type <nil>$/);
    expect(m("SELECT doc_id FROM vec_docs WHERE dataset_id = 'ds' AND doc_id MATCH X'010203'")).toThrow(/^vector: invalid embedding blob length 3 \(not multiple of 4\)$/);
  });
  test('query dimension mismatch is an error; zero query gives no rows', () => {
    expect(m("SELECT doc_id FROM vec_docs WHERE dataset_id = 'ds' AND doc_id MATCH ?", f32blob([1, 0, 0]))).toThrow(/^bruteforce: query dim 3 != index dim 2$/);
    expect(db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id = 'ds' AND doc_id MATCH ?").all(f32blob([0, 0]))).toEqual([]);
    expect(db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id = 'none' AND doc_id MATCH ?").all(f32blob([1, 0, 0]))).toEqual([]);
  });
});

describe('rows without embedding, zero vectors, bad rows, archived', () => {
  test('NULL and empty embeddings are skipped by MATCH but listed by scans; zero vectors never returned', () => {
    const db = setup();
    const ins = db.prepare('INSERT INTO _vec_vec_docs(dataset_id, id, embedding) VALUES (?,?,?)');
    ins.run('ds', 'n', null);
    ins.run('ds', 'e', Buffer.alloc(0));
    ins.run('ds', 'z', f32blob([0, 0]));
    ins.run('ds', 'x', f32blob([3, 4]));
    expect(db.prepare("SELECT doc_id, match_score FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ?").all(f32blob([1, 0])))
      .toEqual([{ doc_id: 'x', match_score: 0.6 }].map((r) => ({ ...r, match_score: expect.closeTo(0.6, 12) })));
    expect(db.prepare("SELECT rowid, doc_id, match_score FROM vec_docs WHERE dataset_id='ds'").all())
      .toEqual([{ rowid: 1, doc_id: 'n', match_score: 0 }, { rowid: 2, doc_id: 'e', match_score: 0 }, { rowid: 3, doc_id: 'z', match_score: 0 }, { rowid: 4, doc_id: 'x', match_score: 0 }]);
    expect(db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id='z'").all()).toEqual([{ doc_id: 'z' }]);
  });
  test('a row of another dimension or a corrupt blob: error naming the row (initial build and incremental)', () => {
    const db = setup();
    const ins = db.prepare('INSERT INTO _vec_vec_docs(dataset_id, id, embedding) VALUES (?,?,?)');
    ins.run('ds', 'a', f32blob([1, 0]));
    ins.run('ds', 'bad', f32blob([1, 0, 0]));
    const q = () => db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ?").all(f32blob([1, 0]));
    expect(q).toThrow(/^vec: dataset 'ds' row 2 \(id 'bad'\): embedding dimension 3 differs from the dataset's 2$/);
    db.prepare("DELETE FROM _vec_vec_docs WHERE id='bad'").run();
    expect(q()).toEqual([{ doc_id: 'a' }]);
    ins.run('ds', 'odd', Buffer.from([1, 2, 3, 4, 5]));
    expect(q).toThrow(/^vec: dataset 'ds' row 2 \(id 'odd'\): invalid embedding blob length 5$/);
    // other datasets are unaffected
    ins.run('ok', 'o', f32blob([0, 1]));
    expect(db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id='ok' AND doc_id MATCH ?").pluck().all(f32blob([0, 1]))).toEqual(['o']);
  });
  test('archived rows are returned (the original ignores archived)', () => {
    const db = setup();
    db.prepare("INSERT INTO _vec_vec_docs(dataset_id, id, embedding, archived) VALUES ('ds','old',?,1), ('ds','new',?,0)").run(f32blob([1, 0]), f32blob([1, 1]));
    expect(db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ?").pluck().all(f32blob([1, 0]))).toEqual(['old', 'new']);
  });
});

describe('schemas and connections', () => {
  test('attached schema: data table, triggers and vector_storage live there', () => {
    const db = openDb();
    db.exec("ATTACH ':memory:' AS aux");
    db.exec('CREATE VIRTUAL TABLE aux.docs USING vec(doc_id)');
    db.prepare("INSERT INTO aux._vec_docs(dataset_id, id, embedding) VALUES ('ds','a',?),('ds','b',?)").run(f32blob([1, 0]), f32blob([0, 1]));
    expect(db.prepare("SELECT doc_id FROM aux.docs WHERE dataset_id='ds' AND doc_id MATCH ?").pluck().all(f32blob([0, 1]))).toEqual(['b', 'a']);
    expect(db.prepare("SELECT shadow_table_name FROM aux.vector_storage").pluck().all()).toEqual(['aux._vec_docs']);
    db.prepare("INSERT INTO aux._vec_docs(dataset_id, id, embedding) VALUES ('ds','c',?)").run(f32blob([0, 2]));
    expect(db.prepare("SELECT doc_id FROM aux.docs WHERE dataset_id='ds' AND doc_id MATCH ? LIMIT 2").pluck().all(f32blob([0, 1]))).toEqual(['b', 'c']);
  });
  test('inside an open transaction the query sees its own uncommitted writes; rollback restores', () => {
    const db = setup();
    db.prepare("INSERT INTO _vec_vec_docs(dataset_id, id, embedding) VALUES ('ds','a',?)").run(f32blob([1, 0]));
    const q = () => db.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ?").pluck().all(f32blob([0, 1]));
    expect(q()).toEqual(['a']);
    db.exec('BEGIN');
    db.prepare("INSERT INTO _vec_vec_docs(dataset_id, id, embedding) VALUES ('ds','b',?)").run(f32blob([0, 1]));
    expect(q()).toEqual(['b', 'a']);
    db.exec('ROLLBACK');
    expect(q()).toEqual(['a']);
    // savepoint rolled back inside a committed transaction
    db.exec('BEGIN; SAVEPOINT s1');
    db.prepare("INSERT INTO _vec_vec_docs(dataset_id, id, embedding) VALUES ('ds','c',?)").run(f32blob([0, 1]));
    expect(q()).toEqual(['c', 'a']);
    db.exec('ROLLBACK TO s1; RELEASE s1; COMMIT');
    expect(q()).toEqual(['a']);
  });
  test('DEFENSIVE mode: the data table stays writable', () => {
    const db = setup();
    (db as unknown as { unsafeMode(on: boolean): void }).unsafeMode(false);
    db.exec('PRAGMA trusted_schema = OFF');
    // better-sqlite3 enables SQLITE_DBCONFIG_DEFENSIVE by default: the schema cannot be written
    db.exec('PRAGMA writable_schema = ON');
    expect(() => db.exec("UPDATE sqlite_schema SET sql = sql WHERE name = '_vec_vec_docs'")).toThrow(/may not be modified/);
    db.exec('PRAGMA writable_schema = OFF');
    db.prepare("INSERT INTO _vec_vec_docs(dataset_id, id, embedding) VALUES ('ds','a',?)").run(f32blob([1, 0]));
    db.prepare("UPDATE _vec_vec_docs SET embedding = ? WHERE id = 'a'").run(f32blob([0, 1]));
    expect(db.prepare("SELECT doc_id, match_score FROM vec_docs WHERE dataset_id='ds' AND doc_id MATCH ?").all(f32blob([0, 1]))).toEqual([{ doc_id: 'a', match_score: 1 }]);
  });
});
