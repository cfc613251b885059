#!/usr/bin/env node
// Concurrency soak: 1 writer and 4 readers on one WAL database for a fixed time.
//
//   node scripts/soak.js [--seconds 60] [--writer process|thread] [--seed 1]
//
// The writer commits transaction after transaction into a vec0 table (float[8], a metadata
// column): transaction i inserts 40 rows, deletes the rows transaction i-20 inserted whose
// rowid % 4 != 0, updates one vector, and stores i in a ledger table in the same transaction.
// The content after transaction i is therefore a known function of i. Readers (2 child
// processes and 2 worker threads, each with its own connection) loop: in one read transaction
// they read the ledger's i, count(*), every rowid and vector, and a KNN query with a metadata
// filter, and check that all of it is exactly the state after transaction i (KNN against a
// brute-force oracle over that state), and that i never goes backwards for a reader.
// Prints reads, snapshots seen and errors per reader, exits 1 on any error or inconsistency.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { Worker, isMainThread, workerData, parentPort } = require('worker_threads');
const Database = require('better-sqlite3');
const { load } = require(path.join(__dirname, '..'));
const { opt, rng } = require('../bench/common');

const DIMS = 8;
const BATCH = 40;
const KEEP = 20;

function vecOf(r, ver) {
  const g = rng(r * 31337 + ver * 7727 + 3);
  return Float32Array.from({ length: DIMS }, () => g() * 2 - 1);
}
const blob = (f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength);
function txnOps(i) {
  const ins = [];
  for (let r = (i - 1) * BATCH + 1; r <= i * BATCH; r++) ins.push(r);
  const del = [];
  if (i > KEEP) for (let r = (i - KEEP - 1) * BATCH + 1; r <= (i - KEEP) * BATCH; r++) if (r % 4 !== 0) del.push(r);
  return { ins, del, upd: i > 1 ? [(i - 2) * BATCH + 2] : [] };
}
/** Advances `state` (rowid -> version) from transaction `from` + 1 to `to`. */
function advance(state, from, to) {
  for (let i = from + 1; i <= to; i++) {
    const { ins, del, upd } = txnOps(i);
    for (const r of ins) state.set(r, 0);
    for (const r of del) state.delete(r);
    for (const r of upd) if (state.has(r)) state.set(r, state.get(r) + 1);
  }
}

function openDb(file) {
  const db = new Database(file);
  load(db);
  db.pragma('busy_timeout = 10000');
  return db;
}

// ---- roles -----------------------------------------------------------------------------------
function writer(file, untilMs) {
  const db = openDb(file);
  const ins = db.prepare('insert into t(rowid, e, m) values (?, ?, ?)');
  const del = db.prepare('delete from t where rowid = ?');
  const upd = db.prepare('update t set e = ? where rowid = ?');
  const bump = db.prepare('update ledger set i = ? where id = 1');
  const state = new Map();
  let i = 0;
  while (Date.now() < untilMs) {
    const n = i + 1;
    const ops = txnOps(n);
    db.transaction(() => {
      for (const r of ops.ins) ins.run(BigInt(r), blob(vecOf(r, 0)), BigInt(r % 5));
      for (const r of ops.del) del.run(BigInt(r));
      for (const r of ops.upd) if (state.has(r) || ops.ins.includes(r)) upd.run(blob(vecOf(r, (state.get(r) ?? 0) + 1)), BigInt(r));
      bump.run(n);
    })();
    advance(state, i, n);
    i = n;
  }
  db.close();
  return { role: 'writer', commits: i, errors: 0 };
}

