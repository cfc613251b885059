#!/usr/bin/env node
// Kernel benchmark driver (`npm run bench:kernels`).
//  1. Through N-API, per ISA (each forced with VECSQLITE_ISA in a child process): distance()
//     ns/call and topK() over a block larger than the caches, against a plain JS loop.
//  2. The native per-ISA kernel bench (bench/native/bench_kernels.cc, built with plain cmake),
//     which also measures the streaming-read roof and prints each block kernel's ratio to it.
// Usage: node bench/kernels.js [--block-mib N] [--no-native]
'use strict';
const { execFileSync, spawnSync } = require('child_process');
const os = require('os');
const path = require('path');

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
const blockMib = Number(args[args.indexOf('--block-mib') + 1]) || 256;
const DIMS = [128, 384, 768, 1536];

function child() {
  const vs = require(root);
  const out = { isa: vs.isa(), rows: [] };
  const time = (fn, budgetMs) => {
    let best = Infinity;
    for (let round = 0; round < 3; round++) {
      let calls = 0;
      const t0 = process.hrtime.bigint();
      let el = 0;
      do { fn(); calls++; el = Number(process.hrtime.bigint() - t0) / 1e6; } while (el < budgetMs);
      best = Math.min(best, el / calls);
    }
    return best; // ms per call
  };
  const big = new Float32Array((blockMib << 20) / 4);
  for (let i = 0; i < big.length; i++) big[i] = ((i % 977) - 488) / 512;
  for (const d of DIMS) {
    const a = new Float32Array(d).map((_, i) => (i % 13) / 13);
    const b = new Float32Array(d).map((_, i) => (i % 7) / 7);
    const one = time(() => vs.distance(a, b, 'l2sq'), 50);
    const rows = Math.floor(big.length / d);
    const m = big.subarray(0, rows * d);
    const blk = time(() => vs.topK(a, m, 10, 'l2sq'), 300);
    out.rows.push({ d, oneNs: one * 1e6, blockGBs: (rows * d * 4) / (blk / 1e3) / 1e9, blockNsRow: (blk * 1e6) / rows });
  }
  process.stdout.write(JSON.stringify(out));
}

function jsLoop() {
  const big = new Float32Array((blockMib << 20) / 4);
  for (let i = 0; i < big.length; i++) big[i] = ((i % 977) - 488) / 512;
  const rows = [];
  for (const d of DIMS) {
    const a = new Float32Array(d).map((_, i) => (i % 13) / 13);
    const b = new Float32Array(d).map((_, i) => (i % 7) / 7);
    const l2 = (x, y, off) => { let s = 0; for (let i = 0; i < d; i++) { const t = x[i] - y[off + i]; s += t * t; } return s; };
    let sink = 0;
    let calls = 0; let t0 = process.hrtime.bigint(); let el = 0;
    do { sink += l2(a, b, 0); calls++; el = Number(process.hrtime.bigint() - t0) / 1e6; } while (el < 100);
    const oneNs = (el * 1e6) / calls;
    const n = Math.floor(big.length / d);
    t0 = process.hrtime.bigint();
    let best = Infinity, bi = -1;
    for (let r = 0; r < n; r++) { const s = l2(a, big, r * d); if (s < best) { best = s; bi = r; } }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    rows.push({ d, oneNs, blockGBs: (n * d * 4) / (ms / 1e3) / 1e9, sink: sink + bi });
  }
  return rows;
}

if (process.env.VECSQLITE_BENCH_CHILD) {
  child();
} else {
  const vs = require(root);
  console.log(`# vecsqlite kernels via N-API  date=${new Date().toISOString()}  cpu=${os.cpus()[0].model}  node=${process.version}  default_isa=${vs.isa()}  block=${blockMib} MiB`);
  const js = jsLoop();
  const results = [];
  for (const isa of ['scalar', 'avx2', 'avx512', 'neon']) {
    const r = spawnSync(process.execPath, [__filename, ...args], { env: { ...process.env, VECSQLITE_ISA: isa, VECSQLITE_BENCH_CHILD: '1' }, maxBuffer: 1 << 24 });
    if (r.status !== 0) { console.log(`(${isa}: not available here)`); continue; }
    results.push(JSON.parse(r.stdout.toString()));
  }
  console.log('\nisa      dims  distance() ns/call  x_js   topK block GB/s  ns/row   x_js');
  for (let i = 0; i < DIMS.length; i++) {
    console.log(`js-loop  ${String(DIMS[i]).padStart(4)}  ${js[i].oneNs.toFixed(1).padStart(18)}  1.00  ${js[i].blockGBs.toFixed(2).padStart(15)}`);
    for (const r of results) {
      const x = r.rows[i];
      console.log(`${r.isa.padEnd(8)} ${String(x.d).padStart(5)}  ${x.oneNs.toFixed(1).padStart(18)}  ${(js[i].oneNs / x.oneNs).toFixed(2).padStart(4)}  ${x.blockGBs.toFixed(2).padStart(15)}  ${x.blockNsRow.toFixed(1).padStart(6)}  ${(x.blockGBs / js[i].blockGBs).toFixed(2).padStart(5)}`);
    }
  }
  for (const r of results) for (const x of r.rows) console.log(JSON.stringify({ kind: 'napi', isa: r.isa, ...x }));

  if (!args.includes('--no-native')) {
    const dir = path.join(root, 'build-native');
    try {
      execFileSync('cmake', ['-S', root, '-B', dir, '-DCMAKE_BUILD_TYPE=Release'], { stdio: 'ignore' });
      execFileSync('cmake', ['--build', dir, '--target', 'bench_kernels'], { stdio: 'ignore' });
      console.log('\n' + execFileSync(path.join(dir, 'bench_kernels'), [String(blockMib)]).toString());
    } catch (e) {
      console.log(`\n(native kernel bench not run: ${e.message.split('\n')[0]}; needs cmake and a C++ compiler)`);
    }
  }
}
