// pool.hybridSearch: the same rows as hybridSearch(db, …) on a direct connection (vec0 with an
// FTS5 table, filters; a dataset-aware vec table with per-dataset text indexes; RRF and weighted
// fusion, keyword-only and vector-only), run on the reader threads; bad arguments reject with
// VecsqliteError naming the argument, SQL errors with PoolQueryError carrying SQLite's text.
import * as path from 'path';
import { createTextIndex, encodeEmbedding, hybridSearch, openPool, Pool, PoolQueryError, VecsqliteError, type HybridOptions } from '../src';
import { openDb, randomF32, rng, tempDir, type DB } from './helpers/db';

const D = 8;
const N = 200;
const r = rng(93);
const vecs = Array.from({ length: N }, () => randomF32(r, D));
const WORDS = ['red', 'green', 'blue', 'apple', 'pear', 'plum', 'fresh', 'ripe', 'sweet', 'sour'];
const texts = vecs.map((_, i) => `${WORDS[i % 10]} ${WORDS[(i * 3 + 1) % 10]} ${WORDS[(i * 7 + 2) % 10]} item${i}`);

let file: string;
let db: DB;
let pool: Pool;

beforeAll(async () => {
  file = path.join(tempDir(), 'hybrid.db');
  const w = openDb(file);
  w.pragma('journal_mode = wal');
  w.exec(`create virtual table v using vec0(cat integer partition key, embedding float[${D}], year integer);
          create virtual table f using fts5(content);
          create virtual table kb using vec(doc_id);`);
  const ins = w.prepare('insert into v(rowid, cat, embedding, year) values (?, ?, ?, ?)');
  const fts = w.prepare('insert into f(rowid, content) values (?, ?)');
  const kb = w.prepare('insert into _vec_kb(dataset_id, id, content, embedding) values (?, ?, ?, ?)');
  w.transaction(() => {
    vecs.forEach((v, i) => {
      ins.run(BigInt(i + 1), BigInt(i % 3), Buffer.from(v.buffer), BigInt(2000 + (i % 5)));
      fts.run(i + 1, texts[i]);
      if (i < 80) kb.run(i % 2 === 0 ? 'A' : 'B', `doc-${i}`, texts[i], encodeEmbedding(Array.from(v)));
    });
  })();
  createTextIndex(w, 'kb', 'A');
  createTextIndex(w, 'kb', 'B');
  w.close();
  db = openDb(file);
  pool = await openPool(file, { workers: 2 });
});

afterAll(async () => {
  await pool?.close();
  db?.close();
});

type Args = [string, string, string | null, Float32Array | null, number, HybridOptions?];

async function same(...args: Args): Promise<number> {
  const want = hybridSearch(db, ...args);
  const got = await pool.hybridSearch(...args);
  expect(got).toEqual(want);
  return want.length;
}

test('vec0 + FTS5: RRF and weighted fusion, keyword-only and vector-only, equal to a direct connection', async () => {
  const q = randomF32(rng(1), D);
  expect(await same('f', 'v', 'apple OR ripe', q, 10)).toBe(10);
  await same('f', 'v', 'pear', q, 25, { fusion: 'weighted' });
  await same('f', 'v', 'pear OR plum', q, 7, { fusion: 'weighted', weights: [0.2, 0.8], candidates: 80 });
  await same('f', 'v', 'sweet', q, 5, { rrfK: 10, weights: [2, 1] });
  expect(await same('f', 'v', 'sour', null, 4)).toBe(4);
  expect(await same('f', 'v', null, q, 6)).toBe(6);
  await same('f', 'v', '', q, 3, { column: 'embedding' });
  // Concurrent queries over both readers.
  const qs = Array.from({ length: 12 }, (_, i) => randomF32(rng(100 + i), D));
  const got = await Promise.all(qs.map((x, i) => pool.hybridSearch('f', 'v', WORDS[i % 10], x, 8)));
  got.forEach((g, i) => expect(g).toEqual(hybridSearch(db, 'f', 'v', WORDS[i % 10], qs[i], 8)));
});