function reader(file, untilMs, name, seed) {
  const db = openDb(file);
  const g = rng(seed);
  const ledger = db.prepare('select i from ledger where id = 1').pluck();
  const count = db.prepare('select count(*) from t').pluck();
  const all = db.prepare('select rowid, e from t order by rowid').raw();
  const knn = db.prepare('select rowid, distance from t where e match ? and k = 10 and m != ?').raw();
  const state = new Map();
  let at = 0;
  let reads = 0;
  const seen = new Set();
  const errors = [];
  while (Date.now() < untilMs && errors.length < 5) {
    try {
      db.exec('begin');
      let i;
      try {
        i = ledger.get();
        if (i < at) throw new Error(`snapshot went back from ${at} to ${i}`);
        advance(state, at, i);
        at = i;
        const c = count.get();
        if (c !== state.size) throw new Error(`snapshot ${i}: count(*) ${c}, expected ${state.size}`);
        const rows = all.all();
        if (rows.length !== state.size) throw new Error(`snapshot ${i}: scan returned ${rows.length} rows, expected ${state.size}`);
        for (const [r, e] of rows) {
          if (!state.has(r)) throw new Error(`snapshot ${i}: row ${r} should not be there`);
          if (!blob(vecOf(r, state.get(r))).equals(e)) throw new Error(`snapshot ${i}: vector of row ${r} differs`);
        }
        const q = Float32Array.from({ length: DIMS }, () => g() * 2 - 1);
        const skip = Math.floor(g() * 5);
        const got = knn.all(blob(q), BigInt(skip));
        const oracle = [...state.entries()]
          .filter(([r]) => r % 5 !== skip)
          .map(([r, ver]) => {
            const v = vecOf(r, ver);
            return [r, Math.sqrt(v.reduce((s, x, j) => s + (x - q[j]) ** 2, 0))];
          })
          .sort((a, b) => a[1] - b[1])
          .slice(0, 10);
        if (got.length !== oracle.length || got.some((x, j) => x[0] !== oracle[j][0] || Math.abs(x[1] - oracle[j][1]) > 1e-4))
          throw new Error(`snapshot ${i}: KNN ${JSON.stringify(got.map((x) => x[0]))} != brute force ${JSON.stringify(oracle.map((x) => x[0]))}`);
      } finally {
        db.exec('commit');
      }
      reads++;
      seen.add(i);
    } catch (e) {
      errors.push(e.message);
    }
  }
  const stats = JSON.parse(db.prepare('select vec_stats()').pluck().get());
  db.close();
  return { role: name, reads, snapshots: seen.size, loads: stats.vec0_loads, refreshes: stats.vec0_refreshes, errors: errors.length, messages: errors };
}

// ---- orchestration ---------------------------------------------------------------------------
// Each party runs for `ms` from the moment it is up (a slow start, e.g. under a sanitizer,
// shortens nobody's run).
function runProcess(role, file, ms, seed) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [__filename, '--role', role, '--file', file, '--ms', String(ms), '--seed', String(seed)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()));
      } catch {
        resolve({ role, reads: 0, errors: 1, messages: [`exit ${code}: ${err.trim().slice(0, 500)}`] });
      }
    });
  });
}
function runThread(role, file, ms, seed) {
  return new Promise((resolve) => {
    const w = new Worker(__filename, { workerData: { role, file, ms, seed } });
    let res = null;
    w.on('message', (m) => (res = m));
    w.on('error', (e) => (res = { role, reads: 0, errors: 1, messages: [e.message] }));
    w.on('exit', () => resolve(res ?? { role, reads: 0, errors: 1, messages: ['worker exited without a result'] }));
  });
}
function runRole(role, file, ms, seed) {
  const untilMs = Date.now() + ms;
  return role === 'writer' ? writer(file, untilMs) : reader(file, untilMs, role, seed);
}

async function main() {
  const role = opt('role', null);
  if (role) {
    const res = runRole(role, opt('file'), Number(opt('ms')), Number(opt('seed')));
    process.stdout.write(`${JSON.stringify(res)}\n`);
    return;
  }
  const seconds = Number(opt('seconds', process.env.SOAK_SECONDS || 60));
  const writerKind = opt('writer', 'process');
  const seed = Number(opt('seed', 1));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vecsqlite-soak-'));
  const file = path.join(dir, 'soak.db');
  const db = openDb(file);
  db.pragma('journal_mode = wal');
  db.exec('create virtual table t using vec0(e float[8], m integer, chunk_size=64)');
  db.exec('create table ledger(id integer primary key, i integer not null); insert into ledger values (1, 0)');
  db.close();
  const ms = seconds * 1000;
  const jobs = [
    writerKind === 'thread' ? runThread('writer', file, ms, seed) : runProcess('writer', file, ms, seed),
    runProcess('reader-process-1', file, ms, seed + 1),
    runProcess('reader-process-2', file, ms, seed + 2),
    runThread('reader-thread-1', file, ms, seed + 3),
    runThread('reader-thread-2', file, ms, seed + 4),
  ];
  const results = await Promise.all(jobs);
  fs.rmSync(dir, { recursive: true, force: true });
  let errors = 0;
  for (const r of results) {
    errors += r.errors;
    const what = r.role === 'writer' ? `${r.commits} commits` : `${r.reads} consistent reads over ${r.snapshots} snapshots (its process: ${r.loads} vec0 cache loads, ${r.refreshes} refreshes)`;
    console.log(`soak ${r.role.padEnd(17)} ${what}, ${r.errors} errors${r.messages && r.messages.length ? `: ${r.messages.join(' | ')}` : ''}`);
  }
  const w = results[0];
  const reads = results.slice(1).reduce((s, r) => s + r.reads, 0);
  console.log(JSON.stringify({ seconds, writer: writerKind, commits: w.commits, reads, errors }));
  if (errors > 0 || reads === 0 || !w.commits) process.exit(1);
}

if (!isMainThread) {
  const { role, file, ms, seed } = workerData;
  parentPort.postMessage(runRole(role, file, ms, seed));
} else if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
module.exports = { writer, reader, openDb };
