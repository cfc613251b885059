#!/usr/bin/env node
// vecsync bench (`npm run build:ts && node bench/vecsync.js [--docs N] [--dim D] [--rate R] [--seconds S] [--batch B]
//  [--repeat R] [--baseline other/lib/cli/index.js]`):
//  1. catch-up: N documents x D float32 dims written to MariaDB (shadow_sync.ddl triggers log
//     them), then replicated into a SQLite file: rows/s of the catch-up, through the library and
//     through the `vecsqlite sync` command line (process start included; --batch sets its
//     --batch-size, default the CLI's);
//  2. steady state: an upstream writer at R writes/s for S seconds while the replicator follows
//     (poll 50 ms); lag = time from the upstream commit to the replica applying it (median, p95).
//     --seconds 0 skips it.
'use strict';
const path = require('path');
const fs = require('fs');
const os = require('os');
const mysql = require('mysql2/promise');
const Database = require('better-sqlite3');
const root = path.join(__dirname, '..');
const { vecsync, load } = require(root);

const arg = (name, def) => { const i = process.argv.indexOf('--' + name); return i > 0 ? Number(process.argv[i + 1]) : def; };
const DOCS = arg('docs', 100000), DIM = arg('dim', 384), RATE = arg('rate', 1000), SECONDS = arg('seconds', 20), BATCH = arg('batch', 0), REPEAT = arg('repeat', 3);
const BASELINE = (() => { const i = process.argv.indexOf('--baseline'); return i > 0 ? process.argv[i + 1] : null; })();
const URL_ = process.env.VECSQLITE_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test';

function vec(seed) {
  const b = Buffer.alloc(DIM * 4);
  let x = seed >>> 0;
  for (let i = 0; i < DIM; i++) { x = (x * 1664525 + 1013904223) >>> 0; b.writeFloatLE(x / 4294967296 - 0.5, i * 4); }
  return b;
}

