// Worker thread for 23.vec0.threads: one connection to a vec0 table in a WAL file.
//   role=writer  small IMMEDIATE transactions of inserts, vector updates and deletes
//   role=reader  read transactions that check each KNN against a brute force over the chunk
//                tables (the source of truth) in the same snapshot, until the parent says the
//                writers are done; then the KNN of a fixed query.
// The shared flag words: [0] = 1 once the writers are done, [1 + r] = reader r's completed
// read transactions. A writer paces itself on the readers (at most 4 of its commits per read
// transaction of each reader), so reads interleave with the writes on any machine and no reader
// falls further behind than the change log reaches; without that pacing a fast machine could
// finish the writes before a slow worker start-up ran its first read.
'use strict';
const path = require('path');
const Database = require('better-sqlite3');
const { parentPort, workerData } = require('worker_threads');
const vs = require(path.join(__dirname, '..', '..'));

const { file, role, seed, iters, dims, flag, reader, readers } = workerData;
const f = new Int32Array(flag);
let s = seed >>> 0;
const rand = () => {
  s = (s + 0x6d2b79f5) >>> 0;
  let t = Math.imul(s ^ (s >>> 15), s | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const vec = () => Buffer.from(new Float32Array(Array.from({ length: dims }, () => Math.round(rand() * 40 - 20) / 4)).buffer);

const db = new Database(file);
vs.load(db);
db.pragma('busy_timeout = 20000');
const knn = db.prepare('select rowid as id, distance from t where v match ? and k = 5');

if (role === 'writer') {
  const mine = [];
  let next = seed * 100000;
  const ins = db.prepare('insert into t(rowid, v) values (?, ?)');
  const upd = db.prepare('update t set v = ? where rowid = ?');
  const del = db.prepare('delete from t where rowid = ?');
  const txn = db.transaction(() => {
    const ops = 1 + Math.floor(rand() * 4);
    for (let o = 0; o < ops; o++) {
      const x = rand();
      if (x < 0.5 || mine.length === 0) {
        ins.run(next, vec());
        mine.push(next++);
      } else if (x < 0.7) {
        upd.run(vec(), 1 + Math.floor(rand() * 300)); // the seeded rows: chunks both writers touch
      } else if (x < 0.85) {
        upd.run(vec(), mine[Math.floor(rand() * mine.length)]);
      } else {
        del.run(mine.splice(Math.floor(rand() * mine.length), 1)[0]);
      }
    }
  });
  const slowest = () => Math.min(...Array.from({ length: readers }, (_, r) => Atomics.load(f, 1 + r)));
  for (let i = 0; i < iters; i++) {
    while (slowest() < 1 + (i >> 2)) Atomics.wait(f, 1 + readers, 0, 2); // a 2 ms nap
    txn.immediate();
  }
  parentPort.postMessage({ role, done: true });
} else {
  const brute = db.prepare(
    `select r.rowid as id, vec_distance_l2(substr(c.vectors, r.chunk_offset * ${4 * dims} + 1, ${4 * dims}), ?) as d
       from t_rowids r join t_vector_chunks00 c on c.rowid = r.chunk_id order by d limit 5`);
  const exists = db.prepare('select count(*) from t_rowids where rowid = ?').pluck();
  let checks = 0;
  const bad = [];
  // At least `iters` checks, and on until the writers are done (so reads overlap the writes).
  for (let i = 0; i < iters || Atomics.load(f, 0) === 0; i++) {
    const q = vec();
    db.exec('BEGIN');
    const got = knn.all(q);
    const want = brute.all(q);
    for (const r of got) if (exists.get(r.id) !== 1) bad.push(`iteration ${i}: row ${r.id} is not in the table`);
    const same = got.length === want.length &&
      got.every((r, j) => Math.abs(r.distance - want[j].d) <= 1e-5 * Math.max(1, want[j].d));
    if (!same) bad.push(`iteration ${i}: ${JSON.stringify(got)} vs ${JSON.stringify(want)}`);
    db.exec('COMMIT');
    checks++;
    Atomics.store(f, 1 + reader, checks);
  }
  const q = Buffer.from(new Float32Array(dims).fill(0.5).buffer);
  parentPort.postMessage({ role, checks, bad: bad.slice(0, 5), nbad: bad.length, final: knn.all(q) });
}
db.close();
