#!/usr/bin/env node
// Hybrid search quality and latency on real data: the 778 SAP Fiori documentation chunks with
// their all-MiniLM-L6-v2 embeddings (npm @sap-ux/fiori-docs-embeddings). Run `npm run build:ts`
// first:
//   node bench/hybrid.js [--queries noisy|topic] [--neighbours 5] [--reps 5] [--json out.json]
//
// Method (known-item search; no text encoder ships offline, so query vectors come from the data):
//   For each document d (all 778 are queries, each has exactly one relevant result: d itself)
//   - keyword query: the words of d's title, OR-ed (FTS5: "w1" OR "w2" OR ...), ranked by bm25
//     over the chunk texts;
//   - query vector, --queries noisy (default): d's own vector plus Gaussian noise, normalised,
//     standing in for an imperfect query encoder. The noise level is not chosen by hand: it is
//     set (by bisection, seeded noise) so that the vector side alone finds exactly as many of
//     the documents in its top 10 as the keyword side alone, i.e. both sides are equally good
//     on their own and fail on different queries;
//   - query vector, --queries topic: the normalised mean of the vectors of d's --neighbours
//     nearest other documents (cosine), without d's own vector: a vector for d's topic that does
//     not contain d (so by construction those neighbours lie closer to it than d does).
//   Keyword only = FTS5 ORDER BY rank LIMIT 10; vector only = vec0 KNN k = 10 (cosine);
//   hybrid = vec_hybrid(…, 10) with reciprocal rank fusion (default options) and with weighted
//   fusion. recall@10 = share of queries whose document is in the top 10; MRR = mean of 1/rank
//   (0 when not in the top 10).
// Latency: the same queries through SQL, median and p95 per query over --reps passes, for the
// vec0 table and for a dataset-aware vec table with its per-dataset FTS5 index.
'use strict';
const path = require('path');
const fs = require('fs');
const Database = require('better-sqlite3');
const root = path.join(__dirname, '..');
const vs = require(root);
const { loadFiori } = require(path.join(root, 'lib', 'cli', 'datasets.js'));

const opt = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const NB = Number(opt('neighbours', 5));
const REPS = Number(opt('reps', 5));
const K = 10;

const data = loadFiori();
const n = data.docs.length, d = data.dims;
const vec = (i) => data.vectors.subarray(i * d, (i + 1) * d);
const blob = (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

const QUERIES = String(opt('queries', 'noisy'));
if (QUERIES !== 'noisy' && QUERIES !== 'topic') throw new Error(`--queries must be noisy or topic, got ${QUERIES}`);
const qtexts = data.docs.map((doc) => {
  const words = [...new Set(doc.title.toLowerCase().match(/[\p{L}\p{N}]+/gu) || [])];
  return words.map((w) => `"${w}"`).join(' OR ');
});
const normalise = (m) => {
  const norm = Math.hypot(...m);
  for (let t = 0; t < m.length; t++) m[t] /= norm;
  return m;
};
// Topic queries: normalised mean of the NB nearest other documents.
function topicQueries() {
  const out = [];
  for (let i = 0; i < n; i++) {
    const nn = vs.topK(vec(i), data.vectors, NB + 1, 'cosine').indices.filter((j) => j !== i).slice(0, NB);
    const m = new Float32Array(d);
    for (const j of nn) for (let t = 0; t < d; t++) m[t] += vec(j)[t];
    out.push(normalise(m));
  }
  return out;
}
// Noisy queries: d's vector plus sigma x a fixed Gaussian direction per document (seeded), so
// that the noise grows with sigma and the recall of the vector side falls monotonically.
const gauss = (() => {
  let s = 12345;
  const u = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) + 0.5) / 4294967296;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
})();
const noiseDirs = Array.from({ length: n }, () => normalise(Float32Array.from({ length: d }, gauss)));
const noisyQueries = (sigma) =>
  Array.from({ length: n }, (_, i) => normalise(Float32Array.from(vec(i), (x, t) => x + sigma * noiseDirs[i][t])));
