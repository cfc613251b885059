// The `vec` table with index=hnsw: recall against the exact scan (a second table without a
// graph over the same rows), exact match_score for returned rows, dataset isolation,
// incremental maintenance through the data table, persistence in vector_storage (HNS1 blobs),
// damaged and old blobs, rollback, and the options.
import * as fs from 'fs';
import * as path from 'path';
import { openDb, rng, tempDir, DB } from './helpers/db';

const blob = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
const stats = (db: DB): Record<string, number> => JSON.parse(db.prepare('SELECT vec_stats()').pluck().get() as string);
function delta(a: Record<string, number>, b: Record<string, number>, names: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) out[n] = (b[n] ?? 0) - (a[n] ?? 0);
  return out;
}

function randomRows(n: number, dim: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) out[i] = r() * 2 - 1;
  return out;
}
// Gaussian-ish clusters around 200 random centres (uniform noise of width 0.6 per element).
function clustered(n: number, dim: number, seed: number): Float32Array {
  const r = rng(seed);
  const centres = randomRows(200, dim, seed + 1000);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(r() * 200);
    for (let d = 0; d < dim; d++) out[i * dim + d] = centres[c * dim + d] + (r() - 0.5) * 0.6;
  }
  return out;
}
const row = (a: Float32Array, dim: number, i: number) => a.subarray(i * dim, (i + 1) * dim);

function fill(db: DB, table: string, dataset: string, data: Float32Array, dim: number, prefix = 'd') {
  const ins = db.prepare(`INSERT INTO _vec_${table}(dataset_id, id, embedding) VALUES (?, ?, ?)`);
  db.transaction(() => {
    for (let i = 0; i < data.length / dim; i++) ins.run(dataset, `${prefix}${i}`, blob(row(data, dim, i)));
  })();
}

type Hit = { doc_id: string; match_score: number };
const topk = (db: DB, table: string, ds: string, q: Float32Array, k: number): Hit[] =>
  db.prepare(`SELECT doc_id, match_score FROM ${table} WHERE dataset_id = ? AND doc_id MATCH ? LIMIT ?`).all(ds, blob(q), k) as Hit[];

// Recall@k of `graph` against `exact` (same rows); also checks that every row the graph
// returns is among the exact top 10k and carries exactly the score the exact scan gives it.
function recall(db: DB, graph: string, exact: string, ds: string, queries: Float32Array, dim: number, k: number): number {
  const all = db.prepare(`SELECT doc_id, match_score FROM ${exact} WHERE dataset_id = ? AND doc_id MATCH ? LIMIT ${10 * k}`);
  let hit = 0;
  let tot = 0;
  for (let i = 0; i < queries.length / dim; i++) {
    const q = row(queries, dim, i);
    const truthAll = all.all(ds, blob(q)) as Hit[];
    const score = new Map(truthAll.map((h) => [h.doc_id, h.match_score]));
    const truth = new Set(truthAll.slice(0, k).map((h) => h.doc_id));
    const got = topk(db, graph, ds, q, k);
    expect(got).toHaveLength(Math.min(k, truthAll.length));
    for (let j = 0; j < got.length; j++) {
      expect(score.has(got[j].doc_id)).toBe(true);
      expect(got[j].match_score).toBe(score.get(got[j].doc_id));
      if (j > 0) expect(got[j].match_score).toBeLessThanOrEqual(got[j - 1].match_score);
      if (truth.has(got[j].doc_id)) hit++;
    }
    tot += truth.size;
  }
  return hit / tot;
}

