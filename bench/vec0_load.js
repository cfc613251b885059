#!/usr/bin/env node
// vec0 cold load: a new process opens a WAL file database with a 1M x 128 float32 vec0 table
// (--scale multiplies the rows) and runs a point query (the cache load: row maps and arenas
// from the chunk tables), then a first KNN (k = 10; builds the int8 sketch), then a second;
// next to sqlite-vec 0.1.9's KNN on the same file in its own new process (it keeps no cache).
// Each measurement is its own child process, --procs of them (default 5); medians reported.
//   node bench/vec0_load.js [--scale 1] [--procs 5]        (run `npm run build:ts` first)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');
const Database = require('better-sqlite3');
const { vs, sqliteVec, opt, rng, now, pct } = require('./common');

const dims = 128;
const query = () => Buffer.from(new Float32Array(dims).fill(0.1).buffer);

if (process.argv[2] === '--child') {
  // One measurement in this fresh process: `which` is vecsqlite or ref.
  const [, , , file, which] = process.argv;
  const db = new Database(file);
  if (which === 'ref') sqliteVec.load(db);
  else vs.load(db);
  const knn = db.prepare('select rowid, distance from t where v match ? and k = 10');
  const out = {};
  let t = now();
  db.prepare('select count(*) from t where rowid = 5').get();
  out.point_ms = now() - t;
  t = now();
  knn.all(query());
  out.first_knn_ms = now() - t;
  t = now();
  knn.all(query());
  out.second_knn_ms = now() - t;
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
}

const scale = Number(opt('scale', 1));
const procs = Number(opt('procs', 5));
const n = Math.max(5000, Math.round(1_000_000 * scale));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vecsqlite-load-'));
const file = path.join(dir, 'l.db');
{
  const db = new Database(file);
  vs.load(db);
  db.pragma('journal_mode = wal');
  db.exec(`create virtual table t using vec0(v float[${dims}])`);
  const ins = db.prepare('insert into t(rowid, v) values (?, ?)');
  const r = rng(3);
  const v = new Float32Array(dims);
  db.transaction(() => {
    for (let i = 1; i <= n; i++) {
      for (let j = 0; j < dims; j++) v[j] = r() * 2 - 1;
      ins.run(i, Buffer.from(v.buffer));
    }
  })();
  db.pragma('wal_checkpoint(truncate)');
  db.close();
}
const run = (which) => JSON.parse(execFileSync(process.execPath, [__filename, '--child', file, which]).toString());
const ours = [];
const ref = [];
for (let p = 0; p < procs; p++) {
  ours.push(run('vecsqlite'));
  ref.push(run('ref'));
}
const med = (xs, k) => pct(xs.map((x) => x[k]), 0.5);
console.log(`vec0 cold load, ${n} x ${dims} float32, WAL file, ${procs} new processes each (median ms)`);
console.log(`  vecsqlite: point query (cache load) ${med(ours, 'point_ms').toFixed(1)}, first KNN (sketch build) ` +
  `${med(ours, 'first_knn_ms').toFixed(1)}, second KNN ${med(ours, 'second_knn_ms').toFixed(2)}`);
console.log(`  0.1.9:     point query ${med(ref, 'point_ms').toFixed(2)}, first KNN ${med(ref, 'first_knn_ms').toFixed(1)}, ` +
  `second KNN ${med(ref, 'second_knn_ms').toFixed(1)}`);
console.log(JSON.stringify({ bench: 'vec0_load', rows: n, dims, procs, vecsqlite: ours, ref }));
fs.rmSync(dir, { recursive: true, force: true });
