// Pool benchmark: exact KNN throughput of openPool with 1 and 2 reader workers against one
// synchronous better-sqlite3 connection, and the event loop's delay (p50/p99/max, from
// perf_hooks.monitorEventLoopDelay) while a steady stream of short queries is served.
//
//   node bench/pool.js [--n 100000] [--dim 768] [--k 10] [--seconds 8] [--file /tmp/vecsqlite-pool-bench.db]
//                      [--small 30000] [--rate 0.5] [--only throughput|steady] [--build-only]
//                      [--inflight 2,16]
// Throughput runs with each --inflight value (queries in flight per worker), with the pool's
// batching of concurrent knn calls off and on.
//
// Every configuration runs in a child process of its own, so VECSQLITE_QUERY_THREADS (read once
// per process) can differ between them:
//   adaptive   the default policy: an idle process lets one scan use several cores, concurrent
//              queries get one core each
//   1 thread   VECSQLITE_QUERY_THREADS=1: every query on its calling thread
// The database file is built once (seeded) and reused.
'use strict';
const path = require('path');
const fs = require('fs');
const { spawnSync } = require('child_process');
const os = require('os');

const { opt, rng } = require('./common');
const args = process.argv.slice(2);

const root = path.join(__dirname, '..');
const N = Number(opt('n', 100000));
const DIM = Number(opt('dim', 768));
const K = Number(opt('k', 10));
const SECONDS = Number(opt('seconds', 8));
const SMALL = Number(opt('small', 30000));
const RATE = Number(opt('rate', 0.5));
const SMALL_TABLE = `small_${SMALL}`;
const ONLY = opt('only', 'all'); // throughput | steady | all
// Closed-loop throughput: queries in flight per worker (one list: a row per value).
const INFLIGHT = String(opt('inflight', '2,16')).split(',').map(Number);
const FILE = opt('file', path.join(os.tmpdir(), `vecsqlite-pool-bench-${N}x${DIM}.db`));

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const queries = (count, seed) => {
  const r = rng(seed);
  return Array.from({ length: count }, () => Float32Array.from({ length: DIM }, () => r() * 2 - 1));
};

// --- the data set: `big` (N rows) and `small_<SMALL>` (SMALL rows), both vec0 float[DIM] -------
function build() {
  if (fs.existsSync(FILE)) return addSmall();
  const Database = require('better-sqlite3');
  const vs = require(root);
  const tmp = `${FILE}.tmp`;
  fs.rmSync(tmp, { force: true });
  const db = new Database(tmp);
  vs.load(db);
  db.pragma('journal_mode = wal');
  for (const [table, rows] of [['big', N]]) {
    db.exec(`create virtual table ${table} using vec0(embedding float[${DIM}])`);
    const ins = db.prepare(`insert into ${table}(rowid, embedding) values (?, ?)`);
    const r = rng(table === 'big' ? 1 : 2);
    const v = new Float32Array(DIM);
    const buf = Buffer.from(v.buffer);
    for (let start = 0; start < rows; start += 5000) {
      db.transaction(() => {
        for (let i = start; i < Math.min(rows, start + 5000); i++) {
          for (let d = 0; d < DIM; d++) v[d] = r() * 2 - 1;
          ins.run(i + 1, buf);
        }
      })();
    }
  }
  db.pragma('wal_checkpoint(truncate)');
  db.close();
  fs.renameSync(tmp, FILE);
  for (const s of ['-wal', '-shm']) fs.rmSync(`${tmp}${s}`, { force: true });
  addSmall();
}

// The steady-load table `small_<SMALL>` (SMALL rows, seeded), added to the file when missing.
function addSmall() {
  const Database = require('better-sqlite3');
  const vs = require(root);
  const db = new Database(FILE);
  vs.load(db);
  const table = `small_${SMALL}`;
  if (!db.prepare("select 1 from sqlite_schema where name = ?").get(table)) {
    db.exec(`create virtual table ${table} using vec0(embedding float[${DIM}])`);
    const ins = db.prepare(`insert into ${table}(rowid, embedding) values (?, ?)`);
    const r = rng(SMALL);
    const v = new Float32Array(DIM);
    const buf = Buffer.from(v.buffer);
    db.transaction(() => {
      for (let i = 0; i < SMALL; i++) {
        for (let d = 0; d < DIM; d++) v[d] = r() * 2 - 1;
        ins.run(i + 1, buf);
      }
    })();
    db.pragma('wal_checkpoint(truncate)');
  }
  db.close();
}

