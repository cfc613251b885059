// vec_npy_each / vec_npy_file: .npy arrays (BLOB and file) as rows, the same rows as sqlite-vec
// 0.1.9's own vec_npy_each, INSERT … SELECT into vec0, and clear errors for broken files.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { f32blob, openDb, openRef, randomF32, rng, tempDir } from './helpers/db';
import Database from 'better-sqlite3';
import { decodeNpy, encodeNpy } from '../src/bulk';
import { getLoadablePath } from '../src';

// A .npy file built by hand: magic, version, little-endian header length, the header text, data.
function npy(header: string, data: Buffer, version = 1): Buffer {
  const lenBytes = version === 1 ? 2 : 4;
  const pre = Buffer.alloc(8 + lenBytes);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(pre);
  if (version === 1) pre.writeUInt16LE(header.length, 8);
  else pre.writeUInt32LE(header.length, 8);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), data]);
}
const H = (shape: string, descr = '<f4', order = 'False') => `{'descr': '${descr}', 'fortran_order': ${order}, 'shape': ${shape}, }\n`;

const db = openDb();
const rows = (sql: string, ...args: unknown[]) => db.prepare(sql).raw().all(...args);
const errOf = (sql: string, ...args: unknown[]): string => {
  try {
    db.prepare(sql).all(...args);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`expected an error from: ${sql}`);
};

describe('vec_npy_each', () => {
  const m23 = npy(H('(2, 3)'), f32blob([1, 2, 3, 4, 5, 6]));
  test('a (2, 3) BLOB gives rows 0 and 1 as float32 BLOBs', () => {
    expect(rows('select rowid, vec_to_json(vector), typeof(vector) from vec_npy_each(?)', m23)).toEqual([
      [0, '[1.000000,2.000000,3.000000]', 'blob'],
      [1, '[4.000000,5.000000,6.000000]', 'blob'],
    ]);
  });
  test('shape (3,) is one vector, (0,) and (0, 4) are empty; version 2 headers read the same', () => {
    expect(rows('select vec_to_json(vector) from vec_npy_each(?)', npy(H('(3,)'), f32blob([7, 8, 9])))).toEqual([['[7.000000,8.000000,9.000000]']]);
    expect(rows('select count(*) from vec_npy_each(?)', npy(H('(0,)'), Buffer.alloc(0)))).toEqual([[0]]);
    expect(rows('select count(*) from vec_npy_each(?)', npy(H('(0, 4)'), Buffer.alloc(0)))).toEqual([[0]]);
    expect(rows('select rowid, vec_to_json(vector) from vec_npy_each(?)', npy(H('(1, 2)'), f32blob([0.5, -1]), 2))).toEqual([[0, '[0.500000,-1.000000]']]);
  });
  test('the file form streams the same rows, across chunk boundaries (2500 vectors)', () => {
    const dir = tempDir();
    const n = 2500, d = 5;
    const data = randomF32(rng(3), n * d);
    const file = path.join(dir, 'a.npy');
    fs.writeFileSync(file, npy(H(`(${n}, ${d})`), Buffer.from(data.buffer)));
    const got = rows('select rowid, vector from vec_npy_each(vec_npy_file(?))', file) as [number, Buffer][];
    expect(got.length).toBe(n);
    for (const i of [0, 1023, 1024, 2047, 2048, 2499]) {
      expect(got[i][0]).toBe(i);
      expect(Buffer.compare(got[i][1], Buffer.from(data.buffer, i * d * 4, d * 4))).toBe(0);
    }
  });
  test('INSERT … SELECT into vec0, then KNN finds each row', () => {
    const n = 300, d = 8;
    const data = randomF32(rng(9), n * d);
    db.exec(`create virtual table imp using vec0(embedding float[${d}])`);
    db.prepare('insert into imp(rowid, embedding) select rowid + 1, vector from vec_npy_each(?)').run(npy(H(`(${n}, ${d})`), Buffer.from(data.buffer)));
    expect(rows('select count(*) from imp')).toEqual([[n]]);
    for (const i of [0, 150, 299]) {
      const q = Buffer.from(data.buffer, i * d * 4, d * 4);
      expect(rows('select rowid, distance from imp where embedding match ? and k = 1', q)).toEqual([[i + 1, 0]]);
    }
  });
  test('the same rows as sqlite-vec 0.1.9 vec_npy_each', () => {
    const ref = openRef();
    (ref as unknown as { loadExtension(p: string, e: string): void }).loadExtension(require('sqlite-vec').getLoadablePath(), 'sqlite3_vec_numpy_init');
    const blob = npy(H('(4, 3)'), Buffer.from(randomF32(rng(5), 12).buffer));
    const q = 'select rowid, hex(vector) from vec_npy_each(?)';
    expect(rows(q, blob)).toEqual(ref.prepare(q).raw().all(blob));
    ref.close();
  });
  test('a file numpy itself wrote, when python3 + numpy are installed', () => {
    let ok = true;
    const dir = tempDir();
    const file = path.join(dir, 'np.npy');
    try {
      execFileSync('python3', ['-c', `import numpy as np; np.save(${JSON.stringify(file)}, np.arange(12, dtype='<f4').reshape(4, 3) / 4)`], { stdio: 'ignore' });
    } catch {
      ok = false;
    }
    if (!ok) return; // no numpy on this machine: the hand-built headers above cover the format
    expect(rows('select rowid, vec_to_json(vector) from vec_npy_each(vec_npy_file(?)) where rowid = 3', file)).toEqual([[3, '[2.250000,2.500000,2.750000]']]);
    expect(decodeNpy(fs.readFileSync(file)).data[11]).toBe(2.75);
  });
});