test('vec0 filters on partition-key and metadata columns', async () => {
  const q = randomF32(rng(2), D);
  const n = await same('f', 'v', 'apple OR green', q, 10, { filter: { cat: 1 } });
  expect(n).toBe(10);
  const hits = await pool.hybridSearch('f', 'v', 'apple OR green', q, 10, { filter: { cat: 2, year: 2003 }, fusion: 'weighted' });
  expect(hits.length).toBeGreaterThan(0);
  for (const h of hits) expect([(h.rowid - 1) % 3, 2000 + ((h.rowid - 1) % 5)]).toEqual([2, 2003]);
  expect(hits).toEqual(hybridSearch(db, 'f', 'v', 'apple OR green', q, 10, { filter: { cat: 2, year: 2003 }, fusion: 'weighted' }));
});

test('a dataset-aware vec table with per-dataset text indexes', async () => {
  const q = vecs[4];
  for (const ds of ['A', 'B']) {
    const hits = await pool.hybridSearch(`kb_fts_${ds}`, 'kb', 'apple OR fresh', q, 10, { dataset: ds });
    expect(hits.length).toBe(10);
    for (const h of hits) expect(Number(String(h.id).slice(4)) % 2).toBe(ds === 'A' ? 0 : 1);
    expect(hits).toEqual(hybridSearch(db, `kb_fts_${ds}`, 'kb', 'apple OR fresh', q, 10, { dataset: ds }));
    await same(`kb_fts_${ds}`, 'kb', 'pear', q, 5, { dataset: ds, fusion: 'weighted' });
  }
  expect((await pool.hybridSearch('kb_fts_A', 'kb', null, q, 1, { dataset: 'A' }))[0].id).toBe('doc-4');
});

test('bad arguments reject with VecsqliteError naming the argument (as the direct call throws)', async () => {
  const q = randomF32(rng(3), D);
  const bad: [Args, RegExp][] = [
    [['', 'v', 'x', q, 5], /hybridSearch: expected ftsTable to be a table name/],
    [['f', 7 as never, 'x', q, 5], /hybridSearch: expected vecTable to be a table name/],
    [['f', 'v', 5 as never, q, 5], /hybridSearch: expected text to be a string or null/],
    [['f', 'v', 'x', [1, 2] as never, 5], /hybridSearch: expected vector to be a Float32Array or null/],
    [['f', 'v', 'x', q, 0], /hybridSearch: expected k to be a positive integer, received 0/],
    [['f', 'v', 'x', q, 2.5], /hybridSearch: expected k to be a positive integer/],
    [['f', 'v', 'x', q, 5, { fusoin: 'rrf' } as never], /hybridSearch: unknown option "fusoin" \(allowed: fusion, rrfK/],
  ];
  for (const [args, message] of bad) {
    const e = await pool.hybridSearch(...args).catch((x) => x);
    expect(e).toBeInstanceOf(VecsqliteError);
    expect(e.message).toMatch(message);
    expect(() => hybridSearch(db, ...args)).toThrow(e.message);
  }
});

test('SQL errors reject with PoolQueryError and SQLite\'s text; the pool goes on', async () => {
  const q = randomF32(rng(4), D);
  const direct = (args: Args): string => {
    try {
      hybridSearch(db, ...args);
    } catch (x) {
      return (x as Error).message;
    }
    throw new Error('expected an error');
  };
  const cases: Args[] = [
    ['nope_fts', 'v', 'apple', q, 5],
    ['f', 'nope', 'apple', q, 5],
    ['f', 'v', 'apple', new Float32Array(3), 5],
    ['kb_fts_A', 'kb', 'apple', q, 5],
  ];
  for (const args of cases) {
    const e = await pool.hybridSearch(...args).catch((x) => x);
    expect(e).toBeInstanceOf(PoolQueryError);
    expect(e.code).toMatch(/^SQLITE_/);
    expect(e.message).toBe(direct(args));
  }
  await expect(pool.hybridSearch('nope_fts', 'v', 'apple', q, 5)).rejects.toThrow(/nope_fts/);
  expect(await same('f', 'v', 'apple', q, 3)).toBe(3);
});

test('a closed pool rejects', async () => {
  const p = await openPool(file, { workers: 1 });
  await p.close();
  await expect(p.hybridSearch('f', 'v', 'apple', null, 3)).rejects.toThrow('pool: the pool is closed');
});