// --- one measurement, in a child process ----------------------------------------------------
async function child(kind, workers) {
  const { monitorEventLoopDelay } = require('perf_hooks');
  const vs = require(root);
  const now = () => Number(process.hrtime.bigint()) / 1e6;
  const qs = queries(64, 99);
  const out = { kind, workers };
  if (kind === 'sync-steady') {
    // The same open loop as 'steady', the queries run on the main thread (better-sqlite3), at
    // the rate given by --rate-qps: the event loop waits out every query.
    const Database = require('better-sqlite3');
    const db = new Database(FILE, { readonly: true });
    vs.load(db);
    const st = db.prepare(`select rowid, distance from ${SMALL_TABLE} where embedding match ? and k = ?`);
    for (let i = 0; i < 5; i++) st.all(Buffer.from(qs[i].buffer), K);
    const interval = 1000 / Number(opt('rate-qps', 50));
    const h = monitorEventLoopDelay({ resolution: 1 });
    const lat = [];
    h.enable();
    const t0 = now();
    let sent = 0;
    while (now() - t0 < SECONDS * 1000) {
      const wait = t0 + sent * interval - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const s = now();
      st.all(Buffer.from(qs[sent % qs.length].buffer), K);
      lat.push(now() - s);
      sent++;
    }
    h.disable();
    db.close();
    Object.assign(out, { qps: sent / SECONDS, queryMs: pct(lat, 0.5), p50: pct(lat, 0.5), p99: pct(lat, 0.99), loopP50: h.percentile(50) / 1e6, loopP99: h.percentile(99) / 1e6, loopMax: h.max / 1e6 });
    return out;
  }
  if (kind === 'sync') {
    const Database = require('better-sqlite3');
    const db = new Database(FILE, { readonly: true });
    vs.load(db);
    const st = db.prepare('select rowid, distance from big where embedding match ? and k = ?');
    st.all(Buffer.from(qs[0].buffer), K);
    let n = 0;
    const t0 = now();
    while (now() - t0 < SECONDS * 1000) st.all(Buffer.from(qs[n++ % qs.length].buffer), K);
    out.qps = n / ((now() - t0) / 1000);
    db.close();
    return out;
  }
  const pool = await vs.openPool(FILE, { workers, batchKnn: opt('batch-knn', '1') !== '0' });
  const inflight = Number(opt('inflight-now', 2));
  // Warm every reader's cache of both tables.
  await Promise.all(Array.from({ length: workers * 3 }, (_, i) => pool.knn('big', qs[i], { k: K })));
  await Promise.all(Array.from({ length: workers * 3 }, (_, i) => pool.knn(SMALL_TABLE, qs[i], { k: K })));
  if (kind === 'throughput') {
    // Closed loop: `inflight` queries in flight per worker for SECONDS.
    let n = 0;
    const lat = [];
    const t0 = now();
    const loop = async (j) => {
      while (now() - t0 < SECONDS * 1000) {
        const s = now();
        await pool.knn('big', qs[(j * 7 + n) % qs.length], { k: K });
        lat.push(now() - s);
        n++;
      }
    };
    await Promise.all(Array.from({ length: workers * inflight }, (_, j) => loop(j)));
    out.qps = n / ((now() - t0) / 1000);
    out.p50 = pct(lat, 0.5);
    out.p99 = pct(lat, 0.99);
  } else {
    // Open loop: queries on `small` arriving evenly at RATE x the pool's measured capacity (a
    // 3 s closed loop first). The event loop's delay is sampled meanwhile; 'idle' samples it
    // with no queries at all, for the machine's own noise.
    const lat = [];
    const single = [];
    for (let i = 0; i < 20; i++) {
      const s = now();
      await pool.knn(SMALL_TABLE, qs[i % qs.length], { k: K });
      single.push(now() - s);
    }
    let done = 0;
    const c0 = now();
    await Promise.all(Array.from({ length: workers * 2 }, async (_, j) => {
      while (now() - c0 < 3000) {
        await pool.knn(SMALL_TABLE, qs[(j + done) % qs.length], { k: K });
        done++;
      }
    }));
    const capacity = done / ((now() - c0) / 1000);
    const interval = 1000 / (capacity * RATE);
    const h = monitorEventLoopDelay({ resolution: 1 });
    const inflight = [];
    h.enable();
    const t0 = now();
    let sent = 0;
    while (now() - t0 < SECONDS * 1000) {
      const wait = t0 + sent * interval - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (kind === 'steady') {
        const s = now();
        inflight.push(pool.knn(SMALL_TABLE, qs[sent % qs.length], { k: K }).then(() => lat.push(now() - s)));
      }
      sent++;
    }
    await Promise.all(inflight);
    h.disable();
    out.queryMs = pct(single, 0.5);
    out.capacity = capacity;
    out.qps = sent / SECONDS;
    if (lat.length) {
      out.p50 = pct(lat, 0.5);
      out.p99 = pct(lat, 0.99);
    }
    out.loopP50 = h.percentile(50) / 1e6;
    out.loopP99 = h.percentile(99) / 1e6;
    out.loopMax = h.max / 1e6;
  }
  await pool.close();
  return out;
}

