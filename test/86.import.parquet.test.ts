// `vecsqlite import` of Parquet files (hyparquet): list<float> / list<double> vector columns and
// float32 bytes in BYTE_ARRAY / FIXED_LEN_BYTE_ARRAY columns store exactly the file's values;
// integer and string ids, texts into FTS5; bad files (NaN rows, wrong dimensions, ambiguous
// columns, other codecs, a truncated file) fail with one line naming the file (and row), a
// non-zero exit code and nothing written. Fixtures are written at test time by hyparquet-writer.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { openDb, randomF32, rng, tempDir, rowCount } from './helpers/db';
import { cli, cliJson } from './helpers/cli';

const dir = tempDir();
const at = (f: string) => path.join(dir, f);

type Kind = 'list-float' | 'list-double' | 'f32-bytes' | 'f32-fixed' | 'int32' | 'int64' | 'double' | 'string';
interface Col { name: string; kind: Kind; data: unknown[] }

/** Writes a Parquet file through test/helpers/write-parquet.mjs (hyparquet-writer is an ES module). */
function parquet(file: string, columns: Col[], extra: { codec?: string; rowGroupSize?: number } = {}): string {
  const enc = (x: unknown): unknown => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : Array.isArray(x) ? x.map(enc) : x);
  const spec = { file: at(file), ...extra, columns: columns.map((c) => ({ ...c, data: c.data.map(enc) })) };
  const r = spawnSync(process.execPath, [path.join(__dirname, 'helpers', 'write-parquet.mjs')], { input: JSON.stringify(spec), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`write-parquet failed: ${r.stderr}`);
  return at(file);
}

const rowsOf = (data: Float32Array, dims: number): number[][] => Array.from({ length: data.length / dims }, (_, i) => Array.from(data.subarray(i * dims, (i + 1) * dims)));

/** The stored vectors, exactly (float32 BLOBs), by rowid or by text id. */
function stored(dbFile: string, table: string, key = 'rowid'): Map<number | string, number[]> {
  const db = openDb(dbFile);
  const m = new Map<number | string, number[]>();
  for (const [id, b] of db.prepare(`select ${key}, embedding from ${table} order by ${key}`).raw().all() as [number | string, Buffer][]) {
    m.set(id, Array.from(new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength))));
  }
  db.close();
  return m;
}
const count = rowCount;

