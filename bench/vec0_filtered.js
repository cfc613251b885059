#!/usr/bin/env node
// vec0 filtered-search benchmark: vecsqlite against npm sqlite-vec 0.1.9, same data,
// same process.
//   node bench/vec0_filtered.js [--scale 0.1] [--queries 30] [--ref-queries 10] [--k 10]
// One table of 1M x 128 float32 rows (times --scale) with
//   part integer partition key   (100 partitions: each holds 1% of the rows)
//   sel10 integer, sel01 integer (metadata: = 1 on 10% / 0.1% of the rows)
//   m1 integer, m2 float, m3 text and +a1 text, +a2 integer, +a3 float (payload columns)
// KNN (k = 10): median / p95 of unfiltered, sel10 = 1, sel01 = 1, part = 7; and reading KNN
// rows (k = 100 within part = 7, so the scan is small) with 3 aux + 3 metadata columns: time per
// returned row, and the extra time per row over selecting only rowid + distance. Prints a table
// and JSON lines.
'use strict';
const { vs, opt, rng, now, pct, open } = require('./common');

const scale = Number(opt('scale', 1));
const nq = Number(opt('queries', 30));
const nqRef = Number(opt('ref-queries', 10));
const K = Number(opt('k', 10));

const DIMS = 128;
function vectors(n, seed) {
  const r = rng(seed);
  const all = Buffer.alloc(n * DIMS * 4);
  const f = new Float32Array(all.buffer, all.byteOffset, n * DIMS);
  for (let i = 0; i < f.length; i++) f[i] = r() * 2 - 1;
  return (i) => all.subarray(i * DIMS * 4, (i + 1) * DIMS * 4);
}

function main() {
  const n = Math.max(10000, Math.round(1_000_000 * scale));
  const row = vectors(n, 1);
  const query = vectors(Math.max(nq, nqRef), 2);
  console.log(`isa ${vs.isa()}  rows ${n} x ${DIMS} float32  scale ${scale}  k ${K}`);
  const plans = [
    ['unfiltered', ''],
    ['metadata 10%', ' and sel10 = 1'],
    ['metadata 0.1%', ' and sel01 = 1'],
    ['partition 1%', ' and part = 7'],
  ];
  const results = {};
  for (const which of ['vecsqlite', 'sqlite-vec-0.1.9']) {
    const db = open(which);
    db.exec(`create virtual table t using vec0(v float[${DIMS}], part integer partition key, sel10 integer, sel01 integer,
             m1 integer, m2 float, m3 text, +a1 text, +a2 integer, +a3 float)`);
    const ins = db.prepare('insert into t(rowid, v, part, sel10, sel01, m1, m2, m3, a1, a2, a3) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    // Filter columns drawn independently of the partition (same draws for both implementations).
    const attr = rng(3);
    const t0 = now();
    db.transaction(() => {
      for (let i = 0; i < n; i++) {
        const u = attr();
        ins.run(BigInt(i + 1), row(i), BigInt(i % 100), BigInt(u < 0.1 ? 1 : 0), BigInt(u >= 0.5 && u < 0.501 ? 1 : 0),
          BigInt(i), i / 7 + 0.5, `label ${i % 50}`, `title of row ${i}`, BigInt(i * 3), i / 3 + 0.25);
      }
    })();
    const res = { insert_rows_per_s: n / ((now() - t0) / 1000), knn: {} };
    const count = which === 'vecsqlite' ? nq : nqRef;
    for (const [name, where] of plans) {
      const stmt = db.prepare(`select rowid, distance from t where v match ? and k = ${K}${where}`);
      const got = stmt.all(query(0)).length; // warm-up (vecsqlite loads its cache on first use)
      const times = [];
      for (let i = 0; i < count; i++) {
        const s = now();
        stmt.all(query(i));
        times.push(now() - s);
      }
      res.knn[name] = { median_ms: pct(times, 0.5), p95_ms: pct(times, 0.95), rows: got };
    }
    // Reading KNN rows with 3 aux + 3 metadata columns (k = 100), inside the 1% partition so
    // that the scan is small next to the row reads.
    const thin = db.prepare('select rowid, distance from t where v match ? and k = 100 and part = 7');
    const wide = db.prepare('select rowid, distance, a1, a2, a3, m1, m2, m3 from t where v match ? and k = 100 and part = 7');
    thin.all(query(0));
    wide.all(query(0));
    const tt = [];
    const tw = [];
    for (let i = 0; i < count; i++) {
      let s = now();
      thin.all(query(i));
      tt.push(now() - s);
      s = now();
      wide.all(query(i));
      tw.push(now() - s);
    }
    const mt = pct(tt, 0.5);
    const mw = pct(tw, 0.5);
    res.rows = { wide_median_ms: mw, thin_median_ms: mt, us_per_row: (mw * 1000) / 100, extra_us_per_row: ((mw - mt) * 1000) / 100 };
    results[which] = res;
    db.close();
  }
  const ours = results.vecsqlite;
  const ref = results['sqlite-vec-0.1.9'];
  const f = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  console.log(`insert rows/s: vecsqlite ${f(ours.insert_rows_per_s)}  0.1.9 ${f(ref.insert_rows_per_s)}`);
  console.log('query (k=%d)        rows  vecsqlite med/p95 ms   vs unfiltered   0.1.9 med/p95 ms   speed-up', K);
  const base = ours.knn.unfiltered.median_ms;
  for (const [name] of plans) {
    const a = ours.knn[name];
    const b = ref.knn[name];
    console.log(`${name.padEnd(18)} ${String(a.rows).padStart(5)}  ${f(a.median_ms).padStart(8)} / ${f(a.p95_ms).padEnd(8)}  ${(a.median_ms / base).toFixed(3).padStart(8)}x     ${f(b.median_ms).padStart(8)} / ${f(b.p95_ms).padEnd(8)} ${(b.median_ms / a.median_ms).toFixed(1).padStart(7)}x`);
  }
  console.log(`KNN rows with 3 aux + 3 metadata (k=100, part = 7): vecsqlite ${f(ours.rows.us_per_row)} us/row (+${f(ours.rows.extra_us_per_row)} over rowid+distance)  0.1.9 ${f(ref.rows.us_per_row)} us/row (+${f(ref.rows.extra_us_per_row)})`);
  console.log(JSON.stringify({ bench: 'vec0_filtered', rows: n, dims: DIMS, k: K, scale, isa: vs.isa(), results }));
}

main();