const vectorRecall = (qs) => qs.filter((q, i) => vs.topK(q, data.vectors, K, 'cosine').indices.includes(i)).length / n;

const db = new Database(':memory:');
vs.load(db);
db.exec(`create virtual table docs using vec0(embedding float[${d}] distance_metric=cosine);
         create virtual table docs_fts using fts5(content);`);
vs.bulkInsert(db, 'docs', data.docs.map((_, i) => i + 1), data.vectors);
const insF = db.prepare('insert into docs_fts(rowid, content) values (?, ?)');
db.transaction(() => data.docs.forEach((doc, i) => insF.run(i + 1, doc.content)))();

// The same documents in a dataset-aware vec table, with the library's per-dataset FTS5 index.
db.exec('create virtual table kb using vec(doc_id)');
const insV = db.prepare("insert into _vec_kb(dataset_id, id, content, embedding) values ('fiori', ?, ?, ?)");
db.transaction(() => data.docs.forEach((doc, i) => insV.run(String(i + 1), doc.content, blob(vec(i)))))();
const kbFts = vs.createTextIndex(db, 'kb', 'fiori');

const kw = db.prepare('select rowid from docs_fts where docs_fts match ? order by rank limit ?').pluck();
let qvecs, sigma = null;
if (QUERIES === 'topic') {
  qvecs = topicQueries();
} else {
  const target = qtexts.filter((q, i) => kw.all(q, K).includes(i + 1)).length / n;
  let lo = 0, hi = 4;  // recall falls as sigma grows
  for (let it = 0; it < 30; it++) {
    const mid = (lo + hi) / 2;
    if (vectorRecall(noisyQueries(mid)) > target) lo = mid;
    else hi = mid;
  }
  sigma = lo;
  qvecs = noisyQueries(sigma);
}
const meanCos = qvecs.reduce((a, q, i) => a + q.reduce((s, x, t) => s + x * vec(i)[t], 0), 0) / n;
const knn = db.prepare('select rowid from docs where embedding match ? and k = ?').pluck();
const hyb = db.prepare('select rowid from vec_hybrid(?, ?, ?, ?, ?, ?)').pluck();
const kwVec = db.prepare(`select rowid from "${kbFts}" where "${kbFts}" match ? order by rank limit ?`).pluck();
const knnVec = db.prepare("select doc_id from kb where dataset_id = 'fiori' and doc_id match ? order by match_score desc limit ?").pluck();
const hybVec = db.prepare('select id from vec_hybrid(?, ?, ?, ?, ?, ?)').pluck();

const methods = {
  'keyword only': (i) => kw.all(qtexts[i], K),
  'vector only': (i) => knn.all(blob(qvecs[i]), K),
  'hybrid rrf': (i) => hyb.all('docs_fts', 'docs', qtexts[i], blob(qvecs[i]), K, null),
  'hybrid weighted': (i) => hyb.all('docs_fts', 'docs', qtexts[i], blob(qvecs[i]), K, '{"fusion":"weighted"}'),
  'vec: keyword only': (i) => kwVec.all(qtexts[i], K),
  'vec: vector only': (i) => knnVec.all(blob(qvecs[i]), K).map(Number),
  'vec: hybrid rrf': (i) => hybVec.all(kbFts, 'kb', qtexts[i], blob(qvecs[i]), K, '{"dataset":"fiori"}').map(Number),
};

const quality = {};
for (const [name, f] of Object.entries(methods)) {
  let hits = 0, rr = 0;
  for (let i = 0; i < n; i++) {
    const got = f(i);
    if (got.length !== Math.min(K, name.includes('keyword') ? got.length : n)) throw new Error(`${name}: ${got.length} rows`);
    const r = got.indexOf(i + 1);
    if (r >= 0) {
      hits++;
      rr += 1 / (r + 1);
    }
  }
  quality[name] = { recall10: +(hits / n).toFixed(4), mrr: +(rr / n).toFixed(4) };
}