describe('entry points', () => {
  test('sqlite3_vec_numpy_init adds exactly vec_npy_file and vec_npy_each; sqlite3_vec_init neither', () => {
    const added = (entry: string) => {
      const bare = new Database(':memory:');
      const before = new Set(bare.prepare("select name from pragma_function_list union select name from pragma_module_list").pluck().all() as string[]);
      (bare as unknown as { loadExtension(p: string, e: string): void }).loadExtension(getLoadablePath(), entry);
      const after = (bare.prepare("select name from pragma_function_list union select name from pragma_module_list").pluck().all() as string[]).filter((x) => !before.has(x));
      bare.close();
      return after.sort();
    };
    expect(added('sqlite3_vec_numpy_init')).toEqual(['vec_npy_each', 'vec_npy_file']);
    expect(added('sqlite3_vec_init').filter((x) => x.startsWith('vec_npy'))).toEqual([]);
  });
});

describe('vec_npy_each errors', () => {
  const good = npy(H('(2, 2)'), f32blob([1, 2, 3, 4]));
  test('too short, no magic, bad header length', () => {
    expect(errOf('select * from vec_npy_each(?)', Buffer.from([0x93, 0x4e]))).toMatch(/^numpy array too short/);
    expect(errOf('select * from vec_npy_each(?)', Buffer.from('not an npy file at all'))).toMatch(/^numpy array does not contain the 'magic' header/);
    const badLen = Buffer.from(good);
    badLen.writeUInt16LE(60000, 8);
    expect(errOf('select * from vec_npy_each(?)', badLen)).toMatch(/^numpy array header length is invalid/);
  });
  test('truncated data and trailing bytes name both sizes', () => {
    expect(errOf('select * from vec_npy_each(?)', good.subarray(0, good.length - 3))).toBe('numpy array error: Expected a data size of 16, found 13 (the file is truncated)');
    expect(errOf('select * from vec_npy_each(?)', Buffer.concat([good, Buffer.alloc(4)]))).toBe('numpy array error: Expected a data size of 16, found 20 (trailing bytes)');
  });
  test('other dtypes, Fortran order, 3-d shapes, malformed headers', () => {
    expect(errOf('select * from vec_npy_each(?)', npy(H('(2, 2)', '<f8'), Buffer.alloc(32)))).toMatch(/Only '<f4' values are supported.*'<f8'/);
    expect(errOf('select * from vec_npy_each(?)', npy(H('(2, 2)', '<f4', 'True'), Buffer.alloc(16)))).toMatch(/Only fortran_order = False/);
    expect(errOf('select * from vec_npy_each(?)', npy(H('(1, 2, 2)'), Buffer.alloc(16)))).toMatch(/only 1- or 2-dimensional arrays.*3 dimensions/);
    expect(errOf('select * from vec_npy_each(?)', npy("['descr']", Buffer.alloc(0)))).toMatch(/numpy header did not start with '\{'/);
    expect(errOf('select * from vec_npy_each(?)', npy("{'descr': '<f4', 'shape': (1, 1), }", Buffer.alloc(4)))).toMatch(/lacks the 'fortran_order' key/);
  });
  test('a missing file, a non-BLOB argument, no argument', () => {
    expect(errOf("select * from vec_npy_each(vec_npy_file('/nonexistent/x.npy'))")).toBe("Could not open numpy file '/nonexistent/x.npy': No such file or directory");
    expect(errOf("select * from vec_npy_each('/tmp/x.npy')")).toMatch(/expected a \.npy BLOB or vec_npy_file\(path\), received TEXT/);
    expect(errOf('select * from vec_npy_each()')).toMatch(/input argument is required/);
  });
  test('a truncated file names the file', () => {
    const dir = tempDir();
    const file = path.join(dir, 'cut.npy');
    fs.writeFileSync(file, good.subarray(0, good.length - 5));
    expect(errOf('select * from vec_npy_each(vec_npy_file(?))', file)).toBe(`numpy array file error: Expected a data size of 16, found 11 (the file is truncated) ('${file}')`);
  });
  test('a failed INSERT … SELECT inserts nothing (a NaN row)', () => {
    db.exec('create virtual table nanimp using vec0(embedding float[2])');
    const bad = npy(H('(3, 2)'), f32blob([1, 2, 3, NaN, 5, 6]));
    expect(() => db.prepare('insert into nanimp(rowid, embedding) select rowid + 1, vector from vec_npy_each(?)').run(bad)).toThrow(/NaN/);
    expect(rows('select count(*) from nanimp')).toEqual([[0]]);
  });
});

