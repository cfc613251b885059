// One search core for both tables: on the same 100k x 768 cosine data (one dataset), the median
// time of a `vec` MATCH ... LIMIT 10 against a `vec0` KNN with k = 10, queries alternating.
//   node bench/parity.js [--n 100000] [--dim 768] [--queries 60]
'use strict';
const Database = require('better-sqlite3');
const { opt, rng, now } = require('./common');
const vs = require('..');

const n = Number(opt('n', 100000));
const dim = Number(opt('dim', 768));
const nq = Number(opt('queries', 60));
const r = rng(3);
const db = new Database(':memory:');
vs.load(db);
db.exec(`create virtual table v0 using vec0(e float[${dim}] distance_metric=cosine)`);
db.exec('create virtual table docs using vec(doc_id)');
db.exec('create table if not exists _vec_docs(dataset_id text not null, id text not null, content text, meta text, embedding blob, embedding_model text, primary key(dataset_id, id))');
const i0 = db.prepare('insert into v0(rowid, e) values (?, ?)');
const i1 = db.prepare("insert into _vec_docs(dataset_id, id, embedding) values ('d', ?, ?)");
db.transaction(() => {
  for (let i = 0; i < n; i++) {
    const v = Buffer.from(new Float32Array(dim).map(() => r() * 2 - 1).buffer);
    i0.run(BigInt(i + 1), v);
    i1.run(String(i + 1), v);
  }
})();
const q0 = db.prepare('select rowid, distance from v0 where e match ? and k = 10');
const q1 = db.prepare("select doc_id, match_score from docs where dataset_id = 'd' and doc_id match ? order by match_score desc limit 10");
const qs = Array.from({ length: nq }, () => Buffer.from(new Float32Array(dim).map(() => r() * 2 - 1).buffer));
q0.all(qs[0]);
q1.all(qs[0]); // first queries build the caches
const t0 = [];
const t1 = [];
let same = 0;
for (const q of qs) {
  let t = now();
  const a = q0.all(q);
  t0.push(now() - t);
  t = now();
  const b = q1.all(q);
  t1.push(now() - t);
  if (a.map((x) => String(x.rowid)).join() === b.map((x) => x.doc_id).join()) same++;
}
const med = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
console.log(`${n} x ${dim} cosine, ${nq} queries: vec0 k = 10 median ${med(t0).toFixed(3)} ms, vec MATCH LIMIT 10 median ${med(t1).toFixed(3)} ms, vec / vec0 = ${(med(t1) / med(t0)).toFixed(2)}; same rows in ${same} of ${nq} queries`);
