#!/usr/bin/env node
// Benchmark of the dataset-aware `vec` table (run `npm run build:ts` first):
//   node bench/vec.js [--scale 0.25] [--queries 30] [--only 768|128]
// For each set (100k x 768 cosine, 1M x 128 L2; --scale multiplies the row counts), in one file
// database: median / p95 of `MATCH ... LIMIT 10` through `vec`, the same query through npm
// sqlite-vec 0.1.9's vec0 on the same data, the memory-bandwidth roof (bytes scanned / streaming
// read bandwidth measured here with the addon's topK over a 512 MiB Float32Array), the first
// query after a single-row insert vs a steady query, memory per dataset, and cold first queries
// (index built from the data table; index loaded from vector_storage).
// The `vec` table ranks by cosine only; on the L2 set vec0 runs L2 and vec runs cosine over the
// same bytes (the scan cost per byte is the same).
'use strict';
const path = require('path');
const fs = require('fs');
const os = require('os');
const Database = require('better-sqlite3');
const sqliteVec = require('sqlite-vec');
const vs = require(path.join(__dirname, '..'));

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const scale = Number(opt('--scale', 1));
const nq = Number(opt('--queries', 30));
const only = opt('--only', '');

function rng(seed) {
  let a = seed >>> 0;
  return () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}
const now = () => Number(process.hrtime.bigint()) / 1e6;
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]; };
const fmt = (x) => x.toFixed(2).padStart(9);

// Aggregate streaming-read bandwidth of `n` processes at once: the machine's roof for a scan
// split over cores (bench/common.js).
const bandwidthParallel = (n) => require('./common').parallelBandwidth(n, 'cosine', 768);

function bandwidth() {
  const big = new Float32Array((512 << 20) / 4);
  for (let i = 0; i < big.length; i += 1024) big[i] = i % 7;
  const dim = 768, q = new Float32Array(dim).fill(0.5);
  const m = big.subarray(0, Math.floor(big.length / dim) * dim);
  vs.topK(q, m, 10, 'cosine');
  const ts = [];
  for (let i = 0; i < 7; i++) { const t = now(); vs.topK(q, m, 10, 'cosine'); ts.push(now() - t); }
  return (m.length * 4) / (pct(ts, 0.5) / 1e3); // bytes per second
}

