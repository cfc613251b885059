// Graph index benchmark: recall@10 against queries per second, through SQL, one query per call,
// one thread, against hnswlib-node and usearch on the same data in the same run.
//
//   node bench/hnsw.js [--data fashion|minilm|clustered] [--n 60000] [--queries 1000]
//                      [--m 16] [--efc 200] [--peers hnswlib-node,usearch] [--out docs/data/hnsw_fashion.json]
//
// fashion:   Fashion-MNIST (Debian package dataset-fashion-mnist), 60k x 784, L2
// minilm:    the MiniLM sentence embeddings the demo uses (778 x 384, cosine): base = all,
//            queries = the first --queries rows perturbed (a real set this small is all we have)
// clustered: synthetic Gaussian clusters, --n x --dim, --metric l2|cosine
// Ground truth: the exact scan (`ef = 0`), whose results the test suite checks against a
// brute-force oracle. The peers are installed by this script into bench/.peers (never a
// dependency of the package).
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const Database = require('better-sqlite3');
const { opt, rng, now } = require('./common');
const { readIdx, row, blob, recallAt, timeQueries } = require('./ann_common');
const vs = require('..');

const PEERS = path.join(__dirname, '.peers');
function peer(name) {
  const dir = path.join(PEERS, 'node_modules', name);
  if (!fs.existsSync(dir)) {
    fs.mkdirSync(PEERS, { recursive: true });
    if (!fs.existsSync(path.join(PEERS, 'package.json'))) fs.writeFileSync(path.join(PEERS, 'package.json'), '{"private":true}\n');
    console.error(`installing ${name} into bench/.peers ...`);
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', PEERS, 'hnswlib-node@3', 'usearch@2'], { stdio: 'inherit' });
  }
  return require(dir);
}


function dataset(kind, nq) {
  if (kind === 'fashion') {
    const dir = '/usr/share/datasets/fashion-mnist/';
    if (!fs.existsSync(dir)) throw new Error('Fashion-MNIST is missing: apt-get install -y dataset-fashion-mnist');
    const n = Number(opt('n', 60000));
    const base = Float32Array.from(readIdx(dir + 'train-images-idx3-ubyte.gz').data.subarray(0, n * 784));
    const queries = Float32Array.from(readIdx(dir + 't10k-images-idx3-ubyte.gz').data.subarray(0, nq * 784));
    return { name: `Fashion-MNIST ${n / 1000}k x 784 L2`, dim: 784, metric: 'l2', base, n, queries, nq };
  }
  if (kind === 'minilm') {
    const rows = loadMiniLM();
    const dim = rows[0].length;
    const n = rows.length;
    const base = new Float32Array(n * dim);
    rows.forEach((r, i) => base.set(r, i * dim));
    const r = rng(7);
    const q = Math.min(nq, n);
    const queries = new Float32Array(q * dim);
    for (let i = 0; i < q; i++) for (let d = 0; d < dim; d++) queries[i * dim + d] = rows[i][d] + (r() - 0.5) * 0.05;
    return { name: `MiniLM ${n} x ${dim} cosine`, dim, metric: 'cosine', base, n, queries, nq: q };
  }
  const n = Number(opt('n', 200000));
  const dim = Number(opt('dim', 768));
  const metric = opt('metric', 'cosine');
  const r = rng(11);
  const centers = 256;
  const cent = new Float32Array(centers * dim).map(() => r() * 2 - 1);
  const gen = (count) => {
    const out = new Float32Array(count * dim);
    for (let i = 0; i < count; i++) {
      const c = Math.floor(r() * centers);
      for (let d = 0; d < dim; d++) out[i * dim + d] = cent[c * dim + d] + (r() - 0.5) * 0.6;
    }
    return out;
  };
  return { name: `clustered ${n / 1000}k x ${dim} ${metric}`, dim, metric, base: gen(n), n, queries: gen(nq), nq };
}

function loadMiniLM() {
  const dir = path.join(path.dirname(require.resolve('@sap-ux/fiori-docs-embeddings/package.json')), 'data', 'embeddings');
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'metadata.json'), 'utf8'));
  const bin = fs.readFileSync(path.join(dir, 'embeddings.bin'));
  const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length));
  const out = [];
  for (let i = 0; i < all.length / meta.dimensions; i++) out.push(all.subarray(i * meta.dimensions, (i + 1) * meta.dimensions));
  return out;
}




