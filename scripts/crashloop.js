#!/usr/bin/env node
// Crash loop: kill -9 a writer process at random moments, then check the database it left.
//
//   node scripts/crashloop.js [--kills 100] [--mode ingest|reindex|graph|both|all] [--seed 1] [--dir DIR]
//
// ingest   a child bulk-loads a vec0 table (float[16], metadata column, chunk_size 64) in
//          transactions of 50 inserts, 10 deletes and 1 update, each also bumping a counter in
//          an ordinary table; it prints the number of every transaction it committed.
// reindex  a child writes a `vec` table's data table in transactions (counter likewise) and
//          runs `vec_admin` reindex (rebuild + save of the dataset's index) between them.
// graph    the ingest transactions into a vec0 table whose column has a graph index
//          (`indexed by hnsw`), each linking its rows at commit, and after every second one a
//          full rebuild of the graph (`insert into t(t) values ('rebuild')`, every core, all
//          its blocks rewritten in one transaction). The reopen checks also ask the graph:
//          it must load (or rebuild itself, counted in vec_stats) and answer min(k, rows) rows
//          with exact distances at ef 256, finding at least 90% of the brute-force 10 nearest
//          of the 3 queries together.
// both = ingest and reindex; all = the three.
// Each is killed with SIGKILL at a random moment `--kills` times, alternating between a WAL
// file and a rollback-journal file, and every reopen must pass:
//   - PRAGMA integrity_check = ok;
//   - the counter N is at least the last transaction the child reported, and the table holds
//     exactly the rows of transactions 1..N (count, ids and every vector: all or nothing);
//   - KNN for 3 random queries equals a brute-force oracle over those rows.
// Exits 1 on the first violation (the file is kept), else prints a summary (and a JSON line).
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const Database = require('better-sqlite3');
const { load } = require(path.join(__dirname, '..'));
const { opt, rng } = require('../bench/common');


const DIMS = 16;
const BATCH = 50;

/** The vector of row `r` at version `ver` (0: inserted, 1: updated): float32-exact values. */
function vecOf(r, ver) {
  const g = rng(r * 7919 + ver * 104729 + 17);
  return Float32Array.from({ length: DIMS }, () => g() * 2 - 1);
}
const blob = (f) => Buffer.from(f.buffer, f.byteOffset, f.byteLength);

// Transaction i (1-based): inserts rows (i-1)*BATCH+1 .. i*BATCH; deletes the rows of
// transaction i-3 whose rowid % 5 == 0; updates the first row of transaction i-1 to version 1.
function txnOps(i) {
  const ins = [];
  for (let r = (i - 1) * BATCH + 1; r <= i * BATCH; r++) ins.push(r);
  const del = [];
  if (i > 3) for (let r = (i - 4) * BATCH + 1; r <= (i - 3) * BATCH; r++) if (r % 5 === 0) del.push(r);
  const upd = i > 1 ? [(i - 2) * BATCH + 1] : [];
  return { ins, del, upd };
}
/** rowid -> version after transactions 1..n. */
function stateAfter(n) {
  const s = new Map();
  for (let i = 1; i <= n; i++) {
    const { ins, del, upd } = txnOps(i);
    for (const r of ins) s.set(r, 0);
    for (const r of del) s.delete(r);
    for (const r of upd) if (s.has(r)) s.set(r, 1);
  }
  return s;
}

function openDb(file, journal) {
  const db = new Database(file);
  load(db);
  db.pragma(`journal_mode = ${journal}`);
  db.pragma('synchronous = normal');
  return db;
}