describe('options', () => {
  test('index=hnsw with m, ef_construction, ef_search and ann; bad values and misplaced options fail naming them', () => {
    const db = openDb();
    db.exec('CREATE VIRTUAL TABLE a USING vec(doc_id, index=hnsw)');
    db.exec('CREATE VIRTUAL TABLE b USING vec(doc_id, index=HNSW, m=8, ef_construction=100, ef_search=40, ann=always)');
    expect(() => db.exec('CREATE VIRTUAL TABLE c USING vec(doc_id, index=hnsw, m=1)')).toThrow(/invalid value "1" for option m \(accepted: an integer from 2 to 64\)/);
    expect(() => db.exec('CREATE VIRTUAL TABLE c USING vec(doc_id, index=hnsw, ef_search=0)')).toThrow(/option ef_search/);
    expect(() => db.exec('CREATE VIRTUAL TABLE c USING vec(doc_id, index=hnsw, ann=sometimes)')).toThrow(/invalid value "sometimes" for option ann \(accepted: auto, always\)/);
    expect(() => db.exec('CREATE VIRTUAL TABLE c USING vec(doc_id, index=brute, m=8)')).toThrow(/option m applies to index=hnsw only/);
    expect(() => db.exec('CREATE VIRTUAL TABLE c USING vec(doc_id, index=graph)')).toThrow(/invalid value "graph" for option index \(accepted: auto, brute, cover, hnsw\)/);
  });
});

describe('vec_ef_search', () => {
  test('sets the effort of an hnsw table for this connection and returns the previous one; refuses other tables and values', () => {
    const db = openDb();
    db.exec('CREATE VIRTUAL TABLE g USING vec(doc_id, index=hnsw, ef_search=40)');
    db.exec('CREATE VIRTUAL TABLE x USING vec(doc_id)');
    db.prepare("SELECT * FROM g WHERE dataset_id = 'a'").all();
    db.prepare("SELECT * FROM x WHERE dataset_id = 'a'").all();
    expect(db.prepare("SELECT vec_ef_search('g', 100)").pluck().get()).toBe(40);
    expect(db.prepare("SELECT vec_ef_search('G', ?)").pluck().get(7)).toBe(100);
    expect(() => db.prepare("SELECT vec_ef_search('x', 10)").get()).toThrow('vec_ef_search: table x has no graph (create it with index=hnsw)');
    expect(() => db.prepare("SELECT vec_ef_search('nope', 10)").get()).toThrow('vec_ef_search: no vec table nope is open on this connection');
    for (const bad of ['0', '10001', '2.5', "'10'"]) {
      expect(() => db.prepare(`SELECT vec_ef_search('g', ${bad})`).get()).toThrow(/vec_ef_search: (ef must be an integer from 1 to 10000|expects \(table name TEXT, ef INTEGER\))/);
    }
    // the effort reaches the search: at ef_search = 1 the graph looks at only k = 10 candidates and
    // loses recall that 200 restores
    const dim = 16;
    const data = clustered(3000, dim, 41);
    db.exec('CREATE VIRTUAL TABLE h USING vec(doc_id, index=hnsw, ann=always)');
    fill(db, 'h', 'ds', data, dim);
    fill(db, 'x', 'ds', data, dim);
    const queries = clustered(30, dim, 42);
    db.prepare("SELECT vec_ef_search('h', 200)").get();
    const high = recall(db, 'h', 'x', 'ds', queries, dim, 10);
    db.prepare("SELECT vec_ef_search('h', 1)").get();
    const low = recall(db, 'h', 'x', 'ds', queries, dim, 10);
    expect(high).toBeGreaterThan(0.98);
    expect(low).toBeLessThan(high);
  });
});

