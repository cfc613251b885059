#!/usr/bin/env node
// vec0 benchmark: vecsqlite against npm sqlite-vec 0.1.9, in the same process and run.
//   node bench/vec0.js [--scale 0.1] [--queries 30] [--ref-queries 10] [--only NAME]
// For each dataset: insert rate (rows/s, one transaction) next to the floor of the same rows
// into a plain SQLite table (rowid, blob), twice per implementation: into a first table, whose
// memory the process has not used before (on a VM that first touch can cost more than the
// inserts themselves), and, after that table is closed, into a second one (the rate of a
// process that keeps working); then KNN on the second table: median / p95 for k = 10 and 100, and the
// memory-bandwidth roof: dataset bytes / the machine's streaming read bandwidth (the larger of
// one core's and that of one process per core running at once: vec0 splits scans of 16 MiB and
// more over up to 4 threads), measured here with the addon's topK over 256 MiB arrays.
// Plus the fixed per-query overhead on a 16-row table. Prints a table and JSON lines.
'use strict';
const { vs, opt, now, pct, open, makeData, streamBandwidth, parallelBandwidth } = require('./common');

const scale = Number(opt('scale', 1));
const nq = Number(opt('queries', 30));
const nqRef = Number(opt('ref-queries', 10));
const only = opt('only', null);

function runDataset(ds, bw) {
  const n = Math.max(1000, Math.round(ds.n * scale));
  const data = makeData(ds.kind, ds.dims, n, 1);
  const queries = makeData(ds.kind, ds.dims, Math.max(nq, nqRef), 2);
  const wrap = ds.kind === 'int8' ? 'vec_int8(?)' : ds.kind === 'bit' ? 'vec_bit(?)' : '?';
  const col = `v ${ds.kind}[${ds.dims}]${ds.metric ? ` distance_metric=${ds.metric}` : ''}`;
  const out = { name: ds.name, rows: n, dims: ds.dims, kind: ds.kind, roof_ms: (data.bytes / bw) * 1000, impl: {} };
  // Ids and row Buffers made before the timed loops: the insert rates measure the statements,
  // not JavaScript allocating BigInts and Buffer views (the same for every implementation).
  const ids = Array.from({ length: n }, (_, i) => BigInt(i + 1));
  const rows = Array.from({ length: n }, (_, i) => data.row(i));
  {
    // The floor: the same rows, as blobs, into a plain table, in one transaction.
    const db = open('vecsqlite');
    db.exec('create table plain(id integer primary key, v blob)');
    const ins = db.prepare('insert into plain(id, v) values (?, ?)');
    const t0 = now();
    db.transaction(() => {
      for (let i = 0; i < n; i++) ins.run(ids[i], rows[i]);
    })();
    out.plain_insert_rows_per_s = n / ((now() - t0) / 1000);
    db.close();
  }
  const fill = (which) => {
    const db = open(which);
    db.exec(`create virtual table t using vec0(${col})`);
    const ins = db.prepare(`insert into t(rowid, v) values (?, ${wrap})`);
    const t0 = now();
    db.transaction(() => {
      for (let i = 0; i < n; i++) ins.run(ids[i], rows[i]);
    })();
    return { db, rowsPerS: n / ((now() - t0) / 1000) };
  };
  for (const which of ['vecsqlite', 'sqlite-vec-0.1.9']) {
    const first = fill(which);
    first.db.close();
    const { db, rowsPerS } = fill(which);
    const res = { insert_rows_per_s: first.rowsPerS, insert_again_rows_per_s: rowsPerS };
    const count = which === 'vecsqlite' ? nq : nqRef;
    for (const k of [10, 100]) {
      const stmt = db.prepare(`select rowid, distance from t where v match ${wrap} and k = ${k}`);
      // Warm-up, timed on its own: vecsqlite loads the arena (and, for large float32 columns,
      // builds the int8 sketch) on first use.
      const w = now();
      stmt.all(queries.row(0));
      if (k === 10) res.first_query_ms = now() - w;
      const times = [];
      for (let i = 0; i < count; i++) {
        const q = queries.row(i);
        const s = now();
        stmt.all(q);
        times.push(now() - s);
      }
      res[`k${k}`] = { median_ms: pct(times, 0.5), p95_ms: pct(times, 0.95) };
    }
    out.impl[which] = res;
    db.close();
  }
  return out;
}