// Sensitivity of the fusion to its options (quality only).
const variants = {
  'rrf rrf_k=10': '{"rrf_k":10}',
  'rrf candidates=10': '{"candidates":10}',
  'rrf candidates=100': '{"candidates":100}',
  'rrf weights [2,1]': '{"weights":[2,1]}',
  'weighted [0.7,0.3]': '{"fusion":"weighted","weights":[0.7,0.3]}',
  'weighted [0.3,0.7]': '{"fusion":"weighted","weights":[0.3,0.7]}',
};
const sensitivity = {};
for (const [name, o] of Object.entries(variants)) {
  let hits = 0, rr = 0;
  for (let i = 0; i < n; i++) {
    const r = hyb.all('docs_fts', 'docs', qtexts[i], blob(qvecs[i]), K, o).indexOf(i + 1);
    if (r >= 0) hits++, (rr += 1 / (r + 1));
  }
  sensitivity[name] = { recall10: +(hits / n).toFixed(4), mrr: +(rr / n).toFixed(4) };
}

const now = () => Number(process.hrtime.bigint()) / 1e6;
// Interleaved: each query runs every method in turn, so the machine's drift hits all alike.
const times = Object.fromEntries(Object.keys(methods).map((m) => [m, []]));
for (let r = 0; r < REPS; r++) {
  for (let i = 0; i < n; i++) {
    for (const [name, f] of Object.entries(methods)) {
      const t0 = now();
      f(i);
      times[name].push(now() - t0);
    }
  }
}
const latency = {};
for (const [name, t] of Object.entries(times)) {
  t.sort((a, b) => a - b);
  latency[name] = { p50: +t[Math.floor(t.length / 2)].toFixed(4), p95: +t[Math.floor(t.length * 0.95)].toFixed(4), mean: +(t.reduce((a, b) => a + b, 0) / t.length).toFixed(4) };
}

const slower = Math.max(latency['keyword only'].mean, latency['vector only'].mean);
console.log(`hybrid search on ${n} real MiniLM documents (${d} dims); ${n} known-item queries: title words OR-ed + ` +
  (QUERIES === 'topic' ? `mean of ${NB} nearest other documents' vectors` : `the document's vector with noise (sigma ${sigma.toFixed(3)}, mean cosine to the document ${meanCos.toFixed(3)})`));
console.log('method              recall@10   MRR      p50 ms   p95 ms   mean ms');
for (const name of Object.keys(methods)) {
  const q = quality[name], l = latency[name];
  console.log(`${name.padEnd(18)}  ${q.recall10.toFixed(4)}      ${q.mrr.toFixed(4)}   ${l.p50.toFixed(3).padStart(6)}   ${l.p95.toFixed(3).padStart(6)}   ${l.mean.toFixed(3).padStart(6)}`);
}
console.log(`hybrid rrf mean latency / slower side alone (vec0): ${(latency['hybrid rrf'].mean / slower).toFixed(2)}x`);
console.log(`hybrid rrf mean latency / keyword + vector (vec0): ${(latency['hybrid rrf'].mean / (latency['keyword only'].mean + latency['vector only'].mean)).toFixed(2)}x`);
const slowerVec = Math.max(latency['vec: keyword only'].mean, latency['vec: vector only'].mean);
console.log(`vec: hybrid rrf mean latency / slower side alone: ${(latency['vec: hybrid rrf'].mean / slowerVec).toFixed(2)}x`);
console.log('\nfusion options (vec0, quality only):');
for (const [name, q] of Object.entries(sensitivity)) console.log(`${name.padEnd(20)}  recall@10 ${q.recall10.toFixed(4)}  MRR ${q.mrr.toFixed(4)}`);
const json = opt('json', null);
if (json) fs.writeFileSync(json, JSON.stringify({ documents: n, dims: d, queries: QUERIES, neighbours: QUERIES === 'topic' ? NB : undefined, sigma, meanCosine: +meanCos.toFixed(4), quality, latency, sensitivity }, null, 2) + '\n');
