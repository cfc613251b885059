#!/usr/bin/env node
// Import rate into a vec0 table: row-by-row INSERTs vs the bulk path, vecsqlite vs npm
// sqlite-vec 0.1.9, with a plain (rowid, blob) table as the floor. Every measurement runs in a
// fresh process (the first touch of memory is part of an import), on a fresh `:memory:` database,
// all rows in one transaction (run `npm run build:ts` first):
//   node bench/import.js [--sets 100000x768,1000000x128] [--reps 1] [--json out.json]
// Methods:
//   0.1.9 row-by-row      sqlite-vec 0.1.9, prepared INSERT per row (the reference)
//   0.1.9 vec_npy_each    sqlite-vec 0.1.9, INSERT … SELECT FROM vec_npy_each(?) (its numpy entry point)
//   row-by-row            vecsqlite, prepared INSERT per row
//   bulkInsert            vecsqlite bulkInsert(): consecutive ids -> vec_npy_each, ~4 MiB per statement
//   bulkInsert (ids)      vecsqlite bulkInsert() with non-consecutive ids: 64-row multi-row INSERTs
//   plain row-by-row      plain table, prepared INSERT per row (the floor)
//   plain vec_npy_each    plain table, INSERT … SELECT FROM vecsqlite's vec_npy_each
//   plain chunks          vec0's layout with nothing else: the vectors as blobs of 1024 rows
//                         (one INSERT each) plus one small (rowid, chunk, offset) row per vector
//                         in an AUTOINCREMENT table (one INSERT … SELECT): the cost of writing
//                         the bytes into SQLite's pages once
// Rates are rows/s; x = rate / 0.1.9 row-by-row's rate in the same run. "first KNN ms" is the
// first k=10 query after the import (median over the runs): where vecsqlite deferred its cache
// during the import, that query builds it.
'use strict';
const path = require('path');
const { spawnSync } = require('child_process');
const { opt } = require('./common');

const METHODS = ['0.1.9 row-by-row', '0.1.9 vec_npy_each', 'row-by-row', 'bulkInsert', 'bulkInsert (ids)', 'plain row-by-row', 'plain vec_npy_each', 'plain chunks'];

function child(method, n, dims) {
  const Database = require('better-sqlite3');
  const { vs, sqliteVec, rng, now } = require('./common');
  const { bulkInsert, encodeNpy } = require(path.join(__dirname, '..', 'lib', 'bulk.js'));
  const data = new Float32Array(n * dims);
  const r = rng(7);
  for (let i = 0; i < data.length; i++) data[i] = r() * 2 - 1;
  const buf = Buffer.from(data.buffer);
  const rows = Array.from({ length: n }, (_, i) => buf.subarray(i * dims * 4, (i + 1) * dims * 4));
  const db = new Database(':memory:');
  db.pragma('page_size = 8192');
  const vec0 = `create virtual table t using vec0(embedding float[${dims}])`;
  const plain = 'create table t(id integer primary key, embedding blob)';
  if (method.startsWith('0.1.9')) {
    sqliteVec.load(db);
    if (method === '0.1.9 vec_npy_each') db.loadExtension(sqliteVec.getLoadablePath(), 'sqlite3_vec_numpy_init');
  } else {
    vs.load(db);
  }
  db.exec(method === 'plain chunks' ? 'create table c(id integer primary key, vectors blob); create table r(rowid integer primary key autoincrement, id, chunk_id integer, chunk_offset integer)' : method.startsWith('plain') ? plain : vec0);
  const chunks = () => {
    const cs = 1024;
    db.transaction(() => {
      const ins = db.prepare('insert into c(id, vectors) values (?, ?)');
      for (let s = 0, c = 1; s < n; s += cs, c++) ins.run(c, buf.subarray(s * dims * 4, Math.min(n, s + cs) * dims * 4));
      db.prepare('with recursive s(i) as (select 0 union all select i + 1 from s where i + 1 < ?) insert into r(rowid, id, chunk_id, chunk_offset) select i + 1, null, i / 1024 + 1, i % 1024 from s').run(n);
    })();
  };
  const rowByRow = () => {
    const ins = db.prepare(`insert into t(${method.startsWith('plain') ? 'id' : 'rowid'}, embedding) values (?, ?)`);
    db.transaction(() => { for (let i = 0; i < n; i++) ins.run(big[i], rows[i]); })();
  };
  // Statements of about 4 MiB of vectors, as bulkInsert does.
  const npyEach = () => {
    const step = Math.max(1, Math.floor((4 << 20) / (dims * 4)));
    const ins = db.prepare(`insert into t(${method.startsWith('plain') ? 'id' : 'rowid'}, embedding) select rowid + ?, vector from vec_npy_each(?)`);
    db.transaction(() => {
      for (let s = 0; s < n; s += step) {
        const e = Math.min(n, s + step);
        ins.run(BigInt(s + 1), encodeNpy(data.subarray(s * dims, e * dims), e - s, dims));
      }
    })();
  };
  const ids = Array.from({ length: n }, (_, i) => 2 * i + 1);
  const big = Array.from({ length: n }, (_, i) => BigInt(i + 1));
  const run = {
    '0.1.9 row-by-row': rowByRow,
    '0.1.9 vec_npy_each': npyEach,
    'row-by-row': rowByRow,
    bulkInsert: () => bulkInsert(db, 't', ids.map((_, i) => i + 1), data),
    'bulkInsert (ids)': () => bulkInsert(db, 't', ids, data),
    'plain row-by-row': rowByRow,
    'plain vec_npy_each': npyEach,
    'plain chunks': chunks,
  }[method];
  const t0 = now();
  run();
  const ms = now() - t0;
  // The first KNN query after the import (vecsqlite builds its cache there when the import
  // deferred it; sqlite-vec reads the chunks at every query).
  let firstQueryMs = null;
  if (!method.startsWith('plain')) {
    const t1 = now();
    const hits = db.prepare('select rowid from t where embedding match ? and k = 10').all(rows[0]);
    firstQueryMs = now() - t1;
    if (hits.length !== 10 || hits[0].rowid !== 1) throw new Error(`${method}: wrong first KNN result`);
  }
  const count = db.prepare(`select count(*) from ${method === 'plain chunks' ? 'r' : 't'}`).pluck().get();
  if (count !== n) throw new Error(`${method}: ${count} rows, expected ${n}`);
  process.stdout.write(JSON.stringify({ ms, firstQueryMs }));
}