function overhead() {
  const res = {};
  for (const which of ['vecsqlite', 'sqlite-vec-0.1.9']) {
    const db = open(which);
    db.exec('create virtual table t using vec0(v float[4])');
    const ins = db.prepare('insert into t(rowid, v) values (?, ?)');
    for (let i = 0; i < 16; i++) ins.run(BigInt(i + 1), JSON.stringify([i, i + 1, i + 2, i + 3]));
    const stmt = db.prepare('select rowid, distance from t where v match ? and k = 3');
    const q = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer);
    for (let i = 0; i < 2000; i++) stmt.all(q);
    const reps = 20000;
    const samples = [];
    for (let round = 0; round < 7; round++) {
      const s = now();
      for (let i = 0; i < reps / 7; i++) stmt.all(q);
      samples.push(((now() - s) * 1000) / (reps / 7));
    }
    res[which] = { us_per_query: pct(samples, 0.5) };
    db.close();
  }
  return res;
}

const DATASETS = [
  { name: '1M x 128 float32 l2', kind: 'float', dims: 128, n: 1_000_000, metric: null },
  { name: '100k x 768 float32 cosine', kind: 'float', dims: 768, n: 100_000, metric: 'cosine' },
  { name: '100k x 768 int8 l2', kind: 'int8', dims: 768, n: 100_000, metric: null },
  { name: '100k x 768 bit hamming', kind: 'bit', dims: 768, n: 100_000, metric: null },
];

async function main() {
  const bw1 = streamBandwidth();
  const procs = Math.min(4, require('os').cpus().length);
  const bw = Math.max(bw1, await parallelBandwidth(procs));
  console.log(`isa ${vs.isa()}  streaming read bandwidth: one core ${(bw1 / 1e9).toFixed(1)} GB/s, ${procs} processes at once ${(bw / 1e9).toFixed(1)} GB/s (the roof)  scale ${scale}`);
  console.log(JSON.stringify({ bandwidth_gbps: bw / 1e9, one_core_gbps: bw1 / 1e9, isa: vs.isa(), scale }));
  const oh = overhead();
  console.log(`per-query overhead, 16 rows: vecsqlite ${oh.vecsqlite.us_per_query.toFixed(1)} us, 0.1.9 ${oh['sqlite-vec-0.1.9'].us_per_query.toFixed(1)} us`);
  console.log(JSON.stringify({ overhead: oh }));
  console.log('\ndataset                        rows     impl        insert r/s  again r/s   k=10 med/p95 ms     k=100 med/p95 ms   roof ms  x_0.1.9(k10)  x_roof(k10)  insert x_0.1.9 (again)');
  for (const ds of DATASETS) {
    if (only && !ds.name.includes(only)) continue;
    const r = runDataset(ds, bw);
    const ours = r.impl.vecsqlite;
    const ref = r.impl['sqlite-vec-0.1.9'];
    for (const [name, x] of Object.entries(r.impl)) {
      console.log(
        `${r.name.padEnd(30)} ${String(r.rows).padStart(8)} ${name.padEnd(17).slice(0, 17)} ${x.insert_rows_per_s.toFixed(0).padStart(9)} ${x.insert_again_rows_per_s.toFixed(0).padStart(10)}` +
          `  ${x.k10.median_ms.toFixed(2).padStart(8)}/${x.k10.p95_ms.toFixed(2).padEnd(8)}  ${x.k100.median_ms.toFixed(2).padStart(8)}/${x.k100.p95_ms.toFixed(2).padEnd(8)}` +
          `  ${r.roof_ms.toFixed(2).padStart(7)}  ${name === 'vecsqlite' ? ((ref.k10.median_ms / ours.k10.median_ms).toFixed(1) + 'x').padStart(12) : ''.padStart(12)}` +
          `  ${((x.k10.median_ms / r.roof_ms).toFixed(2) + 'x').padStart(11)}  ${name === 'vecsqlite' ? `${(ours.insert_rows_per_s / ref.insert_rows_per_s).toFixed(2)}x (${(ours.insert_again_rows_per_s / ref.insert_again_rows_per_s).toFixed(2)}x)` : ''}`,
      );
    }
    console.log(`${''.padEnd(30)} ${''.padStart(8)} ${'first query'.padEnd(17)} vecsqlite ${ours.first_query_ms.toFixed(1)} ms, 0.1.9 ${ref.first_query_ms.toFixed(1)} ms (after the inserts: cache load / sketch build)`);
    console.log(`${''.padEnd(30)} ${''.padStart(8)} ${'plain table'.padEnd(17)} ${r.plain_insert_rows_per_s.toFixed(0).padStart(9)}  (insert floor: rowid + blob into an ordinary table)`);
    console.log(JSON.stringify(r));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