// ---- children --------------------------------------------------------------------------------
/** Opens (creating when new) the ingest table; returns a function committing transaction i. */
function ingestWriter(db) {
  db.exec('create virtual table if not exists t using vec0(e float[16], m integer, chunk_size=64)');
  db.exec('create table if not exists progress(id integer primary key, n integer not null)');
  db.exec('insert or ignore into progress(id, n) values (1, 0)');
  const ins = db.prepare('insert into t(rowid, e, m) values (?, ?, ?)');
  const del = db.prepare('delete from t where rowid = ?');
  const upd = db.prepare('update t set e = ? where rowid = ?');
  const bump = db.prepare('update progress set n = ? where id = 1');
  return db.transaction((i) => {
    const ops = txnOps(i);
    for (const r of ops.ins) ins.run(BigInt(r), blob(vecOf(r, 0)), BigInt(r % 7));
    for (const r of ops.del) del.run(BigInt(r));
    for (const r of ops.upd) upd.run(blob(vecOf(r, 1)), BigInt(r));
    bump.run(i);
  });
}

function childGraph(file, journal) {
  const db = openDb(file, journal);
  db.exec('create virtual table if not exists t using vec0(e float[16] indexed by hnsw(m=8, ef_construction=48), m integer, chunk_size=64)');
  const commit = ingestWriter(db);
  const rebuild = db.prepare("insert into t(t) values ('rebuild')");
  let n = db.prepare('select n from progress').pluck().get();
  db.prepare("select rowid from t where e match ? and k = 1 and ef = 16").all(blob(vecOf(1, 0))); // load the graph
  process.stdout.write('ready\n');
  for (;;) {
    commit(n + 1);
    n++;
    process.stdout.write(`committed ${n}\n`);
    if (n % 2 === 0) {
      rebuild.run();
      process.stdout.write('rebuilt\n');
    }
  }
}

function childIngest(file, journal) {
  const db = openDb(file, journal);
  const commit = ingestWriter(db);
  let n = db.prepare('select n from progress').pluck().get();
  db.prepare('select count(*) from t').get(); // load the cache before saying ready
  process.stdout.write('ready\n');
  for (;;) {
    commit(n + 1);
    n++;
    process.stdout.write(`committed ${n}\n`);
  }
}

function childReindex(file, journal) {
  const db = openDb(file, journal);
  db.exec('create virtual table if not exists v using vec(doc_id)');
  db.exec('create virtual table if not exists temp.vec_admin using vec_admin(op)');
  db.exec('create table if not exists progress(id integer primary key, n integer not null)');
  db.exec('insert or ignore into progress(id, n) values (1, 0)');
  const ins = db.prepare("insert into _vec_v(dataset_id, id, embedding) values ('A', ?, ?)");
  const del = db.prepare("delete from _vec_v where dataset_id = 'A' and id = ?");
  const upd = db.prepare("update _vec_v set embedding = ? where dataset_id = 'A' and id = ?");
  const bump = db.prepare('update progress set n = ? where id = 1');
  const reindex = db.prepare("select op from vec_admin where op match 'main._vec_v:A'").pluck();
  let n = db.prepare('select n from progress').pluck().get();
  process.stdout.write('ready\n');
  for (;;) {
    const i = n + 1;
    const ops = txnOps(i);
    db.transaction(() => {
      for (const r of ops.ins) ins.run(`d${r}`, blob(vecOf(r, 0)));
      for (const r of ops.del) del.run(`d${r}`);
      for (const r of ops.upd) upd.run(blob(vecOf(r, 1)), `d${r}`);
      bump.run(i);
    })();
    n = i;
    process.stdout.write(`committed ${i}\n`);
    reindex.get();
    process.stdout.write('reindexed\n');
  }
}

// ---- checks ----------------------------------------------------------------------------------
const l2 = (a, b) => Math.sqrt(a.reduce((s, x, j) => s + (x - b[j]) ** 2, 0));
function cos(a, b) {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let j = 0; j < a.length; j++) {
    d += a[j] * b[j];
    na += a[j] * a[j];
    nb += b[j] * b[j];
  }
  return d / Math.sqrt(na * nb);
}

