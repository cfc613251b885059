/**
 * vec0: the sqlite-vec compatible table. The same SQL as sqlite-vec 0.1.9: a vector column,
 * a metadata column you can filter on inside a KNN query, an auxiliary column returned with
 * every row, and KNN with `MATCH ? AND k = ?`.
 *
 *   npm run build:ts && npm run build:examples && node lib/examples/vec0.js
 */
import Database from 'better-sqlite3';
import { encodeEmbedding, load } from 'vecsqlite';

const db = new Database(':memory:');
load(db); // once per connection

// embedding: 4 float32s (L2 distance by default); category: metadata (filterable in a KNN);
// +title: auxiliary (stored alongside, returned with results, not filterable).
db.exec(`CREATE VIRTUAL TABLE articles USING vec0(
  embedding float[4],
  category text,
  +title text
)`);

// Toy 4-dimensional embeddings; real ones come from a model (384, 768, 1536 dimensions ...).
const articles: [number, number[], string, string][] = [
  [1, [1.0, 0.0, 0.0, 0.0], 'db', 'SQLite internals'],
  [2, [0.9, 0.1, 0.0, 0.0], 'ml', 'Vector search 101'],
  [3, [0.0, 0.0, 1.0, 0.0], 'food', 'Cooking pasta'],
  [4, [0.7, 0.3, 0.0, 0.0], 'ml', 'Embeddings explained'],
  [5, [0.8, 0.0, 0.2, 0.0], 'db', 'B-tree pages'],
];
const insert = db.prepare('INSERT INTO articles(rowid, embedding, category, title) VALUES (?, ?, ?, ?)');
db.transaction(() => {
  // A vector is a little-endian float32 BLOB (encodeEmbedding) or JSON text such as '[1, 0, 0, 0]'.
  for (const [id, vector, category, title] of articles) insert.run(id, encodeEmbedding(vector), category, title);
})();

const query = encodeEmbedding([1, 0, 0, 0]);
type Hit = { rowid: number; distance: number; category: string; title: string };
const print = (rows: Hit[]) => {
  for (const r of rows) console.log(`  rowid ${r.rowid}  distance ${r.distance.toFixed(3)}  [${r.category}] ${r.title}`);
};

console.log('3 nearest to [1, 0, 0, 0]:');
print(db.prepare(`SELECT rowid, distance, category, title FROM articles
                  WHERE embedding MATCH ? AND k = 3 ORDER BY distance`).all(query) as Hit[]);

// The metadata filter is applied before the top-k: the 2 nearest *among* category 'ml'.
console.log("2 nearest in category 'ml':");
print(db.prepare(`SELECT rowid, distance, category, title FROM articles
                  WHERE embedding MATCH ? AND k = 2 AND category = 'ml' ORDER BY distance`).all(query) as Hit[]);

db.close();
