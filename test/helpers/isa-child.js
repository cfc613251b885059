// Child process for 50.dispatch: computes a fixed battery of distances with whatever ISA
// VECSQLITE_ISA selects and prints {isa, values} as JSON (or {error} if the ISA is unavailable).
'use strict';
const path = require('path');
let vs;
try {
  vs = require(path.join(__dirname, '..', '..'));
  vs.isa();
} catch (e) {
  process.stdout.write(JSON.stringify({ error: e.message }));
  process.exit(0);
}
let a = (Number(process.env.SEED) || 12345) >>> 0;
function rand() {
  a = (a + 0x6d2b79f5) >>> 0;
  let t = a;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const dims = [];
for (let d = 1; d <= 1100; d++) dims.push(d);
dims.push(1536, 3072, 4096, 8191, 8192);
const out = { isa: vs.isa(), f32: [], i8: [], u1: [], topk: [] };
for (const d of dims) {
  const fa = new Float32Array(d + 1), fb = new Float32Array(d + 1);
  for (let i = 0; i <= d; i++) { fa[i] = rand() * 2 - 1; fb[i] = rand() * 2 - 1; }
  // Offset views: the kernels must not assume the start of a buffer.
  const x = fa.subarray(1), y = fb.subarray(1);
  out.f32.push(['l2sq', 'l2', 'cosine', 'dot', 'l1'].map((m) => vs.distance(x, y, m)));
  const ib = Buffer.alloc(2 * d + 1);
  for (let i = 0; i < ib.length; i++) ib[i] = Math.floor(rand() * 256);
  // Byte offset 1: deliberately unaligned.
  const ia = new Int8Array(ib.buffer, ib.byteOffset + 1, d), ibb = new Int8Array(ib.buffer, ib.byteOffset + 1 + d, d);
  out.i8.push(['l2sq', 'dot', 'cosine'].map((m) => vs.distance(ia, ibb, m)));
  const ua = new Uint8Array(ib.buffer, ib.byteOffset + 1, d), ub = new Uint8Array(ib.buffer, ib.byteOffset + 1 + d, d);
  out.u1.push(vs.distance(ua, ub, 'hamming'));
}
for (const d of [3, 96, 385]) {
  const rows = 2000;
  const m = new Float32Array(rows * d);
  for (let i = 0; i < m.length; i++) m[i] = Math.round((rand() * 2 - 1) * 8) / 8; // coarse values: ties occur
  const q = m.slice(7 * d, 8 * d);
  for (const metric of ['l2sq', 'cosine', 'l1', 'dot']) {
    const r = vs.topK(q, m, 25, metric);
    out.topk.push({ d, metric, indices: Array.from(r.indices), distances: Array.from(r.distances) });
  }
}
process.stdout.write(JSON.stringify(out));
