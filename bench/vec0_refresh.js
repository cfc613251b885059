#!/usr/bin/env node
// vec0 cache freshness across connections (run `npm run build:ts` first):
//   node bench/vec0_refresh.js [--scale 1] [--reps 5]
// One WAL file database with a 1M x 128 float32 vec0 table (--scale multiplies the rows).
// Connection A keeps its cache; after each kind of commit by another connection, A's next KNN
// (k = 10) is timed:
//   another vecsqlite connection: 1-row insert, 1-row vector update, 1-row delete, 100-row insert
//     (A re-reads only the chunks the change log names: a refresh)
//   sqlite-vec 0.1.9: a 1-row insert (not in the change log: A reloads the table whole)
// next to A's steady query (nothing committed in between), the first query of a new connection
// (load from the file), and 0.1.9's own query on the same file (it keeps no cache).
// Also the commit time of a 1-row insert, vecsqlite (token + change log) and 0.1.9.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const Database = require('better-sqlite3');
const { vs, sqliteVec, opt, rng, now, pct } = require('./common');

const scale = Number(opt('scale', 1));
const reps = Number(opt('reps', 5));
const n = Math.max(5000, Math.round(1_000_000 * scale));
const dims = 128;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vecsqlite-refresh-'));
const file = path.join(dir, 'r.db');
const openVs = () => {
  const db = new Database(file);
  vs.load(db);
  return db;
};
const openRef = () => {
  const db = new Database(file);
  sqliteVec.load(db);
  return db;
};

const r = rng(1);
const vec = () => {
  const v = new Float32Array(dims);
  for (let i = 0; i < dims; i++) v[i] = r() * 2 - 1;
  return Buffer.from(v.buffer);
};

{
  const db = openVs();
  db.pragma('journal_mode = wal');
  db.exec(`create virtual table t using vec0(v float[${dims}])`);
  const ins = db.prepare('insert into t(rowid, v) values (?, ?)');
  db.transaction(() => {
    for (let i = 1; i <= n; i++) ins.run(i, vec());
  })();
  db.close();
}

const a = openVs();
const b = openVs();
const q = a.prepare('select rowid, distance from t where v match ? and k = 10');
const query = vec();
let t0 = now();
q.all(query);
const firstMs = now() - t0;

let nextId = n + 1;
const time = (fn) => {
  const s = now();
  fn();
  return now() - s;
};
const results = {};
const commitMs = { vecsqlite: [], '0.1.9': [] };
const scenario = (name, write) => {
  const ms = [];
  for (let i = 0; i < reps; i++) {
    write();
    ms.push(time(() => q.all(query)));
  }
  results[name] = { median_ms: pct(ms, 0.5), max_ms: Math.max(...ms) };
};
scenario('steady (no commit in between)', () => {});
scenario('after a 1-row insert (vecsqlite)', () => {
  const row = vec();
  commitMs.vecsqlite.push(time(() => b.prepare('insert into t(rowid, v) values (?, ?)').run(nextId++, row)));
});
scenario('after a 1-row update (vecsqlite)', () => {
  b.prepare('update t set v = ? where rowid = ?').run(vec(), 1 + Math.floor(r() * n));
});
scenario('after a 1-row delete (vecsqlite)', () => {
  b.prepare('delete from t where rowid = ?').run(nextId - 1);
});
scenario('after a 100-row insert (vecsqlite)', () => {
  const ins = b.prepare('insert into t(rowid, v) values (?, ?)');
  b.transaction(() => {
    for (let i = 0; i < 100; i++) ins.run(nextId++, vec());
  })();
});
const ref = openRef();
scenario('after a 1-row insert (0.1.9)', () => {
  const row = vec();
  commitMs['0.1.9'].push(time(() => ref.prepare('insert into t(rowid, v) values (?, ?)').run(BigInt(nextId++), row)));
});
const refq = ref.prepare('select rowid, distance from t where v match ? and k = 10');
const refMs = [];
for (let i = 0; i < Math.min(reps, 3); i++) refMs.push(time(() => refq.all(query)));
const stats = JSON.parse(a.prepare('select vec_stats()').pluck().get());
ref.close();
a.close();
b.close();
fs.rmSync(dir, { recursive: true, force: true });

console.log(`vec0 cache freshness, ${n} x ${dims} float32, WAL file, k = 10, ${reps} reps (median / max ms)`);
for (const [name, v] of Object.entries(results))
  console.log(`  ${name.padEnd(36)} ${v.median_ms.toFixed(2).padStart(8)} ${v.max_ms.toFixed(2).padStart(8)}`);
console.log(`  ${'first query of a new connection'.padEnd(36)} ${firstMs.toFixed(2).padStart(8)}`);
console.log(`  ${'0.1.9 query on the same file'.padEnd(36)} ${pct(refMs, 0.5).toFixed(2).padStart(8)}`);
console.log(`  1-row insert commit: vecsqlite ${pct(commitMs.vecsqlite, 0.5).toFixed(3)} ms, 0.1.9 ${pct(commitMs['0.1.9'], 0.5).toFixed(3)} ms`);
console.log(`  this process: ${stats.vec0_refreshes} refreshes, ${stats.vec0_loads} full loads (all connections)`);
console.log(JSON.stringify({ bench: 'vec0_refresh', rows: n, dims, first_ms: firstMs, ref_query_ms: pct(refMs, 0.5), results, commit_ms: { vecsqlite: pct(commitMs.vecsqlite, 0.5), ref: pct(commitMs['0.1.9'], 0.5) } }));