function run(kind, workers, threads, extra = []) {
  const env = { ...process.env };
  if (threads) env.VECSQLITE_QUERY_THREADS = String(threads);
  else delete env.VECSQLITE_QUERY_THREADS;
  const r = spawnSync(process.execPath, [__filename, ...args, ...extra, '--child', `${kind}:${workers}`], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child ${kind}:${workers} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

async function main() {
  const c = opt('child', null);
  if (c !== null) {
    const [kind, w] = c.split(':');
    process.stdout.write(`${JSON.stringify(await child(kind, Number(w)))}\n`);
    return;
  }
  build();
  if (args.includes('--build-only')) return;
  const f = (x, d = 1) => (x === undefined ? '' : x.toFixed(d));
  console.log(`# pool benchmark: ${N} x ${DIM} float32 (exact KNN, k = ${K}), ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (ONLY !== 'steady') {
    console.log('\n## Throughput (closed loop)\n');
    console.log('| configuration | threads per query | in flight per worker | knn batching | queries/s | p50 ms | p99 ms | vs 1 worker |');
    console.log('|---|---|---:|---|---:|---:|---:|---:|');
    for (const threads of [1, 0]) {
      const label = threads === 1 ? '1 (VECSQLITE_QUERY_THREADS=1)' : 'adaptive (default)';
      const sync = run('sync', 0, threads);
      console.log(`| one better-sqlite3 connection, main thread | ${label} | | | ${f(sync.qps)} | | | |`);
      for (const inflight of INFLIGHT) {
        for (const batching of ['0', '1']) {
          const extra = ['--inflight-now', String(inflight), '--batch-knn', batching];
          const one = run('throughput', 1, threads, extra);
          const two = run('throughput', 2, threads, extra);
          const b = batching === '1' ? 'on' : 'off';
          console.log(`| openPool, 1 worker | ${label} | ${inflight} | ${b} | ${f(one.qps)} | ${f(one.p50)} | ${f(one.p99)} | 1.00 |`);
          console.log(`| openPool, 2 workers | ${label} | ${inflight} | ${b} | ${f(two.qps)} | ${f(two.p50)} | ${f(two.p99)} | ${f(two.qps / one.qps, 2)} |`);
        }
      }
    }
  }
  if (ONLY === 'throughput') return;
  console.log(`\n## Event-loop delay under a steady load (${SMALL} x ${DIM} table, arrivals at ${RATE * 100}% of the pool's capacity)\n`);
  console.log('| run | workers | query ms (median, alone) | capacity queries/s | queries/s offered | latency p50 ms | latency p99 ms | loop delay p50 ms | loop delay p99 ms | loop delay max ms |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  let steadyQps = 50;
  for (const [kind, w] of [['idle', 2], ['steady', 1], ['steady', 2]]) {
    const r = run(kind, w, 0);
    console.log(`| ${kind === 'idle' ? 'timer only, no queries' : 'pool'} | ${w} | ${f(r.queryMs, 2)} | ${f(r.capacity)} | ${kind === 'idle' ? 0 : f(r.qps)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${f(r.loopP50, 2)} | ${f(r.loopP99, 2)} | ${f(r.loopMax, 2)} |`);
    if (kind === 'steady' && w === 2) steadyQps = r.qps;
  }
  // The same rate of queries, run synchronously on the main thread.
  const r = run('sync-steady', 0, 0, ['--rate-qps', String(steadyQps)]);
  console.log(`| better-sqlite3 on the main thread | 0 | ${f(r.queryMs, 2)} | | ${f(r.qps)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${f(r.loopP50, 2)} | ${f(r.loopP99, 2)} | ${f(r.loopMax, 2)} |`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