function main() {
  const sets = String(opt('sets', '100000x768,1000000x128')).split(',').map((s) => s.split('x').map(Number));
  const reps = Number(opt('reps', 1));
  const out = [];
  for (const [n, dims] of sets) {
    const res = {};
    for (let rep = 0; rep < reps; rep++) {
      for (const m of METHODS) {
        const p = spawnSync(process.execPath, ['--max-old-space-size=8192', __filename, '--child', m, String(n), String(dims)], { encoding: 'utf8' });
        if (p.status !== 0) {
          console.error(`${m}: ${p.stderr.trim().split('\n').slice(-3).join(' | ')}`);
          continue;
        }
        const r = JSON.parse(p.stdout);
        (res[m] = res[m] || []).push({ rate: n / (r.ms / 1000), q: r.firstQueryMs });
      }
    }
    // Best run by rate; the median of the first-query times.
    const best = (m) => (res[m] ? Math.max(...res[m].map((x) => x.rate)) : NaN);
    const firstQ = (m) => {
      const q = (res[m] || []).map((x) => x.q).filter((x) => x !== null).sort((a, b) => a - b);
      return q.length ? q[Math.floor(q.length / 2)] : null;
    };
    const ref = best('0.1.9 row-by-row');
    console.log(`\n${n} x float[${dims}], one transaction, fresh process per run (best of ${reps})`);
    console.log('method                 rows/s       x 0.1.9 row-by-row   first KNN ms');
    for (const m of METHODS) {
      const q = firstQ(m);
      console.log(`${m.padEnd(22)} ${Math.round(best(m)).toString().padStart(9)}    ${(best(m) / ref).toFixed(2).padEnd(20)} ${q === null ? '-' : q.toFixed(1)}`);
      out.push({ rows: n, dims, method: m, rowsPerSec: Math.round(best(m)), ratio: +(best(m) / ref).toFixed(3), firstQueryMs: q === null ? null : +q.toFixed(1) });
    }
  }
  const json = opt('json', null);
  if (json) require('fs').writeFileSync(json, JSON.stringify(out, null, 2) + '\n');
}

if (process.argv[2] === '--child') child(process.argv[3], Number(process.argv[4]), Number(process.argv[5]));
else main();
