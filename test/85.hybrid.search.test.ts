// vec_hybrid / hybridSearch: fused results equal an independent JavaScript fusion of brute-force
// vector ranks and FTS5's own keyword ranks (RRF and weighted, with weights and filters), exactly
// min(k, matching rows) rows, filters applied to both sides, the dataset-aware `vec` table with
// its per-dataset FTS5 index kept in sync by triggers, and errors.
import { openDb, randomF32, rng, type DB } from './helpers/db';
import { createTextIndex, hybridSearch, textIndexSql } from '../src/hybrid';
import { encodeEmbedding } from '../src';

const d = 4, n = 120;
const r = rng(21);
const vecs = Array.from({ length: n }, () => randomF32(r, d));
const WORDS = ['red', 'green', 'blue', 'apple', 'pear', 'plum', 'fresh', 'ripe'];
const texts = Array.from({ length: n }, (_, i) => `${WORDS[i % 8]} ${WORDS[(i * 3 + 1) % 8]} ${WORDS[(i * 5 + 2) % 8]} item${i}`);
const cat = (i: number) => i % 3; // partition key
const l2 = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, x, j) => s + (x - b[j]) ** 2, 0));

function setup(): DB {
  const db = openDb();
  db.exec(`create virtual table v using vec0(cat integer partition key, embedding float[${d}], year integer); create virtual table f using fts5(content);`);
  const ins = db.prepare('insert into v(rowid, cat, embedding, year) values (?, ?, ?, ?)');
  const fts = db.prepare('insert into f(rowid, content) values (?, ?)');
  vecs.forEach((v, i) => {
    ins.run(BigInt(i + 1), BigInt(cat(i)), Buffer.from(v.buffer), BigInt(2000 + (i % 5)));
    fts.run(i + 1, texts[i]);
  });
  return db;
}

interface Oracle { rowid: number; score: number; textRank: number | null; vecRank: number | null }

/** The fusion computed in JavaScript from brute-force vector ranks and FTS5's keyword order. */
function oracle(db: DB, text: string | null, q: Float32Array | null, k: number, o: { fusion?: 'rrf' | 'weighted'; weights?: [number, number]; rrfK?: number; candidates?: number; keep?: (i: number) => boolean } = {}): Oracle[] {
  const keep = o.keep ?? (() => true);
  const cand = Math.max(k, o.candidates ?? 50);
  const vr = q ? vecs.map((v, i) => ({ rowid: i + 1, dist: l2(v, q) })).filter((x) => keep(x.rowid - 1)).sort((a, b) => a.dist - b.dist || a.rowid - b.rowid).slice(0, cand) : [];
  const tr = text ? (db.prepare('select rowid, rank from f where f match ? order by rank').raw().all(text) as [number, number][])
    .filter(([id]) => keep(id - 1)).slice(0, cand).map(([rowid, rank]) => ({ rowid, score: -rank })) : [];
  const [wt, wv] = o.weights ?? (o.fusion === 'weighted' ? [0.5, 0.5] : [1, 1]);
  const m = new Map<number, Oracle>();
  const get = (id: number) => m.get(id) ?? (m.set(id, { rowid: id, score: 0, textRank: null, vecRank: null }), m.get(id)!);
  if (o.fusion === 'weighted') {
    const tmin = Math.min(...tr.map((x) => x.score)), tmax = Math.max(...tr.map((x) => x.score));
    const vmin = Math.min(...vr.map((x) => -x.dist)), vmax = Math.max(...vr.map((x) => -x.dist));
    tr.forEach((x, i) => { const h = get(x.rowid); h.textRank = i + 1; h.score += wt * (tmax > tmin ? (x.score - tmin) / (tmax - tmin) : 1); });
    vr.forEach((x, i) => { const h = get(x.rowid); h.vecRank = i + 1; h.score += wv * (vmax > vmin ? (-x.dist - vmin) / (vmax - vmin) : 1); });
  } else {
    const c = o.rrfK ?? 60;
    tr.forEach((x, i) => { const h = get(x.rowid); h.textRank = i + 1; h.score += wt / (c + i + 1); });
    vr.forEach((x, i) => { const h = get(x.rowid); h.vecRank = i + 1; h.score += wv / (c + i + 1); });
  }
  return [...m.values()].sort((a, b) => b.score - a.score || a.rowid - b.rowid).slice(0, k);
}

function expectSame(got: ReturnType<typeof hybridSearch>, want: Oracle[]): void {
  expect(got.map((h) => [h.rowid, h.textRank, h.vecRank])).toEqual(want.map((w) => [w.rowid, w.textRank, w.vecRank]));
  // vec0 distances are float32, the oracle's are float64
  got.forEach((h, i) => expect(h.score).toBeCloseTo(want[i].score, 6));
}

