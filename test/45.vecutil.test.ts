// vecutil: upsertShadowDocument and matchText over a vec table, with a deterministic toy
// embedder (bag of letters) so expected rankings can be computed independently here.
import { openDb } from './helpers/db';
import { vecutil, matchText, upsertShadowDocument, EmbedFunc } from '../src';

const letters = 'abcdefghijklmnopqrstuvwxyz';
const bag = (text: string) => {
  const v = new Float32Array(26);
  for (const ch of text.toLowerCase()) { const i = letters.indexOf(ch); if (i >= 0) v[i] += 1; }
  return v;
};
const embedSync: EmbedFunc = (t) => bag(t);
const embedAsync: EmbedFunc = async (t) => Array.from(bag(t));
const cos = (a: Float32Array, b: Float32Array) => {
  let d = 0, x = 0, y = 0; for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; x += a[i] * a[i]; y += b[i] * b[i]; }
  return d / Math.sqrt(x * y);
};

const docs = ['apple pie', 'banana bread', 'cherry tart', 'apple crumble', 'zzz'];

test('upsert then matchText: ids, scores, content and meta, best first; limit and minScore', async () => {
  const db = openDb();
  db.exec('CREATE VIRTUAL TABLE kb USING vec(doc_id)');
  for (const [i, d] of docs.entries()) {
    await upsertShadowDocument(db, 'kb', { datasetId: 'ds', id: `d${i}`, content: d, meta: { n: i } }, i % 2 ? embedAsync : embedSync);
  }
  await upsertShadowDocument(db, 'kb', { datasetId: 'other', id: 'x', content: 'apple apple' }, embedSync);
  const q = 'apple';
  const want = docs.map((d, i) => ({ id: `d${i}`, s: cos(bag(q), bag(d)) })).sort((a, b) => b.s - a.s);
  const all = await matchText(db, 'kb', 'ds', q, embedSync);
  expect(all.map((m) => m.id)).toEqual(want.map((w) => w.id));
  all.forEach((m, i) => expect(m.score).toBeCloseTo(want[i].s, 6));
  expect(all[0]).toMatchObject({ content: docs[Number(all[0].id.slice(1))], meta: JSON.stringify({ n: Number(all[0].id.slice(1)) }) });
  const two = await vecutil.matchText(db, 'kb', 'ds', q, embedAsync, { limit: 2 });
  expect(two.map((m) => m.id)).toEqual(want.slice(0, 2).map((w) => w.id));
  const min = await matchText(db, 'kb', 'ds', q, embedSync, { minScore: 0.5 });
  expect(min.map((m) => m.id)).toEqual(want.filter((w) => w.s >= 0.5).map((w) => w.id));
  // upsert replaces content and embedding of the same (dataset, id)
  await upsertShadowDocument(db, 'kb', { datasetId: 'ds', id: 'd4', content: 'apple' }, embedSync);
  const again = await matchText(db, 'kb', 'ds', q, embedSync, { limit: 1 });
  expect(again[0]).toMatchObject({ id: 'd4', content: 'apple', meta: null });
  expect(again[0].score).toBeCloseTo(1, 6);
});

test('custom id column and hostile table names are quoted, not interpolated', async () => {
  const db = openDb();
  db.exec('CREATE VIRTUAL TABLE "we""ird" USING vec(key)');
  await upsertShadowDocument(db, 'we"ird', { datasetId: 'ds', id: 'k1', content: 'abc' }, embedSync);
  expect((await matchText(db, 'we"ird', 'ds', 'abc', embedSync)).map((m) => m.id)).toEqual(['k1']);
  await expect(upsertShadowDocument(db, 'x; DROP TABLE t', { datasetId: 'ds', id: 'a', content: 'a' }, embedSync)).rejects.toMatchObject({ message: expect.stringMatching(/^no such table: _vec_x; DROP TABLE t$/) });
  // (toMatchObject, not toThrow: under --runInBand better-sqlite3's SqliteError comes from another jest realm)
});

test('argument errors', async () => {
  const db = openDb();
  await expect(upsertShadowDocument(null as never, 'kb', { datasetId: 'ds', id: 'a' }, embedSync)).rejects.toThrow(/^upsertShadowDocument: db is nil$/);
  await expect(upsertShadowDocument(db, 'kb', { datasetId: '', id: 'a' }, embedSync)).rejects.toThrow(/expected doc.datasetId to be a non-empty string/);
  await expect(upsertShadowDocument(db, 'kb', { datasetId: 'ds', id: 'a' }, null as never)).rejects.toThrow(/EmbedFunc is not a function/);
  await expect(matchText(db, 'nope', 'ds', 'a', embedSync)).rejects.toThrow(/no vec table named nope/);
  expect(vecutil.shadowTableName('kb')).toBe('_vec_kb');
});
