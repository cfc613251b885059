#!/usr/bin/env node
// vec0 insert rate, repeated: vecsqlite, npm sqlite-vec 0.1.9 and a plain (rowid, blob) table,
// each inserting the same rows into a fresh `:memory:` table in one transaction, `--reps` times
// in turn in one process (run `npm run build:ts` first):
//   node bench/vec0_insert.js [--rows 300000] [--dims 128] [--kind float|int8|bit] [--reps 5]
// Reports the first run of each (memory the process never used before: on a freshly booted VM
// its first touch dominates) and the median of the later runs (memory the process freed and
// reuses), in µs per row and as ratios to 0.1.9; and, since the speed of these VMs drifts over
// seconds, the median of the paired ratios (each later run of 0.1.9 over the vecsqlite run just
// before it).
'use strict';
const { vs, sqliteVec, opt, now, pct, makeData } = require('./common');
const Database = require('better-sqlite3');

const n = Number(opt('rows', 300000));
const dims = Number(opt('dims', 128));
const kind = opt('kind', 'float');
const reps = Math.max(2, Number(opt('reps', 5)));
const wrap = kind === 'int8' ? 'vec_int8(?)' : kind === 'bit' ? 'vec_bit(?)' : '?';

const data = makeData(kind, dims, n, 1);
const ids = Array.from({ length: n }, (_, i) => BigInt(i + 1));
const rows = Array.from({ length: n }, (_, i) => data.row(i));

const impls = {
  vecsqlite: (db) => {
    vs.load(db);
    db.exec(`create virtual table t using vec0(v ${kind}[${dims}])`);
    return db.prepare(`insert into t(rowid, v) values (?, ${wrap})`);
  },
  'sqlite-vec 0.1.9': (db) => {
    sqliteVec.load(db);
    db.exec(`create virtual table t using vec0(v ${kind}[${dims}])`);
    return db.prepare(`insert into t(rowid, v) values (?, ${wrap})`);
  },
  'plain table': (db) => {
    db.exec('create table t(id integer primary key, v blob)');
    return db.prepare('insert into t(id, v) values (?, ?)');
  },
};
const us = {};
for (let rep = 0; rep < reps; rep++) {
  for (const [name, make] of Object.entries(impls)) {
    const db = new Database(':memory:');
    db.pragma('page_size = 8192');
    const ins = make(db);
    const t0 = now();
    db.transaction(() => {
      for (let i = 0; i < n; i++) ins.run(ids[i], rows[i]);
    })();
    (us[name] = us[name] || []).push(((now() - t0) * 1000) / n);
    db.close();
  }
}
const ref = us['sqlite-vec 0.1.9'];
const refFirst = ref[0];
const refWarm = pct(ref.slice(1), 0.5);
console.log(`vec0 inserts: ${n} x ${kind}[${dims}], one transaction, ${reps} runs each (µs per row; x = 0.1.9 / this)`);
for (const [name, v] of Object.entries(us)) {
  const warm = pct(v.slice(1), 0.5);
  console.log(`  ${name.padEnd(18)} first ${v[0].toFixed(2).padStart(6)} (${(refFirst / v[0]).toFixed(2)}x)   later median ${warm.toFixed(2).padStart(6)} (${(refWarm / warm).toFixed(2)}x)`);
}
const ours = us.vecsqlite;
const paired = ref.slice(1).map((r, i) => r / ours[i + 1]);
console.log(`  paired later runs: 0.1.9 / vecsqlite median ${pct(paired, 0.5).toFixed(2)}x (${paired.map((x) => x.toFixed(2)).join(' ')})`);
console.log(JSON.stringify({ bench: 'vec0_insert', rows: n, dims, kind, us_per_row: us, paired_ratio_median: pct(paired, 0.5) }));