describe('recall against the exact scan', () => {
  test('MiniLM sentence embeddings (778 x 384): recall@10 >= 0.95 through the graph (ann=always), exact scores', () => {
    const dir = path.join(path.dirname(require.resolve('@sap-ux/fiori-docs-embeddings/package.json')), 'data', 'embeddings');
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'metadata.json'), 'utf8'));
    const bin = fs.readFileSync(path.join(dir, 'embeddings.bin'));
    const dim: number = meta.dimensions;
    const base = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length));
    const n = base.length / dim;
    expect(n).toBe(778);
    const db = openDb();
    db.exec('CREATE VIRTUAL TABLE g USING vec(doc_id, index=hnsw, ann=always)');
    db.exec('CREATE VIRTUAL TABLE x USING vec(doc_id, index=brute)');
    fill(db, 'g', 'fiori', base, dim);
    fill(db, 'x', 'fiori', base, dim);
    // Queries: the mean of two documents' vectors (no stored row).
    const r = rng(3);
    const nq = 100;
    const queries = new Float32Array(nq * dim);
    for (let i = 0; i < nq; i++) {
      const a = Math.floor(r() * n);
      const b = Math.floor(r() * n);
      for (let d = 0; d < dim; d++) queries[i * dim + d] = (base[a * dim + d] + base[b * dim + d]) / 2;
    }
    topk(db, 'g', 'fiori', row(queries, dim, 0), 10); // first use builds the graph
    const s0 = stats(db);
    expect(recall(db, 'g', 'x', 'fiori', queries, dim, 10)).toBeGreaterThanOrEqual(0.95);
    const d = delta(s0, stats(db), ['vec_hnsw_searches', 'vec_hnsw_exact_fallbacks']);
    expect(d.vec_hnsw_searches).toBe(nq); // every query went through the graph
    expect(d.vec_hnsw_exact_fallbacks).toBe(0);
  });

  test('synthetic 20k x 32 (clustered): the graph is chosen on its own (ann=auto), recall@10 >= 0.95; no LIMIT or a score bound scans', () => {
    const dim = 32;
    const n = 20000;
    const data = clustered(n + 100, dim, 1);
    const queries = data.slice(n * dim); // 100 more rows of the same distribution, not stored
    const db = openDb();
    db.exec('CREATE VIRTUAL TABLE g USING vec(doc_id, index=hnsw)');
    db.exec('CREATE VIRTUAL TABLE x USING vec(doc_id)');
    fill(db, 'g', 'syn', data.subarray(0, n * dim), dim);
    fill(db, 'x', 'syn', data.subarray(0, n * dim), dim);
    const b0 = stats(db);
    topk(db, 'g', 'syn', row(queries, dim, 0), 10);
    expect(delta(b0, stats(db), ['vec_hnsw_builds']).vec_hnsw_builds).toBe(1);
    const s0 = stats(db);
    expect(recall(db, 'g', 'x', 'syn', queries, dim, 10)).toBeGreaterThanOrEqual(0.95);
    expect(delta(s0, stats(db), ['vec_hnsw_searches']).vec_hnsw_searches).toBe(100);
    // No k (every row comes back) and a match_score bound run the exact scan.
    const s1 = stats(db);
    const q = blob(row(queries, dim, 1));
    const everything = db.prepare("SELECT doc_id, match_score FROM g WHERE dataset_id = 'syn' AND doc_id MATCH ?").all(q) as Hit[];
    expect(everything).toHaveLength(n);
    expect(everything).toEqual(db.prepare("SELECT doc_id, match_score FROM x WHERE dataset_id = 'syn' AND doc_id MATCH ?").all(q));
    const bounded = db.prepare("SELECT doc_id FROM g WHERE dataset_id = 'syn' AND doc_id MATCH ? AND match_score > 0.5 LIMIT 5").pluck().all(q);
    expect(bounded).toEqual(everything.filter((h) => h.match_score > 0.5).slice(0, 5).map((h) => h.doc_id));
    expect(delta(s1, stats(db), ['vec_hnsw_searches']).vec_hnsw_searches).toBe(0);
  }, 120000);
});

describe('datasets', () => {
  test('each dataset has its own graph; results never cross, even when another dataset holds the query itself', () => {
    const dim = 16;
    const db = openDb();
    db.exec('CREATE VIRTUAL TABLE g USING vec(doc_id, index=hnsw, ann=always)');
    const a = randomRows(1500, dim, 5);
    const queries = randomRows(30, dim, 6);
    fill(db, 'g', 'a', a, dim, 'a');
    fill(db, 'g', 'b', queries, dim, 'b'); // b holds every query exactly: score 1 if it leaked
    fill(db, 'g', 'b', randomRows(500, dim, 7), dim, 'bb');
    const s0 = stats(db);
    for (let i = 0; i < 30; i++) {
      const q = row(queries, dim, i);
      const ra = topk(db, 'g', 'a', q, 10);
      expect(ra).toHaveLength(10);
      for (const h of ra) {
        expect(h.doc_id).toMatch(/^a\d+$/);
        expect(h.match_score).toBeLessThan(0.999);
      }
      const rb = topk(db, 'g', 'b', q, 10);
      expect(rb[0].doc_id).toBe(`b${i}`);
      expect(rb[0].match_score).toBeCloseTo(1, 6);
      for (const h of rb) expect(h.doc_id).toMatch(/^bb?\d+$/);
    }
    expect(delta(s0, stats(db), ['vec_hnsw_builds']).vec_hnsw_builds).toBe(2); // one graph per dataset
  });
});

