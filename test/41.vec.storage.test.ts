// vector_storage persistence (legacy read, VSQ1 write, corrupt blobs), triggers, vec_invalidate,
// incremental updates observed through vec_stats().
import { f32blob, openDb, randomF32, rng, tempDir, DB } from './helpers/db';
import { encodeEmbedding } from '../src';
import * as path from 'path';
import * as zlib from 'zlib';

type Stats = { full_builds: number; blob_loads: number; incremental_rows: number; blob_writes: number };
const stats = (db: DB): Stats => JSON.parse(db.prepare('SELECT vec_stats()').pluck().get() as string);
const delta = (a: Stats, b: Stats) => ({
  full_builds: b.full_builds - a.full_builds, blob_loads: b.blob_loads - a.blob_loads,
  incremental_rows: b.incremental_rows - a.incremental_rows,
});

const match = (db: DB, ds: string, q: number[], table = 'vec_iv') =>
  db.prepare(`SELECT doc_id FROM ${table} WHERE dataset_id = ? AND doc_id MATCH ?`).pluck().all(ds, f32blob(q));
const blobCount = (db: DB, ds: string) =>
  db.prepare("SELECT count(*) FROM vector_storage WHERE shadow_table_name = 'main._vec_vec_iv' AND dataset_id = ? AND \"index\" IS NOT NULL").pluck().get(ds);

// Legacy brute-force blob written by hand from the reference's format.
function legacyBlob(dim: number, items: [string, number[]][]): Buffer {
  const parts: Buffer[] = [];
  const h = Buffer.alloc(8); h.writeUInt32LE(dim, 0); h.writeUInt32LE(items.length, 4); parts.push(h);
  for (const [id, v] of items) {
    const l = Buffer.alloc(4); l.writeUInt32LE(Buffer.byteLength(id), 0);
    parts.push(l, Buffer.from(id), f32blob(v));
  }
  return Buffer.concat(parts);
}

describe('persistence (upstream tests 18-20)', () => {
  test('first MATCH stores one blob; a write to ds removes it, the next MATCH restores it; writes to other keep it', () => {
    const db = openDb();
    db.exec('CREATE VIRTUAL TABLE vec_iv USING vec(doc_id)');
    db.prepare("INSERT INTO _vec_vec_iv(dataset_id, id, embedding) VALUES ('ds','d1',?),('ds','d2',?),('other','o1',?)").run(f32blob([1, 0]), f32blob([0, 1]), f32blob([1, 1]));
    expect(blobCount(db, 'ds')).toBe(0);
    expect(match(db, 'ds', [1, 0])).toEqual(['d1', 'd2']);
    expect(blobCount(db, 'ds')).toBe(1);
    db.prepare("INSERT INTO _vec_vec_iv(dataset_id, id, embedding) VALUES ('ds','d3',?)").run(f32blob([2, 1]));
    expect(blobCount(db, 'ds')).toBe(0);
    expect(match(db, 'ds', [1, 0])).toEqual(['d1', 'd3', 'd2']);
    expect(blobCount(db, 'ds')).toBe(1);
    db.prepare("INSERT INTO _vec_vec_iv(dataset_id, id, embedding) VALUES ('other','o2',?)").run(f32blob([1, 2]));
    expect(blobCount(db, 'ds')).toBe(1);
    const blob = db.prepare("SELECT \"index\" FROM vector_storage WHERE dataset_id='ds'").pluck().get() as Buffer;
    expect(blob.subarray(0, 4).toString()).toBe('VSQ1');
    expect(blob.readUInt32LE(4)).toBe(1);
    expect(blob.readUInt32LE(8)).toBe(2);
    expect(blob.readUInt32LE(12)).toBe(3);
    // checksum: zlib's CRC-32 of everything after the 28-byte header
    expect(blob.readUInt32LE(24)).toBe((zlib as unknown as { crc32(b: Buffer): number }).crc32(blob.subarray(28)));
    expect(blob.length).toBe(28 + 3 * (8 + 4 + 2 + 2 * 4));
  });
});