describe('vecsqlite import of Parquet files', () => {
  const DIMS = 16;
  const N = 120;
  const data = randomF32(rng(86), N * DIMS);
  const vectors = rowsOf(data, DIMS);
  const ids = vectors.map((_, i) => 1000 + 3 * i);

  test('list<float> with integer ids into a new table: exact values, KNN equal to a brute force', () => {
    // Several row groups, snappy (the writer's default).
    const file = parquet('ints.parquet', [{ name: 'id', kind: 'int64', data: ids }, { name: 'embedding', kind: 'list-float', data: vectors }], { rowGroupSize: 50 });
    const r = cliJson(['import', file, '--db', at('a.sqlite'), '--table', 'docs', '--create']);
    expect(r).toMatchObject({ format: 'parquet', table: 'docs', rows: N, dims: DIMS, skipped: [] });
    const got = stored(at('a.sqlite'), 'docs');
    expect([...got.keys()]).toEqual(ids);
    ids.forEach((id, i) => expect(got.get(id)).toEqual(vectors[i]));
    const db = openDb(at('a.sqlite'));
    const q = randomF32(rng(7), DIMS);
    const knn = db.prepare('select rowid, distance from docs where embedding match ? and k = 10 order by distance').raw().all(Buffer.from(q.buffer)) as [number, number][];
    const oracle = vectors.map((v, i) => ({ id: ids[i], d: Math.sqrt(v.reduce((s, x, j) => s + (x - q[j]) ** 2, 0)) })).sort((a, b) => a.d - b.d).slice(0, 10);
    expect(knn.map((x) => x[0])).toEqual(oracle.map((x) => x.id));
    knn.forEach(([, d], i) => expect(d).toBeCloseTo(oracle[i].d, 4));
    db.close();
  });

  test('string ids (a text primary key), uncompressed, int32 ids and no ids', () => {
    const names = vectors.slice(0, 5).map((_, i) => `doc-${String.fromCharCode(97 + i)}`);
    const file = parquet('str.parquet', [{ name: 'id', kind: 'string', data: names }, { name: 'vector', kind: 'list-float', data: vectors.slice(0, 5) }], { codec: 'UNCOMPRESSED' });
    cliJson(['import', file, '--db', at('s.sqlite'), '--table', 's', '--create']);
    const got = stored(at('s.sqlite'), 's', 'id');
    expect([...got.entries()]).toEqual(names.map((n, i) => [n, vectors[i]]));
    parquet('i32.parquet', [{ name: 'key', kind: 'int32', data: [7, 9] }, { name: 'emb', kind: 'list-float', data: [[1, 2], [3, 4]] }]);
    cliJson(['import', at('i32.parquet'), '--db', at('s.sqlite'), '--table', 'k', '--create', '--id-column', 'key']);
    expect([...stored(at('s.sqlite'), 'k').entries()]).toEqual([[7, [1, 2]], [9, [3, 4]]]);
    // Without an id column, rowids follow the table's largest.
    cliJson(['import', at('i32.parquet'), '--db', at('s.sqlite'), '--table', 'k']);
    expect([...stored(at('s.sqlite'), 'k').keys()]).toEqual([7, 9, 10, 11]);
  });

  test('a text column with --fts (default name and --text-column)', () => {
    const file = parquet('texts.parquet', [
      { name: 'id', kind: 'int32', data: [1, 2, 3] },
      { name: 'embedding', kind: 'list-float', data: [[1, 0], [0, 1], [1, 1]] },
      { name: 'text', kind: 'string', data: ['red apple', 'green pear', null] },
      { name: 'title', kind: 'string', data: ['Fruit one', 'Fruit two', 'Kiwi'] },
    ]);
    cliJson(['import', file, '--db', at('t.sqlite'), '--table', 'j', '--create', '--fts', 'j_fts']);
    cliJson(['import', file, '--db', at('t.sqlite'), '--table', 'h', '--create', '--fts', 'h_fts', '--text-column', 'title']);
    const db = openDb(at('t.sqlite'));
    expect(db.prepare("select rowid from j_fts where j_fts match 'pear'").pluck().all()).toEqual([2]);
    expect(db.prepare("select rowid from h_fts where h_fts match 'kiwi'").pluck().all()).toEqual([3]);
    const hits = db.prepare("select rowid from vec_hybrid('j_fts', 'j', 'apple', ?, 2, '{}') order by score desc").pluck().all(Buffer.from(new Float32Array([1, 0]).buffer));
    expect(hits[0]).toBe(1);
    db.close();
  });

  test('float32 bytes in BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY columns, and list<double>', () => {
    const some = vectors.slice(0, 20);
    parquet('bin.parquet', [{ name: 'id', kind: 'int32', data: ids.slice(0, 20) }, { name: 'blob', kind: 'f32-bytes', data: some }]);
    cliJson(['import', at('bin.parquet'), '--db', at('b.sqlite'), '--table', 'b', '--create']);
    expect([...stored(at('b.sqlite'), 'b').values()]).toEqual(some);
    parquet('fixed.parquet', [{ name: 'emb', kind: 'f32-fixed', data: some }]);
    cliJson(['import', at('fixed.parquet'), '--db', at('b.sqlite'), '--table', 'f', '--create']);
    expect([...stored(at('b.sqlite'), 'f').values()]).toEqual(some);
    // Doubles are rounded to float32 as stored.
    const doubles = [[0.1, 0.2, 1 / 3], [-2.5, 1e-3, 7]];
    parquet('dbl.parquet', [{ name: 'embedding', kind: 'list-double', data: doubles }]);
    cliJson(['import', at('dbl.parquet'), '--db', at('b.sqlite'), '--table', 'd', '--create', '--format', 'parquet']);
    expect([...stored(at('b.sqlite'), 'd').values()]).toEqual(doubles.map((v) => v.map(Math.fround)));
  });

  describe('bad files: one line naming the file (and the row), exit 2, nothing written', () => {
    const target = at('bad.sqlite');
    beforeAll(() => {
      parquet('base.parquet', [{ name: 'embedding', kind: 'list-float', data: vectors.slice(0, 30) }]);
      cliJson(['import', at('base.parquet'), '--db', target, '--table', 't', '--create']);
    });
    const fails = (file: string, expected: RegExp, extra: string[] = []) => {
      const r = cli(['import', file, '--db', target, '--table', 't', ...extra]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(expected);
      expect(count(target, 't')).toBe(30);
    };

    test('a NaN row names the row; --partial skips it and reports it', () => {
      const bad = vectors.slice(0, 30).map((v) => v.slice());
      bad[17][4] = NaN;
      bad[21][0] = Infinity;
      parquet('nan.parquet', [{ name: 'embedding', kind: 'list-float', data: bad }], { rowGroupSize: 10 });
      fails(at('nan.parquet'), new RegExp(`^vecsqlite: ${at('nan.parquet')}: row 17: element 4 is NaN$`));
      const r = cliJson(['import', at('nan.parquet'), '--db', target, '--table', 't', '--partial']);
      expect(r).toMatchObject({ rows: 28, skipped: [{ where: 'row 17', reason: 'element 4 is NaN' }, { where: 'row 21', reason: 'element 0 is not finite' }] });
      expect(count(target, 't')).toBe(58);
      const db = openDb(target);
      db.exec('delete from t where rowid > 30');
      db.close();
    });

    test('wrong dimensions for the table, inside a file, and against --dim', () => {
      parquet('d8.parquet', [{ name: 'embedding', kind: 'list-float', data: [[1, 2, 3, 4, 5, 6, 7, 8]] }]);
      fails(at('d8.parquet'), /d8\.parquet: wrong dimensions: the file has 8-dimensional vectors, t\.embedding is float\[16\]$/);
      const ragged = vectors.slice(0, 20).map((v) => v.slice());
      ragged[17] = ragged[17].slice(0, 15);
      parquet('ragged.parquet', [{ name: 'embedding', kind: 'list-float', data: ragged }]);
      fails(at('ragged.parquet'), /ragged\.parquet: row 17: 15 dimensions, expected 16$/);
      fails(at('base.parquet'), /base\.parquet: row 0: 16 dimensions, expected 32$/, ['--dim', '32']);
    });

    test('ambiguous, missing or unusable vector columns list the columns', () => {
      parquet('two.parquet', [{ name: 'id', kind: 'int32', data: [1] }, { name: 'a', kind: 'list-float', data: [vectors[0]] }, { name: 'b', kind: 'f32-bytes', data: [vectors[0]] }]);
      fails(at('two.parquet'), /two\.parquet: which column holds the vectors\? a, b could \(pass --vector-column\); the columns are id \(INT32\), a \(list<float>\), b \(binary\)$/);
      fails(at('two.parquet'), /two\.parquet: no column "c" \(--vector-column\); the columns are id \(INT32\), a \(list<float>\), b \(binary\)$/, ['--vector-column', 'c']);
      fails(at('two.parquet'), /two\.parquet: column "id" is INT32, not a list of float \/ double/, ['--vector-column', 'id']);
      // With the choice made, it imports.
      cliJson(['import', at('two.parquet'), '--db', at('two.sqlite'), '--table', 'two', '--create', '--vector-column', 'b']);
      expect([...stored(at('two.sqlite'), 'two').entries()]).toEqual([[1, vectors[0]]]);
      parquet('none.parquet', [{ name: 'id', kind: 'int32', data: [1] }, { name: 'x', kind: 'double', data: [0.5] }]);
      fails(at('none.parquet'), /none\.parquet: no vector column \(a list of float \/ double, or a binary column of float32 values\); the columns are id \(INT32\), x \(DOUBLE\)$/);
    });

    test('a codec other than snappy / uncompressed is refused by name', () => {
      parquet('zstd.parquet', [{ name: 'embedding', kind: 'list-float', data: vectors.slice(0, 3) }], { codec: 'ZSTD' });
      fails(at('zstd.parquet'), /zstd\.parquet: column "embedding" is compressed with ZSTD, which vecsqlite does not read \(SNAPPY or UNCOMPRESSED only/);
    });

    test('a truncated file: one line naming the file, table untouched', () => {
      const full = fs.readFileSync(at('base.parquet'));
      fs.writeFileSync(at('cut.parquet'), full.subarray(0, full.length >> 1));
      fails(at('cut.parquet'), new RegExp(`^vecsqlite: ${at('cut.parquet')}: not a Parquet file, or truncated \\(`));
      fs.writeFileSync(at('empty.parquet'), '');
      fails(at('empty.parquet'), /empty\.parquet: not a Parquet file, or truncated/);
      // The footer intact, the data pages overwritten: the rows cannot be read.
      const holed = Buffer.from(full);
      holed.fill(0xff, 4, 200);
      fs.writeFileSync(at('holed.parquet'), holed);
      fails(at('holed.parquet'), new RegExp(`^vecsqlite: ${at('holed.parquet')}: rows 0-29: cannot read the Parquet data`));
    });
  });
});
