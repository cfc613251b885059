#!/usr/bin/env node
// One cache per process: N read connections on one vec0 file, each on its own worker thread (as
// the pool runs them), opened one after another in a new process. For each: its first KNN's
// time and what the process's resident memory grew by. Then one commit by a writer and each
// reader's next query (the first refreshes a copy of the shared cache, the others take it).
// Run once with the shared cache (default) and once with VECSQLITE_SHARED_CACHE=0 (every
// connection loads its own), each in its own process.
//   node bench/shared_cache.js [--n 100000] [--dims 768] [--readers 4] [--hnsw] [--out file.json]
// --hnsw: the column is `indexed by hnsw()` and the queries go through the graph (ef = 64).
// --vec: the same through the dataset-aware `vec` table (one dataset; with --hnsw, index=hnsw
// and ann=always).
// (run `npm run build:ts` first)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const Database = require('better-sqlite3');
const { vs, opt, rng, now } = require('./common');

const mib = (b) => b / (1 << 20);

if (!isMainThread) {
  // A reader: its own connection; answers 'query' messages with the time of one KNN.
  const db = new Database(workerData.file, { readonly: true });
  vs.load(db);
  const knn = workerData.vec
    ? db.prepare("select doc_id as rowid, match_score as distance from t where dataset_id = 'ds' and doc_id match ? limit 10")
    : db.prepare(`select rowid, distance from t where v match ? and k = 10${workerData.hnsw ? ' and ef = 64' : ''}`);
  const q = Buffer.from(new Float32Array(workerData.query).buffer);
  parentPort.on('message', (m) => {
    if (m === 'close') {
      db.close();
      parentPort.close();
      return;
    }
    const t = now();
    const rows = knn.all(q);
    parentPort.postMessage({ ms: now() - t, top: rows[0].rowid });
  });
} else if (process.argv[2] === '--child') {
  (async () => {
    const [, , , file, readersArg, dimsArg, hnswArg, vecArg] = process.argv;
    const hnsw = hnswArg === '1';
    const vec = vecArg === '1';
    const readers = Number(readersArg);
    const dims = Number(dimsArg);
    const query = Array.from({ length: dims }, (_, i) => Math.cos(i * 0.37));
    const ws = [];
    const ask = (w) =>
      new Promise((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
        w.postMessage('query');
      });
    const rss0 = process.memoryUsage().rss;
    const first = [];
    for (let i = 0; i < readers; i++) {
      const w = new Worker(__filename, { workerData: { file, query, hnsw, vec } });
      ws.push(w);
      const r = await ask(w);
      first.push({ ms: r.ms, rss_mib: mib(process.memoryUsage().rss - rss0) });
    }
    // A commit by a writer on the main thread, then every reader's next query.
    const db = new Database(file);
    vs.load(db);
    const v = new Float32Array(dims).map((_, i) => Math.sin(i));
    if (vec) db.prepare("insert into _vec_t(dataset_id, id, embedding) values ('ds', ?, ?)").run(`new${process.pid}`, Buffer.from(v.buffer));
    else db.prepare('insert into t(rowid, v) values (?, ?)').run(BigInt(10_000_000 + process.pid), Buffer.from(v.buffer));
    db.close();
    const after = [];
    for (const w of ws) after.push((await ask(w)).ms);
    const rssEnd = mib(process.memoryUsage().rss - rss0);
    for (const w of ws) w.postMessage('close');
    process.stdout.write(JSON.stringify({ first, after_commit_ms: after, rss_end_mib: rssEnd }));
    process.exit(0);
  })();
} else {
  const n = Number(opt('n', 100000));
  const dims = Number(opt('dims', 768));
  const readers = Number(opt('readers', 4));
  const out = opt('out', '');
  const hnsw = process.argv.includes('--hnsw');
  const vec = process.argv.includes('--vec');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vecsqlite-shared-'));
  const file = path.join(dir, 's.db');
  {
    const db = new Database(file);
    vs.load(db);
    db.pragma('journal_mode = wal');
    const r = rng(1);
    const data = new Float32Array(n * dims);
    for (let i = 0; i < data.length; i++) data[i] = r() * 2 - 1;
    if (vec) {
      db.exec(`create virtual table t using vec(doc_id${hnsw ? ', index=hnsw, ann=always' : ''})`);
      const ins = db.prepare("insert into _vec_t(dataset_id, id, embedding) values ('ds', ?, ?)");
      db.transaction(() => {
        for (let i = 0; i < n; i++) ins.run(`d${i}`, Buffer.from(data.buffer, i * dims * 4, dims * 4));
      })();
      // The first query builds the index and saves it, as an application's first query would.
      db.prepare("select doc_id from t where dataset_id = 'ds' and doc_id match ? limit 1").all(Buffer.from(data.buffer, 0, dims * 4));
    } else {
      db.exec(`create virtual table t using vec0(v float[${dims}] distance_metric=cosine${hnsw ? ' indexed by hnsw()' : ''})`);
      const ids = Array.from({ length: n }, (_, i) => i + 1);
      vs.bulkInsert(db, 't', ids, data, { dims });
    }
    db.pragma('wal_checkpoint(truncate)');
    db.close();
  }
  const raw = mib(n * dims * 4);
  const run = (shared) =>
    JSON.parse(
      execFileSync(process.execPath, [__filename, '--child', file, String(readers), String(dims), hnsw ? '1' : '0', vec ? '1' : '0'], {
        env: { ...process.env, VECSQLITE_SHARED_CACHE: shared ? '1' : '0' },
        maxBuffer: 1 << 20,
      }).toString(),
    );
  const result = { n, dims, readers, table: vec ? 'vec' : 'vec0', hnsw, raw_mib: raw, own: run(false), shared: run(true) };
  const f = (x) => x.toFixed(0);
  console.log(`${vec ? 'vec' : 'vec0'}: ${n} x ${dims} float32 cosine${hnsw ? ', hnsw index' : ''} (raw vectors ${f(raw)} MiB), ${readers} readers on worker threads`);
  console.log('reader | first query ms own / shared | process growth MiB own / shared');
  for (let i = 0; i < readers; i++) {
    const o = result.own.first[i];
    const s = result.shared.first[i];
    console.log(`${i + 1} | ${o.ms.toFixed(1)} / ${s.ms.toFixed(1)} | ${f(o.rss_mib)} / ${f(s.rss_mib)}`);
  }
  const ratio = (mode) => result[mode].first[readers - 1].rss_mib / result[mode].first[0].rss_mib;
  console.log(`memory for ${readers} readers / 1 reader: own ${ratio('own').toFixed(2)}x, shared ${ratio('shared').toFixed(2)}x`);
  const ms = (xs) => xs.map((x) => x.toFixed(1)).join(' ');
  console.log(`after one commit, each reader's next query ms: own ${ms(result.own.after_commit_ms)}; shared ${ms(result.shared.after_commit_ms)}`);
  console.log(`process growth at the end MiB: own ${f(result.own.rss_end_mib)}, shared ${f(result.shared.rss_end_mib)}`);
  if (out) {
    // The chart file of docs/benchmarks.md (scripts/plots.mjs): memory by readers, own vs shared.
    const rows = [];
    for (const mode of ['own', 'shared'])
      for (let i = 0; i < readers; i++)
        rows.push({
          readers: `${i + 1} reader${i ? 's' : ''}`,
          caches: mode === 'own' ? 'one per connection' : 'shared',
          MiB: Math.round(result[mode].first[i].rss_mib),
          first_query_ms: Math.round(result[mode].first[i].ms * 10) / 10,
        });
    const argv = process.argv.slice(2).filter((a, i, all) => a !== '--out' && all[i - 1] !== '--out');
    const data = {
      title: `${vec ? 'vec' : 'vec0'}${hnsw ? ' with an hnsw index' : ''}: process memory with N readers, ${n / 1000}k x ${dims} float32`,
      machine: `${os.cpus().length}-core ${os.cpus()[0].model.trim()}`,
      command: `node bench/shared_cache.js ${argv.join(' ')}`.trim(),
      chart: { x: 'readers', y: 'MiB', series: 'caches', yTitle: 'process growth, MiB' },
      rows,
      after_commit_ms: { own: result.own.after_commit_ms.map((x) => Math.round(x * 10) / 10), shared: result.shared.after_commit_ms.map((x) => Math.round(x * 10) / 10) },
    };
    fs.writeFileSync(out, JSON.stringify(data, null, 2) + '\n');
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