describe('blobs', () => {
  const dir = tempDir();
  function fileDb(name: string, rows: [string, string, number[] | null][]): string {
    const file = path.join(dir, name);
    const db = openDb(file);
    db.exec('CREATE VIRTUAL TABLE vec_iv USING vec(doc_id)');
    const ins = db.prepare('INSERT INTO _vec_vec_iv(dataset_id, id, embedding) VALUES (?,?,?)');
    for (const [ds, id, v] of rows) ins.run(ds, id, v ? f32blob(v) : null);
    db.close();
    return file;
  }
  test('a fresh connection loads the stored VSQ1 blob instead of rebuilding', () => {
    const file = fileDb('vsq.db', [['ds', 'a', [1, 0]], ['ds', 'b', [0, 1]], ['ds', 'c', [1, 1]]]);
    const a = openDb(file);
    expect(match(a, 'ds', [1, 0])).toEqual(['a', 'c', 'b']);
    a.close();
    const b = openDb(file);
    const s0 = stats(b);
    expect(match(b, 'ds', [0, 1])).toEqual(['b', 'c', 'a']);
    expect(delta(s0, stats(b))).toEqual({ full_builds: 0, blob_loads: 1, incremental_rows: 0 });
    b.close();
  });
  test('the legacy brute-force blob of the original is read (ids mapped to rows)', () => {
    const file = fileDb('legacy.db', [['ds', 'd1', [1, 0]], ['ds', 'd2', [0, 1]]]);
    const db = openDb(file);
    db.exec("CREATE TABLE IF NOT EXISTS vector_storage (shadow_table_name TEXT NOT NULL, dataset_id TEXT NOT NULL DEFAULT '', \"index\" BLOB, PRIMARY KEY (shadow_table_name, dataset_id))");
    // the reference's example bytes for d1=[1,0], d2=[0,1]
    const legacy = legacyBlob(2, [['d1', [1, 0]], ['d2', [0, 1]]]);
    expect(legacy.toString('hex')).toBe('02000000' + '02000000' + '02000000' + '6431' + '0000803f' + '00000000' + '02000000' + '6432' + '00000000' + '0000803f');
    // A legacy blob whose vectors differ from the table proves the blob (not the table) was read.
    const marked = legacyBlob(2, [['d1', [0, 1]], ['d2', [1, 0]]]);
    db.prepare("INSERT OR REPLACE INTO vector_storage VALUES ('main._vec_vec_iv', 'ds', ?)").run(marked);
    db.exec('DELETE FROM vector_storage_gen');
    db.close();
    const b = openDb(file);
    const s0 = stats(b);
    expect(match(b, 'ds', [1, 0])).toEqual(['d2', 'd1']);
    expect(delta(s0, stats(b)).blob_loads).toBe(1);
    expect(b.prepare("SELECT rowid FROM vec_iv WHERE dataset_id='ds' AND doc_id MATCH ? LIMIT 1").pluck().get(f32blob([1, 0]))).toBe(2);
    b.close();
  });
  test('corrupt or truncated blobs are detected and rebuilt from the data table', () => {
    const file = fileDb('corrupt.db', [['ds', 'a', [1, 0]], ['ds', 'b', [0, 1]]]);
    const db = openDb(file);
    expect(match(db, 'ds', [1, 0])).toEqual(['a', 'b']);
    const good = db.prepare("SELECT \"index\" FROM vector_storage WHERE dataset_id='ds'").pluck().get() as Buffer;
    db.close();
    const flipped = Buffer.from(good); flipped[flipped.length - 2] ^= 0x40;   // payload bit flip: crc fails
    const truncated = good.subarray(0, good.length - 3);
    const badVersion = Buffer.from(good); badVersion.writeUInt32LE(2, 4);
    const hugeCount = legacyBlob(2, [['a', [0, 1]]]); hugeCount.writeUInt32LE(0x7fffffff, 4);
    const legacyTrunc = legacyBlob(2, [['a', [0, 1]], ['b', [1, 0]]]).subarray(0, 20);
    const cover = Buffer.concat([Buffer.from('COV1'), Buffer.alloc(20)]);
    for (const bad of [flipped, truncated, badVersion, hugeCount, legacyTrunc, cover, Buffer.from([1, 2, 3])]) {
      const w = openDb(file);
      w.prepare("UPDATE vector_storage SET \"index\" = ? WHERE dataset_id = 'ds'").run(bad);
      w.close();
      const r = openDb(file);
      const s0 = stats(r);
      expect(match(r, 'ds', [1, 0])).toEqual(['a', 'b']);
      expect(delta(s0, stats(r))).toEqual({ full_builds: 1, blob_loads: 0, incremental_rows: 0 });
      const again = r.prepare("SELECT \"index\" FROM vector_storage WHERE dataset_id='ds'").pluck().get() as Buffer;
      expect(again.subarray(0, 4).toString()).toBe('VSQ1');
      r.close();
    }
  });
});