function verify(mode, file, journal, reported, g) {
  const db = openDb(file, journal);
  try {
    const ic = db.pragma('integrity_check', { simple: true });
    if (ic !== 'ok') throw new Error(`integrity_check: ${ic}`);
    const hasProgress = db.prepare("select count(*) from sqlite_master where name = 'progress'").pluck().get();
    const n = hasProgress ? db.prepare('select n from progress').pluck().get() ?? 0 : 0;
    if (n < reported) throw new Error(`counter ${n} < last reported commit ${reported} (a committed transaction was lost)`);
    if (n > reported + 1) throw new Error(`counter ${n} > last reported commit ${reported} + 1`);
    const state = stateAfter(n);
    if (n === 0) return { n, rows: 0 };
    const queries = [0, 1, 2].map(() => Float32Array.from({ length: DIMS }, () => g() * 2 - 1));
    if (mode === 'ingest' || mode === 'graph') {
      const count = db.prepare('select count(*) from t').pluck().get();
      if (count !== state.size) throw new Error(`count(*) ${count}, expected ${state.size} after ${n} transactions`);
      const rows = db.prepare('select rowid, e from t order by rowid').raw().all();
      const want = [...state.keys()].sort((a, b) => a - b);
      if (rows.length !== want.length || rows.some((r, i) => r[0] !== want[i])) throw new Error('rowids differ from transactions 1..N');
      for (const [r, e] of rows) if (!blob(vecOf(r, state.get(r))).equals(e)) throw new Error(`vector of row ${r} differs`);
      // An indexed table answers from its graph when that is cheaper: the oracle check takes the
      // exact scan (ef = 0), the graph is checked on its own below.
      const knn = db.prepare(`select rowid, distance from t where e match ? and k = 10${mode === 'graph' ? ' and ef = 0' : ''}`);
      let graphFound = 0;
      let graphWanted = 0;
      for (const q of queries) {
        const got = knn.raw().all(blob(q));
        const oracle = want.map((r) => [r, l2(vecOf(r, state.get(r)), q)]).sort((a, b) => a[1] - b[1]).slice(0, 10);
        if (got.length !== oracle.length || got.some((x, i) => x[0] !== oracle[i][0] || Math.abs(x[1] - oracle[i][1]) > 1e-4))
          throw new Error(`KNN ${JSON.stringify(got.map((x) => x[0]))} != brute force ${JSON.stringify(oracle.map((x) => x[0]))}`);
        if (mode === 'graph') {
          // The graph (forced by ef): it loads or rebuilds itself, returns min(10, rows) rows
          // at their exact distances, and finds at least 9 of the 10 nearest.
          const viaGraph = db.prepare('select rowid, distance from t where e match ? and k = 10 and ef = 256').raw().all(blob(q));
          if (viaGraph.length !== oracle.length) throw new Error(`graph returned ${viaGraph.length} rows, expected ${oracle.length}`);
          for (const [r, d] of viaGraph) {
            if (!state.has(r)) throw new Error(`graph returned row ${r}, which is not in the table`);
            if (Math.abs(d - l2(vecOf(r, state.get(r)), q)) > 1e-4) throw new Error(`graph distance of row ${r} is not exact`);
          }
          const truth = new Set(oracle.map((x) => x[0]));
          graphFound += viaGraph.filter((x) => truth.has(x[0])).length;
          graphWanted += oracle.length;
        }
      }
      if (graphFound < 0.9 * graphWanted) throw new Error(`graph found ${graphFound} of the ${graphWanted} nearest rows of 3 queries`);
      return { n, rows: count };
    }
    const count = db.prepare("select count(*) from _vec_v where dataset_id = 'A'").pluck().get();
    if (count !== state.size) throw new Error(`data table holds ${count} rows, expected ${state.size} after ${n} transactions`);
    const knn = db.prepare("select doc_id, match_score from v where dataset_id = 'A' and doc_id match ? limit 10");
    for (const q of queries) {
      const got = knn.raw().all(blob(q));
      const oracle = [...state.entries()].map(([r, ver]) => [`d${r}`, cos(vecOf(r, ver), q)]).sort((a, b) => b[1] - a[1]).slice(0, 10);
      if (got.length !== oracle.length || got.some((x, i) => x[0] !== oracle[i][0] || Math.abs(x[1] - oracle[i][1]) > 1e-4))
        throw new Error(`vec MATCH ${JSON.stringify(got.map((x) => x[0]))} != brute force ${JSON.stringify(oracle.map((x) => x[0]))}`);
    }
    return { n, rows: count };
  } finally {
    db.close();
  }
}

