// Property tests (fast-check) of vecsync: payload decoding round-trips what the triggers encode
// and rejects anything else only with VecsyncApplyError; keys of any characters survive the
// SQLite triggers and the decoder byte for byte; trigger names are injective in the table.
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { vecsync } from '../src';

const { decodePayload, VecsyncApplyError, triggerNames, sqliteShadowLogTriggers, shadowTableDDL, seqTableDDL, logTableDDL } = vecsync;

/** No lone surrogates (SQLite and JSON would replace them). */
const wellFormed = (s: string) => !/\p{Cs}/u.test(s);
const SEED = Number(process.env.FC_SEED ?? 20261206);
const key = fc.string({ unit: 'binary', minLength: 1, maxLength: 24 }).filter((s) => !s.includes('\u0000') && wellFormed(s));
const name = fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }).filter((s) => !s.includes('\u0000') && !s.includes('.') && wellFormed(s));
const floats = fc.array(fc.float({ noNaN: true }), { maxLength: 16 });

function f32(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeFloatLE(v, i * 4));
  return b;
}

const doc = fc.record({
  dataset_id: key,
  id: key,
  content: fc.option(fc.string({ unit: 'binary' }).filter((s) => wellFormed(s)), { nil: null }),
  meta: fc.option(fc.json(), { nil: null }),
  embedding: fc.option(floats, { nil: null }),
  embedding_model: fc.option(fc.string(), { nil: null }),
  scn: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: null }),
  archived: fc.constantFrom(0, 1),
});