describe('incremental maintenance', () => {
  test('insert, update, delete through the data table are applied to the graph row by row, never rebuilt', () => {
    const dim = 16;
    const n = 3000;
    const db = openDb();
    db.exec('CREATE VIRTUAL TABLE g USING vec(doc_id, index=hnsw, ann=always)');
    db.exec('CREATE VIRTUAL TABLE x USING vec(doc_id)');
    const data = randomRows(n, dim, 11);
    fill(db, 'g', 'ds', data, dim);
    fill(db, 'x', 'ds', data, dim);
    const queries = randomRows(20, dim, 12);
    topk(db, 'g', 'ds', row(queries, dim, 0), 10);
    const names = ['vec_hnsw_builds', 'vec_hnsw_rebuilds', 'full_builds', 'vec_hnsw_updates', 'incremental_rows', 'vec_hnsw_searches'];
    const s0 = stats(db);
    const both = (sql: string, ...args: unknown[]) => {
      db.prepare(sql.replace('$T', '_vec_g')).run(...args);
      db.prepare(sql.replace('$T', '_vec_x')).run(...args);
    };
    const q = row(queries, dim, 3);
    const neg = q.map((v) => -v);
    // insert the query itself: first hit, score 1
    both("INSERT INTO $T(dataset_id, id, embedding) VALUES ('ds', 'new', ?)", blob(q));
    const first = topk(db, 'g', 'ds', q, 3)[0];
    expect(first.doc_id).toBe('new');
    expect(first.match_score).toBeCloseTo(1, 6);
    // update it away (its opposite), and move an old row onto the query
    both("UPDATE $T SET embedding = ? WHERE id = 'new'", blob(neg));
    both("UPDATE $T SET embedding = ? WHERE id = 'd42'", blob(q));
    let got = topk(db, 'g', 'ds', q, 10).map((h) => h.doc_id);
    expect(got[0]).toBe('d42');
    expect(got).not.toContain('new');
    // delete it: gone
    both("DELETE FROM $T WHERE id = 'd42'");
    got = topk(db, 'g', 'ds', q, 10).map((h) => h.doc_id);
    expect(got).not.toContain('d42');
    // a batch of writes, then the results still match the exact scan
    db.transaction(() => {
      for (let i = 0; i < 50; i++) both('UPDATE $T SET embedding = ? WHERE id = ?', blob(row(randomRows(1, dim, 100 + i), dim, 0)), `d${i * 7}`);
      for (let i = 0; i < 20; i++) both('DELETE FROM $T WHERE id = ?', `d${1000 + i}`);
    })();
    expect(recall(db, 'g', 'x', 'ds', queries, dim, 10)).toBeGreaterThanOrEqual(0.95);
    const d = delta(s0, stats(db), names);
    expect(d.vec_hnsw_builds).toBe(0);
    expect(d.vec_hnsw_rebuilds).toBe(0);
    expect(d.full_builds).toBe(1); // the exact table x's first query; g was never rebuilt
    // rows written: new; new and d42; d42; 49 updates (d42 is gone by then) and 20 deletes
    expect(d.incremental_rows).toBe(1 + 2 + 1 + 49 + 20);
    // graph: an insert is one change, an update two (remove, insert), a delete one
    expect(d.vec_hnsw_updates).toBe(1 + 2 * 2 + 1 + 2 * 49 + 20);
  });

  test('a dataset that starts empty gets its graph with its first rows', () => {
    const db = openDb();
    db.exec('CREATE VIRTUAL TABLE g USING vec(doc_id, index=hnsw, ann=always)');
    expect(topk(db, 'g', 'ds', new Float32Array([1, 0, 0]), 3)).toEqual([]);
    const ins = db.prepare("INSERT INTO _vec_g(dataset_id, id, embedding) VALUES ('ds', ?, ?)");
    ins.run('x', blob(new Float32Array([1, 0, 0])));
    ins.run('y', blob(new Float32Array([0, 1, 0])));
    ins.run('z', blob(new Float32Array([0, 0, 0]))); // zero magnitude: never returned
    const s0 = stats(db);
    const got = topk(db, 'g', 'ds', new Float32Array([1, 0.5, 0]), 3);
    expect(got.map((h) => h.doc_id)).toEqual(['x', 'y']);
    expect(got[0].match_score).toBeCloseTo(1 / Math.sqrt(1.25), 6);
    const d = delta(s0, stats(db), ['vec_hnsw_builds', 'vec_hnsw_searches', 'full_builds']);
    expect(d).toEqual({ vec_hnsw_builds: 0, vec_hnsw_searches: 1, full_builds: 0 });
  });

  test('rollback of a write transaction leaves results right', () => {
    const dim = 8;
    const db = openDb();
    db.exec('CREATE VIRTUAL TABLE g USING vec(doc_id, index=hnsw, ann=always)');
    fill(db, 'g', 'ds', randomRows(800, dim, 21), dim);
    const q = randomRows(1, dim, 22);
    const before = topk(db, 'g', 'ds', q, 10);
    db.exec('BEGIN');
    db.prepare("INSERT INTO _vec_g(dataset_id, id, embedding) VALUES ('ds', 'tmp', ?)").run(blob(q));
    db.prepare('DELETE FROM _vec_g WHERE id = ?').run(before[1].doc_id);
    const inside = topk(db, 'g', 'ds', q, 10);
    expect(inside[0].doc_id).toBe('tmp');
    expect(inside.map((h) => h.doc_id)).not.toContain(before[1].doc_id);
    db.exec('ROLLBACK');
    expect(topk(db, 'g', 'ds', q, 10)).toEqual(before);
  });
});