function main() {
  const kind = opt('data', 'fashion');
  const nq = Number(opt('queries', 1000));
  const m = Number(opt('m', 16));
  const efc = Number(opt('efc', 200));
  const k = 10;
  const efs = (opt('ef', '10,16,24,32,48,64,96,128')).split(',').map(Number);
  const D = dataset(kind, nq);
  const { dim, n, base, queries } = D;
  console.log(`${D.name}: ${n} rows, ${D.nq} queries, k = ${k}, m = ${m}, ef_construction = ${efc}`);
  const metricSql = D.metric === 'cosine' ? ' distance_metric=cosine' : '';

  // vecsqlite: one vec0 table with the graph, built at commit on every core.
  const rss0 = process.memoryUsage().rss / 2 ** 20;
  const db = new Database(':memory:');
  vs.load(db);
  db.exec(`create virtual table t using vec0(tag integer, e float[${dim}]${metricSql} indexed by hnsw(m=${m}, ef_construction=${efc}))`);
  const ins = db.prepare('insert into t(rowid, tag, e) values (?, ?, ?)');
  let t0 = now();
  db.transaction(() => {
    for (let i = 0; i < n; i++) ins.run(BigInt(i + 1), BigInt(i % 100), blob(row(base, dim, i)));
  })();
  const buildS = (now() - t0) / 1000;
  const rssMiB = process.memoryUsage().rss / 2 ** 20;
  const idxBytes = db.prepare('select sum(length(data)) from t_hnsw00').pluck().get();
  console.log(`vecsqlite build (insert + graph at commit): ${buildS.toFixed(2)} s; index ${(idxBytes / 2 ** 20).toFixed(1)} MiB = ${(idxBytes / (n * dim * 4)).toFixed(3)} x raw vectors`);

  // One row at a time into the built index (autocommit: each links one node and writes its blocks).
  const lat = [];
  const r1 = rng(99);
  for (let i = 0; i < 200; i++) {
    const v = new Float32Array(dim);
    const src = row(base, dim, Math.floor(r1() * n));
    for (let d = 0; d < dim; d++) v[d] = src[d] + (r1() - 0.5) * 0.01;
    const t1 = now();
    ins.run(BigInt(n + 1 + i), BigInt(i % 100), blob(v));
    lat.push(now() - t1);
  }
  db.prepare('delete from t where rowid > ?').run(BigInt(n));
  lat.sort((a, b) => a - b);
  const insertMs = lat[100];
  console.log(`one insert into the built index (autocommit, in memory): median ${insertMs.toFixed(3)} ms, p90 ${lat[180].toFixed(3)} ms`);

  const exact = db.prepare('select rowid from t where e match ? and k = ? and ef = 0').pluck();
  const truth = timeQueries(D.nq, (i) => exact.all(blob(row(queries, dim, i)), k).map(Number));
  console.log(`exact scan (ef = 0): ${truth.qps.toFixed(0)} QPS`);

  const curves = [];
  const q = db.prepare('select rowid from t where e match ? and k = ? and ef = ?').pluck();
  for (const ef of efs) {
    const r = timeQueries(D.nq, (i) => q.all(blob(row(queries, dim, i)), k, ef).map(Number));
    curves.push({ implementation: 'vecsqlite (SQL)', ef, recall: recallAt(r.out, truth.out), qps: r.qps });
  }

  const peers = opt('peers', 'hnswlib-node,usearch').split(',');
  let hBuild = NaN;
  let uBuild = NaN;
  // hnswlib-node
  if (peers.includes('hnswlib-node')) {
  const { HierarchicalNSW } = peer('hnswlib-node');
  const h = new HierarchicalNSW(D.metric === 'cosine' ? 'cosine' : 'l2', dim);
  t0 = now();
  h.initIndex(n, m, efc, 100);
  for (let i = 0; i < n; i++) h.addPoint(Array.from(row(base, dim, i)), i + 1);
  hBuild = (now() - t0) / 1000;
  const qArrays = Array.from({ length: D.nq }, (_, i) => Array.from(row(queries, dim, i)));
  for (const ef of efs) {
    h.setEf(Math.max(ef, k));
    const r = timeQueries(D.nq, (i) => h.searchKnn(qArrays[i], k).neighbors);
    curves.push({ implementation: 'hnswlib-node', ef, recall: recallAt(r.out, truth.out), qps: r.qps });
  }
  }

  // usearch (expansion_search is fixed per index object: the built index is saved and reopened)
  if (peers.includes('usearch')) {
  const usearch = peer('usearch');
  const uopts = { dimensions: dim, metric: D.metric === 'cosine' ? 'cos' : 'l2sq', connectivity: m, expansion_add: efc };
  const u = new usearch.Index({ ...uopts, expansion_search: 64 });
  const keys = new BigUint64Array(n);
  for (let i = 0; i < n; i++) keys[i] = BigInt(i + 1);
  t0 = now();
  u.add(keys, base, 1);
  uBuild = (now() - t0) / 1000;
  const file = path.join(require('os').tmpdir(), `usearch-bench-${process.pid}.usearch`);
  u.save(file);
  for (const ef of efs) {
    const ui = new usearch.Index({ ...uopts, expansion_search: ef });
    ui.load(file);
    const r = timeQueries(D.nq, (i) => Array.from(ui.search(row(queries, dim, i), k, 1).keys, Number));
    curves.push({ implementation: 'usearch', ef, recall: recallAt(r.out, truth.out), qps: r.qps });
  }
  fs.rmSync(file, { force: true });
  }

  // Filtered: a metadata constraint keeping 10% and 1% of the rows, exact filtered truth.
  const filtered = [];
  for (const [label, where] of [['10%', 'tag < 10'], ['1%', 'tag = 7']]) {
    const fe = db.prepare(`select rowid from t where e match ? and k = ? and ${where} and ef = 0`).pluck();
    const fq = db.prepare(`select rowid from t where e match ? and k = ? and ${where}`).pluck();
    const ft = timeQueries(D.nq, (i) => fe.all(blob(row(queries, dim, i)), k).map(Number));
    const fr = timeQueries(D.nq, (i) => fq.all(blob(row(queries, dim, i)), k).map(Number));
    const matching = db.prepare(`select count(*) from t where ${where}`).pluck().get();
    const full = fr.out.every((x) => x.length === Math.min(k, matching));
    filtered.push({ filter: label, recall: recallAt(fr.out, ft.out), qps: fr.qps, exactQps: ft.qps, allRowsReturned: full });
  }

  console.log('\nimplementation      ef   recall@10     QPS');
  for (const c of curves) console.log(`${c.implementation.padEnd(18)} ${String(c.ef).padStart(4)}   ${c.recall.toFixed(4)}   ${c.qps.toFixed(0).padStart(7)}`);
  console.log(`\nbuild: vecsqlite ${buildS.toFixed(2)} s (both cores), hnswlib-node ${hBuild.toFixed(2)} s (1 thread), usearch ${uBuild.toFixed(2)} s (1 thread)`);
  console.log(`process RSS after the vecsqlite build: ${rssMiB.toFixed(0)} MiB (+${(rssMiB - rss0).toFixed(0)} MiB for the table: SQLite's in-memory pages, the cache and the graph)`);
  for (const f of filtered)
    console.log(`filter ${f.filter}: recall ${f.recall.toFixed(4)}, ${f.qps.toFixed(0)} QPS (exact filtered scan ${f.exactQps.toFixed(0)} QPS), min(k, matching rows) every time: ${f.allRowsReturned}`);

  // QPS at recall thresholds (best QPS among efforts reaching it), and the ratios.
  const at = (impl, r) => Math.max(0, ...curves.filter((c) => c.implementation === impl && c.recall >= r).map((c) => c.qps));
  for (const r of [0.95, 0.99]) {
    const ours = at('vecsqlite (SQL)', r);
    const hn = at('hnswlib-node', r);
    const us = at('usearch', r);
    console.log(`recall >= ${r}: vecsqlite ${ours.toFixed(0)} QPS, hnswlib-node ${hn.toFixed(0)} (x${(ours / hn).toFixed(2)}), usearch ${us.toFixed(0)} (x${(ours / us).toFixed(2)})`);
  }
  const out = opt('out', null);
  if (out) {
    const data = {
      title: `Recall@10 against QPS, ${D.name}, k = 10, 1 thread, 1 query per call`,
      machine: `${require('os').cpus().length}-core ${require('os').cpus()[0].model.trim()}`,
      command: `node bench/hnsw.js --data ${kind}${kind === 'clustered' ? ` --n ${n} --dim ${dim} --metric ${D.metric}` : ''} --queries ${D.nq} --m ${m} --efc ${efc}${opt('ef', null) ? ` --ef ${efs.join(',')}` : ''}${peers.length && peers[0] !== 'none' ? '' : ' --peers none'}`,
      chart: { kind: 'line', x: 'recall', y: 'qps', series: 'implementation', label: 'ef', xTitle: 'recall@10', yTitle: 'queries per second (log)' },
      rows: curves.map((c) => ({ ...c, recall: Number(c.recall.toFixed(4)), qps: Math.round(c.qps) })),
      build: { vecsqlite_s: Number(buildS.toFixed(2)), hnswlib_s: Number(hBuild.toFixed(2)), usearch_s: Number(uBuild.toFixed(2)) },
      index_bytes: idxBytes,
      insert_median_ms: Number(insertMs.toFixed(3)),
      rss_mib_after_build: Math.round(rssMiB),
      rss_mib_table: Math.round(rssMiB - rss0),
      raw_vector_bytes: n * dim * 4,
      filtered: filtered.map((f) => ({ ...f, recall: Number(f.recall.toFixed(4)), qps: Math.round(f.qps), exactQps: Math.round(f.exactQps) })),
    };
    fs.writeFileSync(out, JSON.stringify(data, null, 2) + '\n');
    console.log(`wrote ${out}`);
  }
}

main();