describe('vec_hybrid on vec0', () => {
  const db = setup();
  const q = randomF32(rng(5), d);
  test('hand-computed RRF on a tiny case', () => {
    const t = openDb();
    t.exec('create virtual table v using vec0(embedding float[1]); create virtual table f using fts5(content);');
    // vector ranks by |x - 0|: 1 (0.1), 2 (0.2), 3 (0.3); keyword "z" matches only rowid 3.
    [[1, 0.1, 'a'], [2, 0.2, 'b'], [3, 0.3, 'z']].forEach(([id, x, s]) => {
      t.prepare('insert into v(rowid, embedding) values (?, ?)').run(BigInt(id as number), `[${x}]`);
      t.prepare('insert into f(rowid, content) values (?, ?)').run(id, s);
    });
    const rows = t.prepare("select rowid, text_rank, vec_rank, score from vec_hybrid('f', 'v', 'z', '[0]', 2)").raw().all();
    // rowid 3: 1/61 + 1/63; rowid 1: 1/61
    expect(rows).toEqual([[3, 1, 3, 1 / 61 + 1 / 63], [1, null, 1, 1 / 61]]);
  });
  test('RRF equals the JavaScript oracle for several k', () => {
    for (const k of [1, 5, 10, 60]) expectSame(hybridSearch(db, 'f', 'v', 'apple OR ripe', q, k), oracle(db, 'apple OR ripe', q, k));
  });
  test('weighted fusion, custom weights, rrf_k and candidates', () => {
    expectSame(hybridSearch(db, 'f', 'v', 'pear', q, 10, { fusion: 'weighted' }), oracle(db, 'pear', q, 10, { fusion: 'weighted' }));
    expectSame(hybridSearch(db, 'f', 'v', 'pear', q, 10, { fusion: 'weighted', weights: [0.2, 0.8] }), oracle(db, 'pear', q, 10, { fusion: 'weighted', weights: [0.2, 0.8] }));
    expectSame(hybridSearch(db, 'f', 'v', 'green', q, 7, { rrfK: 5, weights: [2, 1], candidates: 12 }), oracle(db, 'green', q, 7, { rrfK: 5, weights: [2, 1], candidates: 12 }));
  });
  test('filters apply to both sides (partition key and metadata)', () => {
    const got = hybridSearch(db, 'f', 'v', 'apple', q, 15, { filter: { cat: 1 } });
    expectSame(got, oracle(db, 'apple', q, 15, { keep: (i) => cat(i) === 1 }));
    expect(got.every((h) => cat(h.rowid - 1) === 1)).toBe(true);
    const both = hybridSearch(db, 'f', 'v', 'plum', q, 8, { filter: { cat: 2, year: 2003 } });
    expectSame(both, oracle(db, 'plum', q, 8, { keep: (i) => cat(i) === 2 && 2000 + (i % 5) === 2003 }));
  });
  test('exactly min(k, matching rows) rows', () => {
    const matching = vecs.filter((_, i) => cat(i) === 0 && 2000 + (i % 5) === 2001).length; // 8
    expect(hybridSearch(db, 'f', 'v', 'red', q, 100, { filter: { cat: 0, year: 2001 } })).toHaveLength(matching);
    expect(hybridSearch(db, 'f', 'v', 'red', q, 3, { filter: { cat: 0, year: 2001 } })).toHaveLength(3);
    // keyword only: the FTS5 matches; vector only: every row
    const item7 = hybridSearch(db, 'f', 'v', 'item7', null, 10);
    expect(item7.map((h) => [h.rowid, h.textRank, h.vecRank])).toEqual([[8, 1, null]]);
    expect(hybridSearch(db, 'f', 'v', null, q, 500)).toHaveLength(n);
    expect(hybridSearch(db, 'f', 'v', 'nomatchword', q, 4)).toHaveLength(4);
  });
  test('keyword hits that the vector table lacks are dropped', () => {
    db.prepare('insert into f(rowid, content) values (9999, ?)').run('orphan apple');
    const got = hybridSearch(db, 'f', 'v', 'orphan', null, 5);
    expect(got).toEqual([]);
    db.prepare("delete from f where rowid = 9999").run();
  });
  test('errors name the problem', () => {
    const e = (f: () => unknown) => { try { f(); } catch (x) { return (x as Error).message; } return 'no error'; };
    expect(e(() => db.prepare("select * from vec_hybrid('f', 'nope', 'x', null, 5)").all())).toBe('vec_hybrid: no such vector table: nope');
    expect(e(() => db.prepare("select * from vec_hybrid('f', 'f', 'x', null, 5)").all())).toBe('vec_hybrid: f is not a vec0 or vec table');
    expect(e(() => db.prepare("select * from vec_hybrid('f', 'v', 'x', null, 0)").all())).toBe('vec_hybrid: k must be an integer from 1 to 4096');
    expect(e(() => db.prepare("select * from vec_hybrid('f', 'v', 'x', null, 5, '{\"fusion\":\"max\"}')").all())).toBe("vec_hybrid: fusion must be 'rrf' or 'weighted', got 'max'");
    expect(e(() => db.prepare("select * from vec_hybrid('f', 'v', 'x', null, 5, '{\"fuzion\":1}')").all())).toMatch(/unknown option 'fuzion'/);
    expect(e(() => db.prepare("select * from vec_hybrid('f', 'v', 'x', null, 5, '[1]')").all())).toBe('vec_hybrid: options must be a JSON object');
    expect(e(() => db.prepare("select * from vec_hybrid('f', 'v', 'x', null, 5, '{\"weights\":[1]}')").all())).toMatch(/weights must be \[text_weight, vector_weight\]/);
    expect(e(() => db.prepare("select * from vec_hybrid('f', 'v', 'x', null)").all())).toMatch(/expected arguments \(fts_table, vec_table, query_text, query_vector, k\[, options\]\)/);
    expect(e(() => hybridSearch(db, 'f', 'v', 'x', new Float32Array(3), 5))).toMatch(/vector side: .*dimension/i);
    expect(e(() => hybridSearch(db, 'f', 'v', 'AND AND', null, 5))).toMatch(/keyword side: .*syntax error/);
    expect(e(() => hybridSearch(db, 'f', 'v', 'x', null, 5, { filter: { nosuch: 1 } }))).toMatch(/no such column: "?nosuch/);
  });
});

describe('vec_hybrid on a dataset-aware vec table', () => {
  test('per-dataset FTS5 index, kept in sync; never another dataset\'s rows', () => {
    const db = openDb();
    db.exec('create virtual table kb using vec(doc_id)');
    const ins = db.prepare('insert into _vec_kb(dataset_id, id, content, embedding) values (?, ?, ?, ?)');
    ins.run('A', 'a1', 'apple pie recipe', encodeEmbedding([1, 0]));
    ins.run('B', 'b1', 'apple tart recipe', encodeEmbedding([1, 0]));
    ins.run('A', 'a2', 'pear crumble', encodeEmbedding([0, 1]));
    const fts = createTextIndex(db, 'kb', 'A');
    expect(fts).toBe('kb_fts_A');
    expect(createTextIndex(db, 'kb', 'A')).toBe('kb_fts_A'); // idempotent
    ins.run('A', 'a3', 'apple crumble', encodeEmbedding([0.6, 0.8]));
    ins.run('B', 'b2', 'apple crumble', encodeEmbedding([0.6, 0.8]));
    const q = new Float32Array([0, 1]);
    const got = hybridSearch(db, fts, 'kb', 'apple OR crumble', q, 10, { dataset: 'A' });
    expect(got.map((h) => h.id).sort()).toEqual(['a1', 'a2', 'a3']);
    // vector ranks by cosine to [0, 1]: a2 (1), a3 (0.8), a1 (0); keyword ranks from FTS5 itself
    const kwOrder = (db.prepare(`select rowid from ${fts} where ${fts} match 'apple OR crumble' order by rank`).pluck().all() as number[]);
    const idOf = new Map((db.prepare("select rowid, id from _vec_kb").raw().all() as [number, string][]));
    const s = new Map<string, number>();
    kwOrder.forEach((rid, i) => s.set(idOf.get(rid)!, (s.get(idOf.get(rid)!) ?? 0) + 1 / (61 + i)));
    ['a2', 'a3', 'a1'].forEach((id, i) => s.set(id, (s.get(id) ?? 0) + 1 / (61 + i)));
    const rowidOf = new Map([...idOf.entries()].map(([rid, id]) => [id, rid]));
    const want = [...s.entries()].sort((a, b) => b[1] - a[1] || rowidOf.get(a[0])! - rowidOf.get(b[0])!); // ties by rowid
    expect(got.map((h) => h.id)).toEqual(want.map((w) => w[0]));
    got.forEach((h, i) => expect(h.score).toBeCloseTo(want[i][1], 12));
    expect(got.find((h) => h.id === 'a3')!.vecDistance).toBeCloseTo(0.2, 6);
    // update and delete flow through the triggers
    db.prepare("update _vec_kb set content = 'banana split' where id = 'a1'").run();
    db.prepare("delete from _vec_kb where id = 'a3'").run();
    expect(db.prepare(`select rowid from ${fts} where ${fts} match 'apple'`).pluck().all()).toEqual([]);
    expect(hybridSearch(db, fts, 'kb', 'banana', null, 5, { dataset: 'A' }).map((h) => h.id)).toEqual(['a1']);
    // moving a row to another dataset removes it from A's index
    db.prepare("update _vec_kb set dataset_id = 'B' where id = 'a2'").run();
    expect(db.prepare(`select count(*) from ${fts} where ${fts} match 'pear'`).pluck().get()).toBe(0);
    expect(db.prepare(`select count(*) from ${fts}_docsize`).pluck().get()).toBe(1);
    // a wrong dataset for the index still never returns another dataset's rows
    expect(hybridSearch(db, fts, 'kb', 'banana', null, 5, { dataset: 'B' })).toEqual([]);
    expect(() => hybridSearch(db, fts, 'kb', 'banana', null, 5)).toThrow('vec_hybrid: options.dataset is required for the vec table kb');
  });
  test('textIndexSql is plain SQL that sqlite runs as written', () => {
    const db = openDb();
    db.exec("create virtual table kb using vec(doc_id); insert into _vec_kb(dataset_id, id, content) values ('x y', '1', 'hello world')");
    db.exec(textIndexSql('kb', 'x y'));
    expect(db.prepare("select rowid from kb_fts_x_y where kb_fts_x_y match 'hello'").pluck().all()).toEqual([1]);
  });
});