// ---- the loop --------------------------------------------------------------------------------
function runChild(mode, file, journal, delayMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--child', mode, '--file', file, '--journal', journal], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let reported = 0;
    let timer = null;
    let killedAt = '';
    child.stdout.on('data', (d) => {
      out += d;
      let k;
      while ((k = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, k);
        out = out.slice(k + 1);
        if (line === 'ready' && timer === null) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
        const m = /^committed (\d+)$/.exec(line);
        if (m) reported = Number(m[1]);
        killedAt = line;
      }
    });
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code, signal) => {
      if (timer) clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`child exited ${code ?? signal} before the kill: ${err.trim()}`));
      else resolve({ reported, lastLine: killedAt });
    });
  });
}

async function loop(mode, kills, seed, dir) {
  const g = rng(seed);
  const files = { wal: path.join(dir, `${mode}-wal.db`), delete: path.join(dir, `${mode}-delete.db`) };
  const reportedOf = { wal: 0, delete: 0 };
  let duringReindex = 0; // kills that landed after a commit, before the next reindex finished
  const t0 = Date.now();
  let last = null;
  for (let k = 0; k < kills; k++) {
    const journal = k % 2 === 0 ? 'wal' : 'delete';
    const delay = Math.floor(g() * 600);
    const { reported, lastLine } = await runChild(mode, files[journal], journal, delay);
    if (lastLine.startsWith('committed') && (mode === 'reindex' || Number(lastLine.split(' ')[1]) % 2 === 0)) duringReindex++;
    reportedOf[journal] = Math.max(reportedOf[journal], reported);
    try {
      last = verify(mode, files[journal], journal, reportedOf[journal], g);
    } catch (e) {
      console.error(`crashloop ${mode}: kill ${k + 1} (${journal}, ${delay} ms after ready): ${e.message}\nfile kept: ${files[journal]}`);
      process.exit(1);
    }
    reportedOf[journal] = last.n;
  }
  const s = (Date.now() - t0) / 1000;
  const res = {
    mode,
    kills,
    failures: 0,
    transactions: reportedOf.wal + reportedOf.delete,
    rows_wal: stateAfter(reportedOf.wal).size,
    rows_delete: stateAfter(reportedOf.delete).size,
    seconds: Number(s.toFixed(1)),
  };
  if (mode === 'reindex') res.killed_during_reindex = duringReindex;
  if (mode === 'graph') res.killed_during_rebuild = duringReindex;
  const during = mode === 'reindex' ? ` (${duringReindex} during a reindex)` : mode === 'graph' ? ` (${duringReindex} during a graph rebuild)` : '';
  console.log(
    `crashloop ${mode}: ${kills} kills${during}, 0 failures; ${res.transactions} transactions committed in all; final rows ${res.rows_wal} (WAL) / ${res.rows_delete} (rollback journal); ${res.seconds} s`,
  );
  console.log(JSON.stringify(res));
}

async function main() {
  const child = opt('child', null);
  if (child) {
    const file = opt('file', null);
    const journal = opt('journal', 'wal');
    return child === 'ingest' ? childIngest(file, journal) : child === 'graph' ? childGraph(file, journal) : childReindex(file, journal);
  }
  const kills = Number(opt('kills', process.env.CRASHLOOP_KILLS || 100));
  const mode = opt('mode', 'both');
  const seed = Number(opt('seed', 1));
  const dir = opt('dir', null) || fs.mkdtempSync(path.join(os.tmpdir(), 'vecsqlite-crashloop-'));
  const modes = { both: ['ingest', 'reindex'], all: ['ingest', 'reindex', 'graph'] }[mode] || [mode];
  for (const m of modes) await loop(m, kills, seed, dir);
  if (!opt('dir', null)) fs.rmSync(dir, { recursive: true, force: true });
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
module.exports = { verify, ingestWriter, stateAfter, openDb, rng };
