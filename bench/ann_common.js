// Shared pieces of the graph-index benchmarks (bench/hnsw.js, bench/vec_hnsw.js): the IDX
// reader for Fashion-MNIST, row views, recall@k against a ground truth, and a timed query loop.
'use strict';
const fs = require('fs');
const zlib = require('zlib');
const { now } = require('./common');

/** An IDX file (gzip): { dims, data } with data the raw uint8 values. */
function readIdx(file) {
  const buf = zlib.gunzipSync(fs.readFileSync(file));
  const ndim = buf[3];
  const dims = [];
  for (let i = 0; i < ndim; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + 4 + 4 * ndim, dims.reduce((a, b) => a * b, 1)) };
}

const row = (a, dim, i) => a.subarray(i * dim, (i + 1) * dim);
const blob = (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/** Fraction of the truth's ids found in the results, over all queries. */
function recallAt(results, truth) {
  let hit = 0;
  let tot = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = new Set(truth[i]);
    for (const id of results[i]) if (t.has(id)) hit++;
    tot += truth[i].length;
  }
  return hit / tot;
}

/** Runs fn(0..nq-1) after `warm` warm-up calls; the results and queries per second. */
function timeQueries(nq, fn, warm = 50) {
  const out = new Array(nq);
  for (let i = 0; i < Math.min(nq, warm); i++) fn(i);
  const t0 = now();
  for (let i = 0; i < nq; i++) out[i] = fn(i);
  return { out, qps: (nq * 1000) / (now() - t0) };
}

module.exports = { readIdx, row, blob, recallAt, timeQueries };