describe('incremental updates', () => {
  test('a single-row write applies one row instead of rebuilding (insert, update, delete, REPLACE, dataset move)', () => {
    const db = openDb();
    db.exec('CREATE VIRTUAL TABLE vec_iv USING vec(doc_id)');
    const r = rng(9);
    const rows = new Map<string, Float32Array>();
    const ins = db.prepare('INSERT INTO _vec_vec_iv(dataset_id, id, embedding) VALUES (?,?,?)');
    db.transaction(() => {
      for (let i = 0; i < 500; i++) { const v = randomF32(r, 8); rows.set(`d${i}`, v); ins.run('ds', `d${i}`, encodeEmbedding(v)); }
    })();
    const oracle = (q: Float32Array) => [...rows.entries()].map(([id, v]) => {
      let d = 0, a = 0, b = 0; for (let i = 0; i < 8; i++) { d += q[i] * v[i]; a += q[i] * q[i]; b += v[i] * v[i]; }
      return { id, s: d / Math.sqrt(a * b) };
    }).sort((x, y) => y.s - x.s).slice(0, 10).map((x) => x.id);
    const top = (q: Float32Array) => db.prepare("SELECT doc_id FROM vec_iv WHERE dataset_id='ds' AND doc_id MATCH ? LIMIT 10").pluck().all(encodeEmbedding(q));
    const q = randomF32(r, 8);
    expect(top(q)).toEqual(oracle(q));
    const steps: [string, () => void][] = [
      ['insert', () => { const v = Float32Array.from(q); rows.set('new', v); ins.run('ds', 'new', encodeEmbedding(v)); }],
      ['update', () => { const v = randomF32(r, 8); rows.set('d7', v); db.prepare("UPDATE _vec_vec_iv SET embedding=? WHERE id='d7'").run(encodeEmbedding(v)); }],
      ['delete', () => { rows.delete('new'); db.prepare("DELETE FROM _vec_vec_iv WHERE id='new'").run(); }],
      ['replace', () => { const v = Float32Array.from(q).map((x) => -x); rows.set('d3', v); db.prepare("INSERT OR REPLACE INTO _vec_vec_iv(dataset_id, id, embedding) VALUES ('ds','d3',?)").run(encodeEmbedding(v)); }],
      ['replace then delete (REPLACE fires no delete trigger)', () => {
        const v = randomF32(r, 8); rows.set('d5', v);
        db.prepare("INSERT OR REPLACE INTO _vec_vec_iv(dataset_id, id, embedding) VALUES ('ds','d5',?)").run(encodeEmbedding(v));
        rows.delete('d5'); db.prepare("DELETE FROM _vec_vec_iv WHERE id='d5'").run();
      }],
      ['move out', () => { rows.delete('d9'); db.prepare("UPDATE _vec_vec_iv SET dataset_id='other' WHERE id='d9'").run(); }],
      ['null embedding', () => { rows.delete('d11'); db.prepare("UPDATE _vec_vec_iv SET embedding=NULL WHERE id='d11'").run(); }],
    ];
    for (const [, step] of steps) {
      const s0 = stats(db);
      step();
      const q2 = randomF32(r, 8);
      expect(top(q2)).toEqual(oracle(q2));
      expect(top(q)).toEqual(oracle(q));
      const d = delta(s0, stats(db));
      expect(d.full_builds).toBe(0);
      expect(d.incremental_rows).toBeGreaterThanOrEqual(1);
      expect(d.incremental_rows).toBeLessThanOrEqual(3);
    }
    expect(db.prepare("SELECT count(*) FROM vec_iv WHERE dataset_id='ds' AND doc_id MATCH ?").pluck().get(encodeEmbedding(q))).toBe(rows.size);
  });
});

describe('vec_invalidate', () => {
  test('(process-wide, like the original; a table name unique to this test) name derivation, dataset, and \'\' meaning all datasets; returns the matched count', () => {
    const db = openDb();
    db.exec('CREATE VIRTUAL TABLE vec_only USING vec(doc_id)');
    db.prepare("INSERT INTO _vec_vec_only(dataset_id, id, embedding) VALUES ('a','x',?),('b','y',?)").run(f32blob([1, 0]), f32blob([0, 1]));
    const inv = (s: unknown, d: unknown) => db.prepare('SELECT vec_invalidate(?, ?)').pluck().get(s, d);
    expect(inv('main._vec_vec_only', 'a')).toBe(0);   // nothing cached yet
    match(db, 'a', [1, 0], 'vec_only'); match(db, 'b', [1, 0], 'vec_only');
    expect(inv('main._vec_vec_only', 'a')).toBe(1);
    expect(inv('_vec_vec_only', 'b')).toBe(1);
    expect(inv('vec_only', '')).toBe(2);
    expect(inv('main.shadow_vec_docs', '')).toBe(0);
    expect(inv(null, 'a')).toBe(0);
    expect(inv('vec_only', null)).toBe(0);
    expect(inv(5, 'a')).toBe(0);
    // With the triggers in place every write is tracked: the call does not force a rebuild.
    let s0 = stats(db);
    expect(match(db, 'a', [1, 0], 'vec_only')).toEqual(['x']);
    expect(delta(s0, stats(db)).full_builds).toBe(0);
    // Written behind the triggers' back (dropped), the table is only seen after vec_invalidate.
    db.exec("DROP TRIGGER trg_vec_main__vec_vec_only_ins");
    db.prepare("INSERT INTO _vec_vec_only(dataset_id, id, embedding) VALUES ('a','w',?)").run(f32blob([0, 1]));
    expect(match(db, 'a', [0, 1], 'vec_only')).toEqual(['x']);          // stale: nothing told it
    expect(inv('main._vec_vec_only', 'a')).toBe(1);
    s0 = stats(db);
    expect(match(db, 'a', [0, 1], 'vec_only')).toEqual(['w', 'x']);
    const d = delta(s0, stats(db));
    expect(d.full_builds + d.blob_loads).toBe(1);
  });
});
