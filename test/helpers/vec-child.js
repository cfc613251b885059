// Child process / worker for 42.vec.concurrency: opens a vec database file and either
//   mode=burst   writes rows forever in small transactions (the parent SIGKILLs it), or
//   mode=worker  (worker_threads) runs queries and writes, posting the results.
'use strict';
const path = require('path');
const Database = require('better-sqlite3');
const vs = require(path.join(__dirname, '..', '..'));

function vec(i, dim) {
  const v = new Float32Array(dim);
  for (let k = 0; k < dim; k++) v[k] = Math.sin(i * 7.3 + k * 1.1);
  return v;
}

function open(file) {
  const db = new Database(file);
  vs.load(db);
  db.pragma('busy_timeout = 10000');
  return db;
}

const { isMainThread, parentPort, workerData } = require('worker_threads');
if (!isMainThread) {
  const { file, ds, n, dim } = workerData;
  const db = open(file);
  const ins = db.prepare('INSERT INTO _vec_t(dataset_id, id, embedding) VALUES (?,?,?)');
  const q = db.prepare('SELECT doc_id FROM t WHERE dataset_id = ? AND doc_id MATCH ? LIMIT 1');
  const hits = [];
  for (let i = 0; i < n; i++) {
    ins.run(ds, `${ds}-${i}`, vs.encodeEmbedding(vec(i + 1000, dim)));
    hits.push(q.pluck().get(ds, vs.encodeEmbedding(vec(i + 1000, dim))));
  }
  db.close();
  parentPort.postMessage(hits);
} else {
  const [file, mode] = process.argv.slice(2);
  if (mode === 'burst') {
    const db = open(file);
    const ins = db.prepare('INSERT OR REPLACE INTO _vec_t(dataset_id, id, embedding) VALUES (?,?,?)');
    const del = db.prepare('DELETE FROM _vec_t WHERE dataset_id = ? AND id = ?');
    const q = db.prepare("SELECT count(*) FROM t WHERE dataset_id = 'ds' AND doc_id MATCH ? LIMIT 5");
    let i = 0;
    process.stdout.write('started\n');
    for (;;) {
      db.transaction(() => {
        for (let k = 0; k < 20; k++, i++) {
          ins.run('ds', `r${i % 3000}`, vs.encodeEmbedding(vec(i, 16)));
          if (i % 7 === 0) del.run('ds', `r${(i * 13) % 3000}`);
        }
      })();
      q.get(vs.encodeEmbedding(vec(i, 16)));
    }
  }
}
