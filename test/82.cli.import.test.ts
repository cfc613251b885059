// `vecsqlite import`: every format stores exactly the file's vectors; bad files (truncated .npy,
// wrong dimensions, NaN rows, non-UTF-8 CSV, truncated .fvecs) fail with one line naming the file
// and line, a non-zero exit code and nothing written; --partial skips and reports bad rows.
import Database from 'better-sqlite3';
import * as fs from 'fs';
import * as path from 'path';
import { openDb, randomF32, rng, tempDir, rowCount } from './helpers/db';
import { cli, cliJson } from './helpers/cli';

const dir = tempDir();
const at = (f: string) => path.join(dir, f);

// .npy written by hand (magic, version 1.0, header length, header, float32 data).
function npyFile(file: string, rows: number, dims: number, data: Float32Array): void {
  const header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${dims}), }\n`;
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}
function fvecs(file: string, rows: Float32Array[], bytes = false): void {
  const parts: Buffer[] = [];
  for (const r of rows) {
    const h = Buffer.alloc(4);
    h.writeInt32LE(r.length);
    parts.push(h, bytes ? Buffer.from(Array.from(r)) : Buffer.from(r.buffer, r.byteOffset, r.byteLength));
  }
  fs.writeFileSync(file, Buffer.concat(parts));
}
function vectorsOf(dbFile: string, table: string): Map<number | string, number[]> {
  const db = openDb(dbFile);
  const m = new Map<number | string, number[]>();
  for (const [id, j] of db.prepare(`select rowid, vec_to_json(embedding) from ${table}`).raw().all() as [number, string][]) m.set(id, JSON.parse(j));
  db.close();
  return m;
}
const count = rowCount;

describe('vecsqlite import', () => {
  const data = randomF32(rng(4), 50 * 8);
  test('.npy with --create: rowids 1..n, exact values, JSON summary', () => {
    npyFile(at('a.npy'), 50, 8, data);
    const r = cliJson(['import', at('a.npy'), '--db', at('a.sqlite'), '--table', 'docs', '--create']);
    expect(r).toMatchObject({ format: 'npy', table: 'docs', rows: 50, dims: 8, skipped: [] });
    const got = vectorsOf(at('a.sqlite'), 'docs');
    expect(got.size).toBe(50);
    expect(got.get(1)).toEqual(Array.from(data.subarray(0, 8)).map((x) => +x.toFixed(6)));
    expect(got.get(50)).toEqual(Array.from(data.subarray(49 * 8)).map((x) => +x.toFixed(6)));
    // A second import appends after the largest rowid.
    cliJson(['import', at('a.npy'), '--db', at('a.sqlite'), '--table', 'docs']);
    expect(count(at('a.sqlite'), 'docs')).toBe(100);
    expect(vectorsOf(at('a.sqlite'), 'docs').get(51)).toEqual(got.get(1));
  });
  test('.fvecs and .bvecs', () => {
    const rows = [new Float32Array([1, 2, 3]), new Float32Array([4, 5, 6])];
    fvecs(at('x.fvecs'), rows);
    fvecs(at('x.bvecs'), [new Float32Array([0, 128, 255])], true);
    cliJson(['import', at('x.fvecs'), '--db', at('v.sqlite'), '--table', 'f', '--create']);
    cliJson(['import', at('x.bvecs'), '--db', at('v.sqlite'), '--table', 'b', '--create']);
    expect([...vectorsOf(at('v.sqlite'), 'f').entries()]).toEqual([[1, [1, 2, 3]], [2, [4, 5, 6]]]);
    expect([...vectorsOf(at('v.sqlite'), 'b').entries()]).toEqual([[1, [0, 128, 255]]]);
  });
  test('JSON Lines with ids and texts (+ an FTS5 index) and CSV with a header and quoted texts', () => {
    fs.writeFileSync(at('d.jsonl'), '{"id": 7, "vector": [1, 0], "text": "red apple"}\n\n{"id": 9, "embedding": [0, 1], "content": "green pear"}\n');
    cliJson(['import', at('d.jsonl'), '--db', at('t.sqlite'), '--table', 'j', '--create', '--fts', 'j_fts']);
    expect([...vectorsOf(at('t.sqlite'), 'j').entries()]).toEqual([[7, [1, 0]], [9, [0, 1]]]);
    const db = new Database(at('t.sqlite'));
    expect(db.prepare("select rowid from j_fts where j_fts match 'pear'").pluck().all()).toEqual([9]);
    db.close();
    fs.writeFileSync(at('d.csv'), 'id,text,x,y\n3,"plum, ripe",0.5,-1\n4,kiwi,2,1e-3\n');
    cliJson(['import', at('d.csv'), '--db', at('t.sqlite'), '--table', 'c', '--create']);
    expect([...vectorsOf(at('t.sqlite'), 'c').entries()]).toEqual([[3, [0.5, -1]], [4, [2, 0.001]]]);
    fs.writeFileSync(at('plain.csv'), '1,2\n3,4\n');
    cliJson(['import', at('plain.csv'), '--db', at('t.sqlite'), '--table', 'p', '--create']);
    expect([...vectorsOf(at('t.sqlite'), 'p').entries()]).toEqual([[1, [1, 2]], [2, [3, 4]]]);
  });
  test('text ids create a text primary key', () => {
    fs.writeFileSync(at('s.jsonl'), '{"id": "doc-a", "vector": [1, 2]}\n{"id": "doc-b", "vector": [3, 4]}\n');
    cliJson(['import', at('s.jsonl'), '--db', at('s.sqlite'), '--table', 's', '--create']);
    const db = openDb(at('s.sqlite'));
    expect(db.prepare('select id, vec_to_json(embedding) from s order by id').raw().all()).toEqual([['doc-a', '[1.000000,2.000000]'], ['doc-b', '[3.000000,4.000000]']]);
    db.close();
  });

  describe('bad files: one line naming file and line, exit 2, nothing written', () => {
    const target = at('bad.sqlite');
    beforeAll(() => {
      cliJson(['import', at('a.npy'), '--db', target, '--table', 't', '--create']);
    });
    const fails = (file: string, expected: RegExp, extra: string[] = []) => {
      const r = cli(['import', file, '--db', target, '--table', 't', ...extra]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(expected);
      expect(count(target, 't')).toBe(50);
    };
    test('truncated .npy', () => {
      const full = fs.readFileSync(at('a.npy'));
      fs.writeFileSync(at('cut.npy'), full.subarray(0, full.length - 7));
      fails(at('cut.npy'), new RegExp(`^vecsqlite: ${at('cut.npy')}: truncated: shape \\(50, 8\\) needs 1600 data bytes, the file has 1593 \\(row 49 is incomplete\\)$`));
      fs.writeFileSync(at('hdr.npy'), full.subarray(0, 20));
      fails(at('hdr.npy'), /hdr\.npy: truncated header/);
    });
    test('wrong dimensions for the table, and inside a file', () => {
      npyFile(at('d4.npy'), 2, 4, new Float32Array(8));
      fails(at('d4.npy'), /d4\.npy: wrong dimensions: the file has 4-dimensional vectors, t\.embedding is float\[8\]/);
      fs.writeFileSync(at('mixed.jsonl'), '[1,2,3,4,5,6,7,8]\n[1,2,3]\n');
      fails(at('mixed.jsonl'), /mixed\.jsonl: line 2: 3 dimensions, expected 8$/);
      fails(at('a.npy'), /a\.npy: row 0: 8 dimensions, expected 16$/, ['--dim', '16']);
    });
    test('NaN rows: .npy, JSON null, CSV nan', () => {
      const withNaN = Float32Array.from(data);
      withNaN[8 * 20 + 5] = NaN;
      npyFile(at('nan.npy'), 50, 8, withNaN);
      fails(at('nan.npy'), /nan\.npy: row 20: element 5 is NaN$/);
      fs.writeFileSync(at('nan.jsonl'), '[1,2,3,4,5,6,7,8]\n[1,2,3,null,5,6,7,8]\n');
      fails(at('nan.jsonl'), /nan\.jsonl: line 2: element 3 is NaN$/);
      fs.writeFileSync(at('nan.csv'), '1,2,3,4,5,6,7,8\n1,2,3,4,5,6,7,nan\n');
      fails(at('nan.csv'), /nan\.csv: line 2: element 7 is NaN$/);
    });
    test('non-UTF-8 CSV names the line', () => {
      fs.writeFileSync(at('latin1.csv'), Buffer.concat([Buffer.from('id,text,a,b,c,d,e,f,g,h\n1,ok,1,2,3,4,5,6,7,8\n2,caf'), Buffer.from([0xe9]), Buffer.from(',1,2,3,4,5,6,7,8\n')]));
      fails(at('latin1.csv'), /latin1\.csv: line 3: not valid UTF-8/);
    });
    test('truncated .fvecs, malformed JSON, unknown extension, missing file', () => {
      fvecs(at('t.fvecs'), [new Float32Array(8), new Float32Array(8)]);
      const b = fs.readFileSync(at('t.fvecs'));
      fs.writeFileSync(at('t.fvecs'), b.subarray(0, b.length - 2));
      fails(at('t.fvecs'), /t\.fvecs: vector 1: truncated \(needs 32 bytes of data, 30 left\)/);
      fs.writeFileSync(at('bad.jsonl'), '[1,2,3,4,5,6,7,8]\n{"vector": [1,2,\n');
      fails(at('bad.jsonl'), /bad\.jsonl: line 2: invalid JSON/);
      fails(at('x.arrow'), /unknown file type '\.arrow'/);
      fails(at('missing.npy'), /missing\.npy: no such file/);
    });
    test('--partial skips the bad rows, imports the rest and lists what it skipped', () => {
      const r = cliJson(['import', at('nan.npy'), '--db', target, '--table', 't', '--partial']);
      expect(r).toMatchObject({ rows: 49, skipped: [{ where: 'row 20', reason: 'element 5 is NaN' }] });
      expect(count(target, 't')).toBe(99);
      const text = cli(['import', at('nan.jsonl'), '--db', target, '--table', 't', '--partial']);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/skipped 1 bad rows:\n {2}.*nan\.jsonl: line 2: element 3 is NaN/);
    });
    test('a missing table without --create', () => {
      const r = cli(['import', at('a.npy'), '--db', target, '--table', 'nope']);
      expect([r.code, r.stderr.trim()]).toEqual([2, 'vecsqlite: no such table: nope (pass --create to create it)']);
    });
  });
  test('help lists the commands', () => {
    const r = cli(['--help']);
    for (const c of ['import', 'search', 'index', 'bench', 'demo', 'sync']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
  });
});
