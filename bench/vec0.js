#!/usr/bin/env node
// vec0 benchmark: vecsqlite against npm sqlite-vec 0.1.9, in the same run.
//   node bench/vec0.js [--scale 0.1] [--queries 30] [--ref-queries 10] [--fresh-reps 3] [--only NAME]
// For each dataset: the insert rate (rows/s, one transaction) of vecsqlite, 0.1.9 and the floor,
// the same rows as (rowid, blob) in a plain SQLite table, measured two ways:
//  - fresh process: each implementation inserts into a new table in a child process of its own,
//    `--fresh-reps` times, in rotating order (on these VMs memory a process has not used before
//    can cost more to touch than the inserts themselves, and how much depends on what ran just
//    before, so no implementation always goes first); the median of its runs;
//  - again: in this process, into a second table after a first one was filled and closed (the
//    rate of a process that keeps working).
// Then KNN on the second table: median / p95 for k = 10 and 100, and the memory-bandwidth roof:
// dataset bytes / the machine's streaming read bandwidth (the larger of one core's and that of
// one process per core running at once: vec0 splits scans of 16 MiB and more over up to 4
// threads), measured here with the addon's topK over 256 MiB arrays.
// Plus the fixed per-query overhead on a 16-row table. Prints a table and JSON lines.
'use strict';
const { spawnSync } = require('child_process');
const { vs, opt, now, pct, open, makeData, streamBandwidth, parallelBandwidth } = require('./common');

const scale = Number(opt('scale', 1));
const nq = Number(opt('queries', 30));
const nqRef = Number(opt('ref-queries', 10));
const freshReps = Math.max(1, Number(opt('fresh-reps', 3)));
const only = opt('only', null);
const IMPLS = ['plain', 'vecsqlite', 'sqlite-vec-0.1.9'];

function rowsFor(ds) {
  return Math.max(1000, Math.round(ds.n * scale));
}

// The SQL a row or query vector is bound through: int8 and bit blobs need their type said.
function bindOf(ds) {
  return ds.kind === 'int8' ? 'vec_int8(?)' : ds.kind === 'bit' ? 'vec_bit(?)' : '?';
}

// Creates the table `t` for `which` on a new connection; returns it with its insert statement.
function table(ds, which) {
  const db = open(which === 'plain' ? 'vecsqlite' : which);
  if (which === 'plain') {
    db.exec('create table t(id integer primary key, v blob)');
    return { db, ins: db.prepare('insert into t(id, v) values (?, ?)') };
  }
  const col = `v ${ds.kind}[${ds.dims}]${ds.metric ? ` distance_metric=${ds.metric}` : ''}`;
  db.exec(`create virtual table t using vec0(${col})`);
  return { db, ins: db.prepare(`insert into t(rowid, v) values (?, ${bindOf(ds)})`) };
}

// Ids and row Buffers made before the timed loops: the insert rates measure the statements,
// not JavaScript allocating BigInts and Buffer views (the same for every implementation).
function insertInputs(ds, n) {
  const data = makeData(ds.kind, ds.dims, n, 1);
  return {
    data,
    ids: Array.from({ length: n }, (_, i) => BigInt(i + 1)),
    rows: Array.from({ length: n }, (_, i) => data.row(i)),
  };
}

// Fills a new table for `which` in one transaction; returns it and the rate in rows/s.
function fill(ds, which, { ids, rows }) {
  const { db, ins } = table(ds, which);
  const n = ids.length;
  const t0 = now();
  db.transaction(() => {
    for (let i = 0; i < n; i++) ins.run(ids[i], rows[i]);
  })();
  return { db, rowsPerS: n / ((now() - t0) / 1000) };
}

