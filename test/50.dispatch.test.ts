// Every SIMD variant available on this machine, forced through VECSQLITE_ISA in a child
// process, agrees with the scalar variant (f32: relative error <= 1e-5, int8 and bits: exact)
// for every dimension 1..1100 and several up to 8192; the scalar variant agrees with a float64
// JS oracle; topK agrees with a brute-force sort.
import { execFileSync } from 'child_process';
import * as path from 'path';
import { distance, topK, isa } from '../src';
import { randomF32, rng } from './helpers/db';

const child = path.join(__dirname, 'helpers', 'isa-child.js');
type ChildOut = { isa: string; f32: number[][]; i8: number[][]; u1: number[]; topk: { d: number; metric: string; indices: number[]; distances: number[] }[]; error?: string };

function run(isaName: string): ChildOut {
  return JSON.parse(execFileSync(process.execPath, [child], { env: { ...process.env, VECSQLITE_ISA: isaName }, maxBuffer: 64 << 20 }).toString());
}

function closeRel(got: number, want: number, scale: number): boolean {
  return Math.abs(got - want) <= 1e-5 * Math.max(Math.abs(want), scale);
}

describe('ISA dispatch', () => {
  const scalar = run('scalar');
  const variants = ['avx2', 'avx512', 'neon'].map((n) => ({ name: n, out: run(n) }));

  test('the scalar variant is always available and reports itself', () => {
    expect(scalar.error).toBeUndefined();
    expect(scalar.isa).toBe('scalar');
  });

  test('the default ISA is the best one available', () => {
    const available = variants.filter((v) => !v.out.error).map((v) => v.name);
    const best = ['avx512', 'avx2', 'neon'].find((n) => available.includes(n)) ?? 'scalar';
    expect(process.env.VECSQLITE_ISA ? true : isa() === best).toBe(true);
    console.log(`ISAs available here: scalar ${available.join(' ')}; skipped: ${variants.filter((v) => v.out.error).map((v) => v.name).join(' ') || 'none'}`);
  });

  for (const name of ['avx2', 'avx512', 'neon']) {
    test(`${name} agrees with scalar (or reports clearly that it is unavailable)`, () => {
      const v = variants.find((x) => x.name === name)!.out;
      if (v.error) {
        expect(v.error).toMatch(new RegExp(`VECSQLITE_ISA=${name} is not available on this (CPU|build)`));
        return;
      }
      expect(v.isa).toBe(name);
      let bad = 0;
      scalar.f32.forEach((row, i) => row.forEach((want, j) => {
        // Dot and cosine can cancel to near zero: measure their error against the typical size
        // of the sum (a random walk of n terms of magnitude ~1/3 grows like sqrt(n) / 3).
        const n = i < 1100 ? i + 1 : [1536, 3072, 4096, 8191, 8192][i - 1100];
        const scale = j === 2 ? 1e-2 : j === 3 ? Math.sqrt(n) / 3 : 0;
        if (!closeRel(v.f32[i][j], want, scale)) bad++;
      }));
      expect(bad).toBe(0);
      expect(v.i8).toEqual(scalar.i8);
      expect(v.u1).toEqual(scalar.u1);
      v.topk.forEach((t, i) => {
        expect(t.indices.length).toBe(scalar.topk[i].indices.length);
        t.distances.forEach((dd, j) => expect(closeRel(dd, scalar.topk[i].distances[j], 1e-3)).toBe(true));
      });
    });
  }
});

describe('distance() and topK() against a float64 oracle', () => {
  const r = rng(99);
  test('float32 metrics', () => {
    for (const n of [1, 5, 16, 33, 768]) {
      const a = randomF32(r, n), b = randomF32(r, n);
      let l2 = 0, l1 = 0, dot = 0, aa = 0, bb = 0;
      for (let i = 0; i < n; i++) { l2 += (a[i] - b[i]) ** 2; l1 += Math.abs(a[i] - b[i]); dot += a[i] * b[i]; aa += a[i] ** 2; bb += b[i] ** 2; }
      expect(closeRel(distance(a, b, 'l2sq'), l2, 0)).toBe(true);
      expect(closeRel(distance(a, b, 'l2'), Math.sqrt(l2), 0)).toBe(true);
      expect(closeRel(distance(a, b, 'l1'), l1, 0)).toBe(true);
      expect(closeRel(distance(a, b, 'dot'), -dot, 0.01)).toBe(true);
      expect(closeRel(distance(a, b, 'cosine'), 1 - dot / Math.sqrt(aa * bb), 0.01)).toBe(true);
    }
  });
  test('int8 and bits are exact', () => {
    const a = new Int8Array([127, -128, 5, 0, -7]);
    const b = new Int8Array([-128, 127, 5, 1, 7]);
    expect(distance(a, b, 'l2sq')).toBe(255 ** 2 * 2 + 1 + 196);
    expect(distance(a, b, 'dot')).toBe(-(127 * -128 + -128 * 127 + 25 - 49));
    expect(distance(new Uint8Array([0b1011, 0xff]), new Uint8Array([0b0001, 0x0f]), 'hamming')).toBe(2 + 4);
  });
  test('topK equals a brute-force sort with ties broken by row number', () => {
    const d = 16, rows = 3000;
    const m = new Float32Array(rows * d);
    for (let i = 0; i < m.length; i++) m[i] = Math.floor(r() * 4); // small integers: many exact ties
    const q = m.slice(0, d);
    for (const k of [0, 1, 10, 257, rows, rows + 5]) {
      const want = Array.from({ length: rows }, (_, i) => {
        let s = 0;
        for (let j = 0; j < d; j++) s += (m[i * d + j] - q[j]) ** 2;
        return { i, s };
      }).sort((x, y) => x.s - y.s || x.i - y.i).slice(0, k);
      const got = topK(q, m, k, 'l2sq');
      expect(Array.from(got.indices)).toEqual(want.map((w) => w.i));
      expect(Array.from(got.distances)).toEqual(want.map((w) => w.s));
    }
  });
  test('bad input gives clear errors', () => {
    expect(() => distance(new Float32Array(2), new Float32Array(3), 'l2')).toThrow('vecsqlite: dimension mismatch: 2 vs 3');
    expect(() => distance(new Float32Array(2), new Float32Array(2), 'hamming')).toThrow("vecsqlite: metric 'hamming' is not defined for Float32Array");
    expect(() => distance(new Float32Array(2), new Float32Array(2), 'manhattan' as never)).toThrow("vecsqlite: unknown metric 'manhattan'");
    expect(() => distance([1, 2] as never, new Float32Array(2))).toThrow('distance: expected a to be a Float32Array, Int8Array or Uint8Array, received an array');
    expect(() => distance(new Float32Array(0), new Float32Array(0))).toThrow('vecsqlite: vectors must not be empty');
    expect(() => topK(new Float32Array(3), new Float32Array(7), 1)).toThrow('vecsqlite: matrix length 7 is not a multiple of the query dimension 3');
    expect(() => topK(new Float32Array(3), new Float32Array(6), -1)).toThrow('vecsqlite: expected k to be a non-negative integer');
    expect(() => topK(new Float32Array(3), new Float32Array(6), 1.5)).toThrow('vecsqlite: expected k to be a non-negative integer');
  });
});
