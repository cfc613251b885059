/**
 * vec: dataset-aware search. You write documents into an ordinary table, `_vec_<name>`, each
 * with a dataset_id; the `vec` table searches one dataset at a time by cosine similarity
 * (`match_score`, highest first).
 *
 *   npm run build:ts && npm run build:examples && node lib/examples/vec.js
 */
import Database from 'better-sqlite3';
import { encodeEmbedding, load } from 'vecsqlite';

const db = new Database(':memory:');
load(db); // once per connection

// Creates the search table `docs` and, if missing, its data table `_vec_docs`
// (dataset_id, id, content, meta, embedding, embedding_model, scn, archived).
db.exec('CREATE VIRTUAL TABLE docs USING vec(doc_id)');

// Write the data table directly; the index follows every INSERT / UPDATE / DELETE.
const put = db.prepare('INSERT INTO _vec_docs(dataset_id, id, content, embedding) VALUES (?, ?, ?, ?)');
db.transaction(() => {
  put.run('team-a', 'pw-reset', 'Reset your password', encodeEmbedding([0.9, 0.1, 0]));
  put.run('team-a', 'sso', 'Single sign-on setup', encodeEmbedding([0.7, 0.7, 0]));
  put.run('team-a', 'billing', 'Update billing details', encodeEmbedding([0, 0.2, 0.98]));
  put.run('team-b', 'pw-policy', 'Password policy', encodeEmbedding([1, 0, 0]));
})();

// Every query names its dataset; join back to _vec_docs by rowid for the other columns.
const search = db.prepare(`SELECT v.doc_id, v.match_score, d.content
  FROM docs v JOIN _vec_docs d ON d.rowid = v.rowid
  WHERE v.dataset_id = ? AND v.doc_id MATCH ? AND v.match_score >= 0.5
  ORDER BY v.match_score DESC LIMIT 3`);

const query = encodeEmbedding([1, 0, 0]); // "password"-ish, in this toy space
for (const dataset of ['team-a', 'team-b']) {
  console.log(`dataset ${dataset}:`);
  for (const r of search.all(dataset, query) as { doc_id: string; match_score: number; content: string }[]) {
    console.log(`  ${r.match_score.toFixed(3)}  ${r.doc_id}  ${r.content}`);
  }
}

db.close();
