// Shared pieces of the vec0 benchmarks: options, a seeded PRNG, timers, percentiles, a
// connection with vecsqlite or the original sqlite-vec 0.1.9 loaded, and the machine's
// streaming read bandwidth (the roof a scan is measured against).
'use strict';
const path = require('path');
const Database = require('better-sqlite3');

const root = path.join(__dirname, '..');
const vs = require(root);
const sqliteVec = require('sqlite-vec');

/** `--name value` from the command line, or `def`. */
function opt(name, def) {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
}

/** Deterministic PRNG (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const now = () => Number(process.hrtime.bigint()) / 1e6; // ms
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

/** An in-memory database (page size 8192, as the original's benchmarks) with `which` loaded. */
function open(which) {
  const db = new Database(':memory:');
  db.pragma('page_size = 8192');
  if (which === 'vecsqlite') vs.load(db);
  else sqliteVec.load(db);
  return db;
}

/** One core's streaming read bandwidth (bytes/s): topK (l2sq) over a 256 MiB Float32Array. */
function streamBandwidth() {
  const rows = (256 * 1024 * 1024) / 4 / 128;
  const m = new Float32Array(rows * 128);
  const r = rng(5);
  for (let i = 0; i < m.length; i++) m[i] = r();
  const q = m.subarray(0, 128);
  vs.topK(q, m, 10, 'l2sq');
  let best = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = now();
    vs.topK(q, m, 10, 'l2sq');
    best = Math.min(best, now() - t0);
  }
  return m.byteLength / (best / 1000);
}

/**
 * Aggregate streaming read bandwidth (bytes/s) of `n` processes running topK over their own
 * 256 MiB arrays at the same time (the sum of their rates). Processes, not worker threads: in
 * our measurements workers did not scale, processes do.
 */
async function parallelBandwidth(n, metric = 'l2sq', dim = 128) {
  const { spawn } = require('child_process');
  const src = `
    const vs = require(${JSON.stringify(root)});
    const big = new Float32Array((256 << 20) / 4);
    for (let i = 0; i < big.length; i++) big[i] = (i % 7) * 0.1;
    const q = new Float32Array(${dim}).fill(0.5), m = big.subarray(0, Math.floor(big.length / ${dim}) * ${dim});
    vs.topK(q, m, 10, ${JSON.stringify(metric)});
    process.stdin.once('data', () => {
      const t = process.hrtime.bigint();
      for (let i = 0; i < 8; i++) vs.topK(q, m, 10, ${JSON.stringify(metric)});
      process.stdout.write(String(m.length * 4 * 8 / (Number(process.hrtime.bigint() - t) / 1e9)));
    });
    process.stdout.write('ready');`;
  const ps = Array.from({ length: n }, () => spawn(process.execPath, ['-e', src], { stdio: ['pipe', 'pipe', 'inherit'] }));
  await Promise.all(ps.map((p) => new Promise((r) => p.stdout.once('data', r))));
  const rates = await Promise.all(ps.map((p) => new Promise((r) => {
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.once('exit', () => r(Number(out)));
    p.stdin.end('go');
  })));
  return rates.reduce((a, b) => a + b, 0);
}

// Rows as Buffers in the column's encoding.
function makeData(kind, dims, n, seed) {
  const r = rng(seed);
  const rowBytes = kind === 'float' ? dims * 4 : kind === 'int8' ? dims : dims / 8;
  const all = Buffer.alloc(rowBytes * n);
  if (kind === 'float') {
    const f = new Float32Array(all.buffer, all.byteOffset, dims * n);
    for (let i = 0; i < f.length; i++) f[i] = r() * 2 - 1;
  } else {
    for (let i = 0; i < all.length; i++) all[i] = Math.floor(r() * 256);
  }
  return { rowBytes, row: (i) => all.subarray(i * rowBytes, (i + 1) * rowBytes), bytes: all.length };
}

module.exports = { root, vs, sqliteVec, opt, rng, now, pct, open, makeData, streamBandwidth, parallelBandwidth };