describe('encodeNpy / decodeNpy', () => {
  test('encodeNpy writes numpy\'s layout: 64-byte aligned header ending in a newline', () => {
    const b = encodeNpy(new Float32Array([1, 2, 3, 4, 5, 6]), 2, 3);
    const hlen = b.readUInt16LE(8);
    expect((10 + hlen) % 64).toBe(0);
    expect(b.toString('latin1', 10, 10 + hlen).trimEnd()).toBe("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
    expect(b[10 + hlen - 1]).toBe(0x0a);
    expect(b.subarray(10 + hlen)).toEqual(f32blob([1, 2, 3, 4, 5, 6]));
  });
  test('decodeNpy reads hand-built files and names what is wrong', () => {
    const a = decodeNpy(npy(H('(2, 1)'), f32blob([3, 4])));
    expect([a.rows, a.dims, Array.from(a.data)]).toEqual([2, 1, [3, 4]]);
    expect(() => decodeNpy(npy(H('(2, 2)'), f32blob([1, 2, 3])), 'x.npy')).toThrow('x.npy: truncated: shape (2, 2) needs 16 data bytes, the file has 12 (row 1 is incomplete)');
    expect(() => decodeNpy(Buffer.from('hello world'), 'x.npy')).toThrow(/x.npy: not a .npy file/);
    expect(() => decodeNpy(npy(H('(2,)', '<i8'), Buffer.alloc(16)), 'x.npy')).toThrow(/dtype '<i8' is not supported/);
  });
});