// Fresh-process insert rates: each run in a new child process, the order rotating per round.
function freshInserts(ds) {
  const runs = Object.fromEntries(IMPLS.map((w) => [w, []]));
  for (let rep = 0; rep < freshReps; rep++) {
    for (let j = 0; j < IMPLS.length; j++) {
      const which = IMPLS[(rep + j) % IMPLS.length];
      const r = spawnSync(process.execPath, [__filename, '--scale', String(scale), '--child-insert', JSON.stringify({ ds, which })], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      if (r.status !== 0) throw new Error(`fresh-process insert (${which}) failed: exit ${r.status}`);
      runs[which].push(JSON.parse(r.stdout).rows_per_s);
    }
  }
  return Object.fromEntries(IMPLS.map((w) => [w, { median: pct(runs[w], 0.5), runs: runs[w] }]));
}

function runDataset(ds, bw) {
  const n = rowsFor(ds);
  const fresh = freshInserts(ds);
  const input = insertInputs(ds, n);
  const queries = makeData(ds.kind, ds.dims, Math.max(nq, nqRef), 2);
  const wrap = bindOf(ds);
  const out = { name: ds.name, rows: n, dims: ds.dims, kind: ds.kind, roof_ms: (input.data.bytes / bw) * 1000, impl: {} };
  for (const which of IMPLS) {
    fill(ds, which, input).db.close();
    const { db, rowsPerS } = fill(ds, which, input);
    const res = { insert_fresh_rows_per_s: fresh[which].median, insert_fresh_runs: fresh[which].runs, insert_again_rows_per_s: rowsPerS };
    out.impl[which] = res;
    if (which === 'plain') {
      db.close();
      continue;
    }
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
  console.log('\ndataset                        rows     impl              fresh r/s  again r/s   k=10 med/p95 ms     k=100 med/p95 ms   roof ms  x_0.1.9(k10)  x_roof(k10)  insert x_0.1.9 fresh (again)');
  for (const ds of DATASETS) {
    if (only && !ds.name.includes(only)) continue;
    const r = runDataset(ds, bw);
    const ref = r.impl['sqlite-vec-0.1.9'];
    const ratio = (x) => `${(x.insert_fresh_rows_per_s / ref.insert_fresh_rows_per_s).toFixed(2)}x (${(x.insert_again_rows_per_s / ref.insert_again_rows_per_s).toFixed(2)}x)`;
    const ours = r.impl.vecsqlite;
    for (const [name, x] of Object.entries(r.impl)) {
      const head = `${r.name.padEnd(30)} ${String(r.rows).padStart(8)} ${name.padEnd(17).slice(0, 17)} ${x.insert_fresh_rows_per_s.toFixed(0).padStart(9)} ${x.insert_again_rows_per_s.toFixed(0).padStart(10)}`;
      if (name === 'plain') {
        console.log(`${head}  (the insert floor: rowid + blob in an ordinary table)${''.padEnd(44)}${ratio(x)}`);
        continue;
      }
      console.log(
        head +
          `  ${x.k10.median_ms.toFixed(2).padStart(8)}/${x.k10.p95_ms.toFixed(2).padEnd(8)}  ${x.k100.median_ms.toFixed(2).padStart(8)}/${x.k100.p95_ms.toFixed(2).padEnd(8)}` +
          `  ${r.roof_ms.toFixed(2).padStart(7)}  ${name === 'vecsqlite' ? ((ref.k10.median_ms / ours.k10.median_ms).toFixed(1) + 'x').padStart(12) : ''.padStart(12)}` +
          `  ${((x.k10.median_ms / r.roof_ms).toFixed(2) + 'x').padStart(11)}  ${name === 'vecsqlite' ? ratio(x) : ''}`,
      );
    }
    console.log(`${''.padEnd(30)} ${''.padStart(8)} ${'first query'.padEnd(17)} vecsqlite ${ours.first_query_ms.toFixed(1)} ms, 0.1.9 ${ref.first_query_ms.toFixed(1)} ms (after the inserts: cache load / sketch build)`);
    console.log(JSON.stringify(r));
  }
}

// Child mode (freshInserts): one fill in this new process; prints its rate as JSON.
function childInsert(spec) {
  const { ds, which } = JSON.parse(spec);
  const { db, rowsPerS } = fill(ds, which, insertInputs(ds, rowsFor(ds)));
  db.close();
  process.stdout.write(JSON.stringify({ rows_per_s: rowsPerS }));
}

const child = opt('child-insert', null);
if (child !== null) childInsert(child);
else
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