async function main() {
  const admin = await mysql.createConnection({ uri: URL_ });
  const dbName = `vecsqlite_bench_${process.pid}`;
  await admin.query(`CREATE DATABASE ${dbName}`);
  const u = new URL(URL_); u.pathname = '/' + dbName;
  const conn = await mysql.createConnection({ uri: u.toString() });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vecsync-bench-'));
  try {
    const ddl = fs.readFileSync(path.join(root, 'db', 'schema', 'mysql', 'shadow_sync.ddl'), 'utf8');
    for (const s of vecsync.splitMysqlScript(ddl)) await conn.query(s);
    await conn.query("INSERT INTO vec_dataset(dataset_id) VALUES ('bench')");
    console.log(`# vecsync bench  date=${new Date().toISOString()}  node=${process.version}  docs=${DOCS} dim=${DIM}`);
    let t = Date.now();
    const chunk = 500;
    for (let i = 0; i < DOCS; i += chunk) {
      const rows = [];
      for (let j = i; j < Math.min(DOCS, i + chunk); j++) rows.push(['bench', 'doc' + j, 'text ' + j, vec(j), 'mini', j]);
      await conn.query('INSERT INTO shadow_vec_docs(dataset_id, id, content, embedding, embedding_model, scn) VALUES ?', [rows]);
    }
    console.log(`upstream load: ${DOCS} docs in ${((Date.now() - t) / 1000).toFixed(1)} s (MariaDB with log triggers)`);

    const target = path.join(dir, 'replica.sqlite');
    const local = new Database(target);
    local.pragma('journal_mode = WAL');
    load(local);
    const source = await vecsync.MysqlLogSource.connect(u.toString());
    const rep = new vecsync.Replicator({ source, target: local, tables: [{ upstream: 'shadow_vec_docs', local: '_vec_docs' }], batchSize: 2000 });
    t = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const r = await rep.catchUp();
    const sec = Number(process.hrtime.bigint() - t) / 1e9;
    const c1 = process.cpuUsage(c0);
    console.log(`catch-up: ${r.applied} changes in ${sec.toFixed(2)} s = ${Math.round(r.applied / sec)} rows/s; ${Math.round(r.applied / ((c1.user + c1.system) / 1e6))} rows per CPU-second (load average ${os.loadavg()[0].toFixed(1)})`);
    console.log(JSON.stringify({ kind: 'catchup', docs: DOCS, dim: DIM, seconds: sec, rowsPerSec: r.applied / sec }));

    // The same catch-up through the command line, into a fresh file each time (process start
    // included), REPEAT times; with --baseline <cli.js> (another build's lib/cli/index.js) the two
    // command lines alternate, so both see the same machine load, and the ratio is reported.
    // CPU seconds used by finished children (Linux /proc; 100 ticks a second): a figure that the
    // machine's load changes much less than the wall time.
    const childCpu = () => {
      try {
        const f = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
        return (Number(f[13]) + Number(f[14])) / 100; // cutime + cstime (fields 16 and 17)
      } catch { return NaN; }
    };
    const cpuOf = new Map();
    const runCli = (cli, n) => {
      const cpu0 = childCpu();
      const cliTarget = path.join(dir, `replica-cli-${n}.sqlite`);
      const cliArgs = [cli, 'sync', '--source', u.toString(), '--target', cliTarget, '--table', 'shadow_vec_docs:_vec_docs', '--no-progress'];
      if (BATCH) cliArgs.push('--batch-size', String(BATCH));
      const t0 = process.hrtime.bigint();
      const out = require('child_process').execFileSync(process.execPath, cliArgs, { encoding: 'utf8' });
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      fs.rmSync(cliTarget, { force: true }); fs.rmSync(cliTarget + '-wal', { force: true }); fs.rmSync(cliTarget + '-shm', { force: true });
      const rows = Number(/applied (\d+) changes/.exec(out)[1]);
      (cpuOf.get(cli) || cpuOf.set(cli, []).get(cli)).push(rows / (childCpu() - cpu0));
      return rows / s;
    };
    const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const ours = [], base = [];
    for (let i = 0; i < REPEAT; i++) {
      ours.push(runCli(path.join(root, 'lib', 'cli', 'index.js'), `a${i}`));
      if (BASELINE) base.push(runCli(path.resolve(BASELINE), `b${i}`));
    }
    const oursCli = path.join(root, 'lib', 'cli', 'index.js');
    const cpuRate = (cli) => Math.round(median(cpuOf.get(cli)));
    console.log(`catch-up (CLI${BATCH ? ' --batch-size ' + BATCH : ''}, median of ${REPEAT}): ${Math.round(median(ours))} rows/s  [runs: ${ours.map(Math.round).join(', ')}]; ${cpuRate(oursCli)} rows per CPU-second of the CLI process`);
    if (BASELINE) {
      console.log(`catch-up (baseline CLI ${BASELINE}, median of ${REPEAT}): ${Math.round(median(base))} rows/s  [runs: ${base.map(Math.round).join(', ')}]; ${cpuRate(path.resolve(BASELINE))} rows per CPU-second; ratio ${(median(ours) / median(base)).toFixed(2)}x (wall), ${(cpuRate(oursCli) / cpuRate(path.resolve(BASELINE))).toFixed(2)}x (CPU)`);
    }
    console.log(JSON.stringify({ kind: 'catchup-cli', docs: DOCS, dim: DIM, rowsPerSec: median(ours), rowsPerCpuSec: cpuRate(oursCli), baselineRowsPerSec: BASELINE ? median(base) : null, baselineRowsPerCpuSec: BASELINE ? cpuRate(path.resolve(BASELINE)) : null, loadavg: os.loadavg()[0] }));
    if (SECONDS <= 0) { await source.close(); local.close(); return; }

    // Steady state: writer at RATE/s (updates of existing docs), replicator following.
    const writers = await Promise.all([0, 1, 2, 3].map(() => mysql.createConnection({ uri: u.toString() })));
    const commitAt = new Map();
    const lags = [];
    const getContent = local.prepare("SELECT content FROM _vec_docs WHERE dataset_id = 'bench' AND id = ?").pluck();
    let stop = false;
    const follow = (async () => {
      while (!stop) {
        await rep.catchUp();
        const now = Date.now();
        for (const [id, info] of commitAt) {
          if (getContent.get(id) === info.content) { lags.push(now - info.at); commitAt.delete(id); }
        }
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    const end = Date.now() + SECONDS * 1000;
    let n = 0;
    const perTick = Math.max(1, Math.round(RATE / 100));
    while (Date.now() < end) {
      const tickStart = Date.now();
      const batch = [];
      for (let k = 0; k < perTick; k++, n++) {
        const id = 'doc' + (n % DOCS);
        const content = `v${n}`;
        const w = writers[k % writers.length];
        batch.push(w.query("UPDATE shadow_vec_docs SET content = ?, embedding = ? WHERE dataset_id = 'bench' AND id = ?", [content, vec(n + 7), id])
          .then(() => commitAt.set(id, { content, at: Date.now() })));
      }
      await Promise.all(batch);
      const spare = 10 - (Date.now() - tickStart);
      if (spare > 0) await new Promise((res) => setTimeout(res, spare));
    }
    const achieved = n / SECONDS;
    await new Promise((res) => setTimeout(res, 1000));
    stop = true;
    await follow;
    lags.sort((a, b) => a - b);
    const q = (p) => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))];
    console.log(`steady state: ${achieved.toFixed(0)} upstream writes/s for ${SECONDS} s; replica lag median ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${lags[lags.length - 1]} ms (${lags.length} samples)`);
    console.log(JSON.stringify({ kind: 'lag', writesPerSec: achieved, medianMs: q(0.5), p95Ms: q(0.95) }));
    await Promise.all(writers.map((w) => w.end()));
    await source.close();
    local.close();
  } finally {
    if (process.env.VECSYNC_BENCH_KEEP) console.log(`kept upstream database: ${u.toString()}`);
    else await admin.query(`DROP DATABASE ${dbName}`);
    await admin.end();
    await conn.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