describe('persistence in vector_storage', () => {
  const dim = 24;
  const data = randomRows(2000, dim, 31);
  const queries = randomRows(10, dim, 32);
  const stored = (db: DB) =>
    db.prepare("SELECT \"index\" FROM vector_storage WHERE shadow_table_name = 'main._vec_g' AND dataset_id = 'ds'").pluck().get() as Buffer;
  const put = (db: DB, b: Buffer) =>
    db.prepare("UPDATE vector_storage SET \"index\" = ? WHERE shadow_table_name = 'main._vec_g' AND dataset_id = 'ds'").run(b);
  const names = ['vec_hnsw_builds', 'vec_hnsw_loads', 'vec_hnsw_rebuilds', 'full_builds', 'blob_loads'];
  let file: string;
  let expected: Hit[][];
  beforeAll(() => {
    file = path.join(tempDir(), 'p.db');
    const db = openDb(file);
    db.exec('CREATE VIRTUAL TABLE g USING vec(doc_id, index=hnsw, ann=always)');
    fill(db, 'g', 'ds', data, dim);
    expected = Array.from({ length: 10 }, (_, i) => topk(db, 'g', 'ds', row(queries, dim, i), 10));
    db.close();
  });
  const results = (db: DB) => Array.from({ length: 10 }, (_, i) => topk(db, 'g', 'ds', row(queries, dim, i), 10));

  test('the graph is stored as an HNS1 blob and a new connection loads it instead of rebuilding', () => {
    const db = openDb(file);
    const b = stored(db);
    expect(b.subarray(0, 4).toString()).toBe('HNS1');
    expect(b.subarray(16, 20).toString()).toBe('VSQ1');
    const s0 = stats(db);
    expect(results(db)).toEqual(expected);
    expect(delta(s0, stats(db), names)).toEqual({ vec_hnsw_builds: 0, vec_hnsw_loads: 1, vec_hnsw_rebuilds: 0, full_builds: 0, blob_loads: 1 });
    db.close();
  });

  test('a damaged graph part is rebuilt from the stored vectors (counted) and the blob rewritten', () => {
    const db = openDb(file);
    const b = Buffer.from(stored(db));
    const graphStart = 16 + b.readUInt32LE(8);
    b[graphStart + Math.floor((b.length - graphStart) / 2)] ^= 0x5a;
    put(db, b);
    db.close();
    const db2 = openDb(file);
    const s0 = stats(db2);
    const got = results(db2);
    expect(delta(s0, stats(db2), names)).toEqual({ vec_hnsw_builds: 1, vec_hnsw_loads: 0, vec_hnsw_rebuilds: 1, full_builds: 0, blob_loads: 1 });
    expectClose(got, expected);
    const s1 = stats(db2);
    db2.close();
    const db3 = openDb(file);
    results(db3);
    expect(delta(s1, stats(db3), names)).toEqual({ vec_hnsw_builds: 0, vec_hnsw_loads: 1, vec_hnsw_rebuilds: 0, full_builds: 0, blob_loads: 1 });
    db3.close();
  });

  test('graph bytes that pass the CRC but do not match the rows are rebuilt too; a damaged vector part rebuilds from the table', () => {
    const db = openDb(file);
    const b = Buffer.from(stored(db));
    const vlen = b.readUInt32LE(8);
    // a graph part cut short (its CRC resealed): fails its own length checks
    const cut = Buffer.concat([b.subarray(0, 16 + vlen), b.subarray(16 + vlen, b.length - 9)]);
    cut.writeUInt32LE(crc32(cut.subarray(16 + vlen)), 12);
    put(db, cut);
    db.close();
    const db2 = openDb(file);
    const s0 = stats(db2);
    expectClose(results(db2), expected);
    expect(delta(s0, stats(db2), names)).toMatchObject({ vec_hnsw_rebuilds: 1, vec_hnsw_builds: 1, full_builds: 0 });
    // the vector part damaged: nothing in the blob is trusted, the table is read again
    const c = Buffer.from(stored(db2));
    c[16 + 40] ^= 0xff;
    put(db2, c);
    db2.close();
    const db3 = openDb(file);
    const s1 = stats(db3);
    expectClose(results(db3), expected);
    expect(delta(s1, stats(db3), names)).toMatchObject({ full_builds: 1, vec_hnsw_builds: 1, blob_loads: 0 });
    expect(stored(db3).subarray(0, 4).toString()).toBe('HNS1');
    db3.close();
  });

  test('a VSQ1 blob (no graph) is loaded and upgraded to HNS1 for an hnsw table', () => {
    const db = openDb(file);
    const b = stored(db);
    const vsq = Buffer.from(b.subarray(16, 16 + b.readUInt32LE(8)));
    expect(vsq.subarray(0, 4).toString()).toBe('VSQ1');
    put(db, vsq);
    db.close();
    const db2 = openDb(file);
    const s0 = stats(db2);
    expectClose(results(db2), expected);
    expect(delta(s0, stats(db2), names)).toEqual({ vec_hnsw_builds: 1, vec_hnsw_loads: 0, vec_hnsw_rebuilds: 0, full_builds: 0, blob_loads: 1 });
    expect(stored(db2).subarray(0, 4).toString()).toBe('HNS1');
    db2.close();
  });
});

// A rebuilt graph (built on several threads) may find a slightly different top 10 than the
// stored one: every query gets 10 rows, at least 95% of them the stored graph's, with the
// same exact scores.
function expectClose(got: Hit[][], want: Hit[][]) {
  let same = 0;
  let tot = 0;
  got.forEach((g, i) => {
    expect(g).toHaveLength(want[i].length);
    const score = new Map(want[i].map((h) => [h.doc_id, h.match_score]));
    for (const h of g) {
      if (!score.has(h.doc_id)) continue;
      expect(h.match_score).toBe(score.get(h.doc_id));
      same++;
    }
    tot += want[i].length;
  });
  expect(same / tot).toBeGreaterThanOrEqual(0.95);
}

// CRC-32 (zlib polynomial), written out so the test does not depend on the code it checks.
function crc32(b: Buffer): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) {
    c ^= b[i];
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