describe('decodePayload', () => {
  test('round-trips every payload the triggers can write (hex in either case, Buffer or string)', () => {
    fc.assert(
      fc.property(doc, fc.boolean(), fc.boolean(), (d, upper, asBuffer) => {
        const blob = d.embedding === null ? null : f32(d.embedding);
        let hex = blob === null ? null : blob.toString('hex');
        if (hex !== null && upper) hex = hex.toUpperCase();
        const text = JSON.stringify({ ...d, embedding: hex });
        const entry = { datasetId: d.dataset_id, shadowTable: 't', scn: 1, op: 'insert', documentId: d.id, payload: asBuffer ? Buffer.from(text, 'utf8') : text };
        const p = decodePayload(entry);
        expect(p.dataset_id).toBe(d.dataset_id);
        expect(p.id).toBe(d.id);
        expect(p.content).toBe(d.content);
        expect(p.meta).toBe(d.meta);
        expect(p.embedding_model).toBe(d.embedding_model);
        expect(p.scn).toBe(d.scn);
        expect(p.archived).toBe(d.archived);
        if (blob === null || blob.length === 0) expect(p.embeddingBlob).toBeNull();
        else expect(p.embeddingBlob!.equals(blob)).toBe(true);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  test('anything else is either a valid decode or a VecsyncApplyError, never another error', () => {
    const field = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.array(fc.integer(), { maxLength: 2 }), fc.object({ maxDepth: 1 }));
    const mutated = fc.record({
      dataset_id: fc.oneof(key, field), id: fc.oneof(key, field), content: field, meta: field,
      embedding: fc.oneof(fc.hexaString({ maxLength: 40 }), fc.string({ maxLength: 12 }), field), embedding_model: field, scn: field, archived: fc.oneof(fc.constantFrom(0, 1, 2, -1, 0.5, true, false), field),
    }, { requiredKeys: [] });
    const payload = fc.oneof(
      mutated.map((o) => JSON.stringify(o)),
      fc.string(),
      fc.json(),
      mutated.map((o) => JSON.stringify(o)).chain((s) => fc.nat(s.length).map((n) => s.slice(0, n))), // truncated
    );
    fc.assert(
      fc.property(payload, key, key, (text, ds, id) => {
        const entry = { datasetId: ds, shadowTable: 't', scn: 7, op: 'update', documentId: id, payload: text };
        let p: ReturnType<typeof decodePayload> | undefined;
        try {
          p = decodePayload(entry);
        } catch (e) {
          expect(e).toBeInstanceOf(VecsyncApplyError);
          expect((e as Error).message).toMatch(/^vecsync: cannot apply t dataset .* scn 7: .+; nothing of this batch was applied$/s);
          return;
        }
        expect(p.dataset_id).toBe(ds);
        expect(p.id).toBe(id);
        expect([0, 1]).toContain(p.archived);
        if (p.embeddingBlob !== null) expect(p.embeddingBlob.length % 4).toBe(0);
        for (const k of ['content', 'meta', 'embedding_model'] as const) expect(p[k] === null || typeof p[k] === 'string').toBe(true);
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });
});

describe('keys through the SQLite triggers', () => {
  test('dataset ids and ids of any characters come back byte for byte, moves log the old key', () => {
    fc.assert(
      fc.property(name, key, key, key, floats, (table, ds, id, id2, emb) => {
        const db = new Database(':memory:');
        try {
          db.exec(seqTableDDL() + logTableDDL() + shadowTableDDL(table));
          for (const t of sqliteShadowLogTriggers(table)) db.exec(t);
          const q = vecsync.sqliteIdent(table);
          db.prepare(`INSERT INTO ${q}(dataset_id, id, embedding) VALUES (?, ?, ?)`).run(ds, id, f32(emb));
          db.prepare(`UPDATE ${q} SET id = ?`).run(id2);
          const log = db.prepare('SELECT * FROM vec_shadow_log ORDER BY scn').all() as Record<string, unknown>[];
          const entries = log.map((r) => ({ datasetId: r.dataset_id as string, shadowTable: r.shadow_table as string, scn: Number(r.scn), op: r.op as string, documentId: r.document_id as string, payload: r.payload as string }));
          expect(entries.map((e) => e.op)).toEqual(id === id2 ? ['insert', 'update'] : ['insert', 'delete', 'update']);
          expect(entries.map((e) => e.shadowTable)).toEqual(entries.map(() => table));
          const decoded = entries.map((e) => decodePayload(e));
          expect(decoded[0].id).toBe(id);
          expect(decoded[decoded.length - 1].id).toBe(id2);
          for (const p of decoded) expect(p.dataset_id).toBe(ds);
          const blob = decoded[0].embeddingBlob;
          if (emb.length === 0) expect(blob).toBeNull();
          else expect(blob!.equals(f32(emb))).toBe(true);
        } finally {
          db.close();
        }
      }),
      { seed: SEED, numRuns: 100 },
    );
  });
});

describe('trigger names', () => {
  test('distinct tables never share a trigger name (SQLite: case-insensitively; MySQL: within 64 characters)', () => {
    const qualified = fc.tuple(fc.option(name, { nil: undefined }), name).map(([s, t]) => (s === undefined ? t : `${s}.${t}`));
    fc.assert(
      fc.property(qualified, qualified, (a, b) => {
        for (const engine of ['sqlite', 'mysql'] as const) {
          const na = triggerNames(a, engine);
          const nb = triggerNames(b, engine);
          const fold = (s: string | undefined) => (engine === 'sqlite' ? (s ?? '').replace(/[A-Z]/g, (c) => c.toLowerCase()) : s ?? ''); // SQLite folds ASCII only
          const sameTable = fold(na.schema) === fold(nb.schema) && fold(na.table) === fold(nb.table);
          const names = (n: typeof na) => [n.insert, n.update, n.delete].map((x) => `${fold(n.schema)}.${fold(x)}`);
          expect(new Set(names(na)).size).toBe(3);
          if (engine === 'mysql') for (const x of [na.insert, na.update, na.delete]) expect([...x].length).toBeLessThanOrEqual(64);
          const shared = names(na).filter((x) => names(nb).includes(x));
          if (sameTable) expect(shared).toHaveLength(3);
          else expect(shared).toEqual([]);
        }
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  test('long MySQL names: distinct tables stay distinct after shortening', () => {
    const long = fc.string({ unit: 'grapheme-ascii', minLength: 60, maxLength: 64 });
    fc.assert(
      fc.property(long, long, (a, b) => {
        fc.pre(a !== b && !a.includes('.') && !b.includes('.'));
        expect(triggerNames(a, 'mysql').insert).not.toBe(triggerNames(b, 'mysql').insert);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