function runSet({ label, n, dim, metric }, bw) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vecbench-'));
  const file = path.join(dir, 'bench.db');
  const r = rng(dim);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  vs.load(db);
  const v0 = new Database(file);
  v0.pragma('busy_timeout = 5000');
  sqliteVec.load(v0);
  db.exec('CREATE VIRTUAL TABLE docs USING vec(doc_id)');
  v0.exec(`CREATE VIRTUAL TABLE v0 USING vec0(embedding float[${dim}] distance_metric=${metric === 'l2' ? 'l2' : 'cosine'})`);
  const t0 = now();
  const ins = db.prepare('INSERT INTO _vec_docs(dataset_id, id, embedding) VALUES (?,?,?)');
  const ins0 = v0.prepare('INSERT INTO v0(rowid, embedding) VALUES (?, ?)');
  const batch = 10000;
  const buf = new Float32Array(batch * dim);
  for (let start = 0; start < n; start += batch) {
    const cnt = Math.min(batch, n - start);
    for (let i = 0; i < cnt * dim; i++) buf[i] = r() * 2 - 1;
    db.transaction(() => { for (let i = 0; i < cnt; i++) ins.run('bench', `d${start + i}`, Buffer.from(buf.buffer, i * dim * 4, dim * 4)); })();
    v0.transaction(() => { for (let i = 0; i < cnt; i++) ins0.run(BigInt(start + i + 1), Buffer.from(buf.buffer, i * dim * 4, dim * 4)); })();
  }
  const loadS = (now() - t0) / 1e3;
  const queries = Array.from({ length: nq }, () => { const q = new Float32Array(dim); for (let i = 0; i < dim; i++) q[i] = r() * 2 - 1; return Buffer.from(q.buffer); });

  const qv = db.prepare("SELECT doc_id, match_score FROM docs WHERE dataset_id = 'bench' AND doc_id MATCH ? LIMIT 10");
  const rssBefore = process.memoryUsage().rss;
  let t = now(); qv.all(queries[0]); const coldBuild = now() - t;  // builds from the data table, writes the blob
  const rssAfter = process.memoryUsage().rss;
  const vecTimes = queries.map((q) => { const s = now(); qv.all(q); return now() - s; });
  const qv0 = v0.prepare('SELECT rowid, distance FROM v0 WHERE embedding MATCH ? AND k = 10');
  qv0.all(queries[0]);
  const v0Times = queries.map((q) => { const s = now(); qv0.all(q); return now() - s; });

  // first query after a single-row insert (incremental) vs steady
  const afterInsert = [];
  for (let i = 0; i < 5; i++) {
    ins.run('bench', `new${i}`, queries[i]);
    const s = now(); qv.all(queries[(i + 3) % nq]); afterInsert.push(now() - s);
  }
  // cold first query on fresh connections: loaded from vector_storage, then rebuilt from the table
  qv.all(queries[0]);  // make sure the current blob is written (full build after the inserts? no: incremental)
  db.exec('CREATE VIRTUAL TABLE IF NOT EXISTS adm USING vec_admin(op)');
  db.prepare("SELECT op FROM adm WHERE op MATCH 'main._vec_docs:bench'").all();  // persist current state
  const c1 = new Database(file); vs.load(c1);
  t = now(); c1.prepare("SELECT doc_id FROM docs WHERE dataset_id = 'bench' AND doc_id MATCH ? LIMIT 10").all(queries[1]); const coldLoad = now() - t;
  const st1 = JSON.parse(c1.prepare('SELECT vec_stats()').pluck().get());
  c1.close();
  db.exec("DELETE FROM vector_storage WHERE dataset_id = 'bench'");
  const c2 = new Database(file); vs.load(c2);
  t = now(); c2.prepare("SELECT doc_id FROM docs WHERE dataset_id = 'bench' AND doc_id MATCH ? LIMIT 10").all(queries[1]); const coldTable = now() - t;
  c2.close();

  const bytes = n * dim * 4;
  const roof = bytes / bw * 1e3;
  const med = pct(vecTimes, 0.5), p95 = pct(vecTimes, 0.95), m0 = pct(v0Times, 0.5), p950 = pct(v0Times, 0.95);
  const res = {
    set: label, rows: n, dim, metric_vec: 'cosine', metric_vec0: metric, load_s: +loadS.toFixed(1),
    vec_median_ms: +med.toFixed(3), vec_p95_ms: +p95.toFixed(3), vec0_median_ms: +m0.toFixed(3), vec0_p95_ms: +p950.toFixed(3),
    speedup_vs_vec0: +(m0 / med).toFixed(2), roof_ms: +roof.toFixed(3), vs_roof: +(med / roof).toFixed(3),
    first_after_insert_ms: +pct(afterInsert, 0.5).toFixed(3), after_insert_vs_steady: +(pct(afterInsert, 0.5) / med).toFixed(2),
    cold_build_from_table_ms: +coldTable.toFixed(1), cold_first_query_in_run_ms: +coldBuild.toFixed(1),
    cold_load_from_vector_storage_ms: +coldLoad.toFixed(1), cold_load_used_blob: st1.blob_loads > 0,
    rss_delta_mib: +((rssAfter - rssBefore) / 1048576).toFixed(1), arena_mib: +((n * (dim * 4 + 8)) / 1048576).toFixed(1),
  };
  console.log(`\n${label}: ${n} x ${dim} (vec: cosine, vec0: ${metric}), loaded in ${loadS.toFixed(1)} s`);
  console.log(`  MATCH ... LIMIT 10   vec median ${fmt(med)} ms  p95 ${fmt(p95)} ms`);
  console.log(`                       vec0 median ${fmt(m0)} ms  p95 ${fmt(p950)} ms   -> vec is ${(m0 / med).toFixed(1)}x faster`);
  console.log(`  roof (${(bytes / 1048576).toFixed(0)} MiB / ${(bw / 1e9).toFixed(1)} GB/s) ${fmt(roof)} ms   -> vec at ${(med / roof).toFixed(2)}x the roof`);
  console.log(`  first query after a single-row insert ${fmt(pct(afterInsert, 0.5))} ms (${(pct(afterInsert, 0.5) / med).toFixed(2)}x steady)`);
  console.log(`  cold: built from the data table ${fmt(coldTable)} ms, loaded from vector_storage ${fmt(coldLoad)} ms`);
  console.log(`  memory: RSS +${res.rss_delta_mib} MiB on first query (arena rows+ids ${res.arena_mib} MiB)`);
  console.log(JSON.stringify(res));
  db.close(); v0.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

const mem = new Database(':memory:'); vs.load(mem);
let commit = '';
try { commit = require('child_process').execSync('git rev-parse --short HEAD', { cwd: path.join(__dirname, '..') }).toString().trim(); } catch { /* not a checkout */ }
console.log(`# vec bench ${new Date().toISOString()} | ${os.cpus()[0].model} | ISA ${vs.isa()} | node ${process.version} | SQLite ${mem.prepare('select sqlite_version()').pluck().get()} | sqlite-vec ${sqliteVec.getLoadablePath ? '0.1.9' : '?'} | ${commit} | scale ${scale}`);
(async () => {
const bw1 = bandwidth();
const threads = Math.min(4, os.cpus().length);
const bw = Math.max(bw1, await bandwidthParallel(threads));
console.log(`streaming read bandwidth: one core (topK over 512 MiB) ${(bw1 / 1e9).toFixed(1)} GB/s; ${threads} processes at once ${(bw / 1e9).toFixed(1)} GB/s (the roof below; vec splits large scans over up to 4 threads)`);
const sets = [
  { label: '100k x 768 cosine', n: Math.round(100000 * scale), dim: 768, metric: 'cosine' },
  { label: '1M x 128 L2', n: Math.round(1000000 * scale), dim: 128, metric: 'l2' },
];
for (const s of sets) if (!only || String(s.dim) === only) runSet(s, bw);
})();
