#!/usr/bin/env node
// Batch search against a loop of single queries, same process, same table, same queries:
// exact KNN (k = 10) over a vec0 float32 table, through SQL on better-sqlite3. Run
// `npm run build:ts` first.
//
//   node bench/batch.js [--n 100000] [--dim 768] [--metric cosine] [--batches 1,8,16,64,256] [--reps 5] [--json out.json]
//
// For each batch size b: the time of b single queries (`where v match ? and k = 10`, one after
// another) and of one `knnBatch(db, 't', queries, { k: 10 })` call (vec_knn_batch) over the same
// b vectors; both checked to return the same rows and distances; the median of --reps rounds,
// the two alternating. Throughput = queries per second; ratio = batch / singles.
'use strict';
const fs = require('fs');
const Database = require('better-sqlite3');
const { vs, opt, rng, now } = require('./common');

const n = Number(opt('n', 100000));
const dim = Number(opt('dim', 768));
const metric = opt('metric', 'cosine');
const sizes = String(opt('batches', '1,8,16,64,256')).split(',').map(Number);
const reps = Number(opt('reps', 5));
const K = 10;

const r = rng(42);
const data = new Float32Array(n * dim);
for (let i = 0; i < data.length; i++) data[i] = r() * 2 - 1;
const db = new Database(':memory:');
vs.load(db);
db.exec(`create virtual table t using vec0(v float[${dim}] distance_metric=${metric})`);
vs.bulkInsert(db, 't', Array.from({ length: n }, (_, i) => i + 1), data);
const maxB = Math.max(...sizes);
const queries = Array.from({ length: maxB }, () => Float32Array.from({ length: dim }, () => r() * 2 - 1));
const single = db.prepare('select rowid, distance from t where v match ? and k = ?').raw(true);
const blob = (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
// Warm: the cache and its sketch are built by the first query.
single.all(blob(queries[0]), K);

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = [];
console.log(`vec0 ${n} x float[${dim}] ${metric}, k = ${K}, ${reps} rounds (median), isa ${vs.isa()}`);
console.log('batch   singles ms   batch ms   singles q/s   batch q/s   ratio');
for (const b of sizes) {
  const qs = queries.slice(0, b);
  const ts = [], tb = [];
  for (let rep = 0; rep < reps; rep++) {
    let t0 = now();
    const one = qs.map((q) => single.all(blob(q), K));
    ts.push(now() - t0);
    t0 = now();
    const many = vs.knnBatch(db, 't', qs, { k: K });
    tb.push(now() - t0);
    if (rep === 0) {
      many.forEach((m, i) => {
        const ids = one[i].map((x) => Number(x[0]));
        const ds = one[i].map((x) => x[1]);
        if (JSON.stringify(Array.from(m.rowids)) !== JSON.stringify(ids) || JSON.stringify(Array.from(m.distances)) !== JSON.stringify(ds)) {
          throw new Error(`batch ${b}, query ${i}: the batch differs from the single query`);
        }
      });
    }
  }
  const s = median(ts), m = median(tb);
  const row = { batch: b, singlesMs: +s.toFixed(2), batchMs: +m.toFixed(2), singlesQps: Math.round((b / s) * 1000), batchQps: Math.round((b / m) * 1000), ratio: +(s / m).toFixed(2) };
  results.push(row);
  console.log(`${String(b).padStart(5)}   ${row.singlesMs.toFixed(2).padStart(10)}   ${row.batchMs.toFixed(2).padStart(8)}   ${String(row.singlesQps).padStart(11)}   ${String(row.batchQps).padStart(9)}   ${row.ratio.toFixed(2)}x`);
}
const json = opt('json', null);
if (json) fs.writeFileSync(json, JSON.stringify({ n, dim, metric, k: K, reps, isa: vs.isa(), results }, null, 2) + '\n');
