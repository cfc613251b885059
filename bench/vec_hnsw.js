#!/usr/bin/env node
// The dataset-aware `vec` table with index=hnsw against `vec0` with `indexed by hnsw(...)` on
// the same data in the same run: recall@10 and queries per second over a sweep of search
// efforts, one query per call, one thread, through SQL; QPS at recall >= 0.95 and >= 0.99 and
// the ratio vec / vec0. Run `npm run build:ts` first.
//
//   node bench/vec_hnsw.js [--n 60000] [--queries 500] [--m 16] [--efc 200] [--ef 10,16,24,32,48,64,96,128]
//
// Data: Fashion-MNIST (Debian package dataset-fashion-mnist): base = the first --n training
// images, queries = test images, 784 dimensions, cosine (the `vec` table ranks by cosine only;
// vec0 is declared with distance_metric=cosine). Ground truth: vec0's exact scan (`ef = 0`).
// vec's effort is set with vec_ef_search() (ann=always: the graph at every effort, as vec0's
// `ef = N` constraint forces it); vec0's with the `ef = N` constraint. Both run
// alternately at every effort (best of --rounds rounds each) so a loaded machine affects both.
'use strict';
const fs = require('fs');
const os = require('os');
const { execFileSync } = require('child_process');
const Database = require('better-sqlite3');
const { opt, now } = require('./common');
const { readIdx, row, blob, recallAt, timeQueries } = require('./ann_common');
const vs = require('..');


const load = () => { try { return execFileSync('uptime', { encoding: 'utf8' }).trim(); } catch { return `loadavg ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`; } };



function main() {
  const dir = '/usr/share/datasets/fashion-mnist/';
  if (!fs.existsSync(dir)) throw new Error('Fashion-MNIST is missing: apt-get install -y dataset-fashion-mnist');
  const n = Number(opt('n', 60000));
  const nq = Number(opt('queries', 500));
  const m = Number(opt('m', 16));
  const efc = Number(opt('efc', 200));
  const rounds = Number(opt('rounds', 2));
  const efs = opt('ef', '10,16,24,32,48,64,96,128').split(',').map(Number);
  const k = 10;
  const dim = 784;
  const base = Float32Array.from(readIdx(dir + 'train-images-idx3-ubyte.gz').data.subarray(0, n * dim));
  const queries = Float32Array.from(readIdx(dir + 't10k-images-idx3-ubyte.gz').data.subarray(0, nq * dim));
  console.log(`Fashion-MNIST ${n} x ${dim} cosine, ${nq} queries, k = ${k}, m = ${m}, ef_construction = ${efc}`);
  console.log(`load at start: ${load()}`);

  const db = new Database(':memory:');
  vs.load(db);
  // vec0 with its graph, built at commit on every core.
  db.exec(`create virtual table t using vec0(e float[${dim}] distance_metric=cosine indexed by hnsw(m=${m}, ef_construction=${efc}))`);
  const ins0 = db.prepare('insert into t(rowid, e) values (?, ?)');
  let t0 = now();
  db.transaction(() => { for (let i = 0; i < n; i++) ins0.run(BigInt(i + 1), blob(row(base, dim, i))); })();
  const build0 = (now() - t0) / 1000;

  // vec with index=hnsw: rows into its data table, the graph built (every core) by the first MATCH.
  db.exec(`create virtual table v using vec(doc_id, index=hnsw, m=${m}, ef_construction=${efc}, ann=always)`);
  const ins1 = db.prepare("insert into _vec_v(dataset_id, id, embedding) values ('fm', ?, ?)");
  t0 = now();
  db.transaction(() => { for (let i = 0; i < n; i++) ins1.run(String(i + 1), blob(row(base, dim, i))); })();
  const insert1 = (now() - t0) / 1000;
  const qv = db.prepare("select doc_id from v where dataset_id = 'fm' and doc_id match ? limit 10").pluck();
  t0 = now();
  qv.all(blob(row(queries, dim, 0)));
  const build1 = (now() - t0) / 1000;
  console.log(`build: vec0 ${build0.toFixed(2)} s (insert + graph at commit); vec ${insert1.toFixed(2)} s insert + ${build1.toFixed(2)} s first MATCH (graph + blob)`);

  const exact = db.prepare('select rowid from t where e match ? and k = ? and ef = 0').pluck();
  const truth = timeQueries(nq, (i) => exact.all(blob(row(queries, dim, i)), k).map(Number));
  const exactVec = db.prepare("select doc_id from v where dataset_id = 'fm' and doc_id match ? and match_score > -2 limit 10").pluck();
  const truthVec = timeQueries(nq, (i) => exactVec.all(blob(row(queries, dim, i))).map(Number));
  console.log(`exact scan: vec0 ${truth.qps.toFixed(0)} QPS, vec ${truthVec.qps.toFixed(0)} QPS (recall of vec's exact scan vs vec0's: ${recallAt(truthVec.out, truth.out).toFixed(4)})`);

  const q0 = db.prepare('select rowid from t where e match ? and k = ? and ef = ?').pluck();
  const stats = () => JSON.parse(db.prepare('select vec_stats()').pluck().get());
  const s0 = stats();
  const curves = [];
  for (const ef of efs) {
    db.prepare("select vec_ef_search('v', ?)").get(ef);
    let best0 = null;
    let best1 = null;
    for (let r = 0; r < rounds; r++) {
      const a = timeQueries(nq, (i) => q0.all(blob(row(queries, dim, i)), k, ef).map(Number));
      const b = timeQueries(nq, (i) => qv.all(blob(row(queries, dim, i))).map(Number));
      if (!best0 || a.qps > best0.qps) best0 = a;
      if (!best1 || b.qps > best1.qps) best1 = b;
    }
    curves.push({ ef, vec0: { recall: recallAt(best0.out, truth.out), qps: best0.qps }, vec: { recall: recallAt(best1.out, truth.out), qps: best1.qps } });
  }
  const s1 = stats();
  const expected = efs.length * rounds * (nq + Math.min(nq, 20));
  console.log(`vec graph searches: ${s1.vec_hnsw_searches - s0.vec_hnsw_searches} of ${expected} queries, exact fallbacks ${s1.vec_hnsw_exact_fallbacks - s0.vec_hnsw_exact_fallbacks}`);

  console.log('\n  ef   vec0 recall      QPS    vec recall      QPS   vec/vec0');
  for (const c of curves) {
    console.log(`${String(c.ef).padStart(4)}   ${c.vec0.recall.toFixed(4)}  ${c.vec0.qps.toFixed(0).padStart(7)}    ${c.vec.recall.toFixed(4)}  ${c.vec.qps.toFixed(0).padStart(7)}   x${(c.vec.qps / c.vec0.qps).toFixed(2)}`);
  }
  const at = (impl, r) => Math.max(0, ...curves.filter((c) => c[impl].recall >= r).map((c) => c[impl].qps));
  for (const r of [0.95, 0.99]) {
    const a = at('vec0', r);
    const b = at('vec', r);
    console.log(`recall >= ${r}: vec0 ${a.toFixed(0)} QPS, vec ${b.toFixed(0)} QPS, vec / vec0 = x${(b / a).toFixed(2)}`);
  }
  console.log(`load at end: ${load()}`);
}

main();
