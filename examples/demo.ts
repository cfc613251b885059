/**
 * `npm run demo`: dataset-aware search over real sentence embeddings, offline.
 *
 * Reads the 778 all-MiniLM-L6-v2 vectors (384 dims) and texts shipped by the devDependency
 * `@sap-ux/fiori-docs-embeddings` from node_modules (nothing is downloaded or committed), loads
 * them into `.demo/fiori.sqlite` (under the current directory) through a `vec` table (data table
 * `_vec_fiori_docs`, all in one dataset, 'fiori'), then prints the nearest documents of a few
 * documents with their titles, cosine scores and query times.
 */
import Database from 'better-sqlite3';
import * as fs from 'fs';
import * as path from 'path';
import { isa, load, version } from 'vecsqlite';

interface FioriRecord {
  id: string;
  content: string;
  title?: string;
  category?: string;
  path?: string;
}

function embeddingsDir(): string {
  // The package is ESM-only; its data sits next to its package.json.
  const pkg = require.resolve('@sap-ux/fiori-docs-embeddings/package.json', { paths: [process.cwd(), __dirname] });
  return path.join(path.dirname(pkg), 'data', 'embeddings');
}

function titleOf(r: FioriRecord): string {
  const m = /\*\*TITLE\*\*:\s*([^\n]+)/.exec(r.content);
  return (r.title || (m ? m[1] : r.id)).trim().slice(0, 70);
}

function main(): void {
  let dir: string;
  try {
    dir = embeddingsDir();
  } catch {
    console.error('demo: @sap-ux/fiori-docs-embeddings is not installed (it is a devDependency: run npm install)');
    process.exit(1);
  }
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'metadata.json'), 'utf8')) as { dimensions: number; model: string };
  const dim = meta.dimensions;
  const bin = fs.readFileSync(path.join(dir, 'embeddings.bin'));
  const records = fs.readFileSync(path.join(dir, 'records.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as FioriRecord);
  const n = bin.length / (dim * 4);
  if (n !== records.length) throw new Error(`demo: ${n} vectors but ${records.length} records`);

  const out = path.join(process.cwd(), '.demo');
  fs.mkdirSync(out, { recursive: true });
  const file = path.join(out, 'fiori.sqlite');
  for (const f of [file, file + '-wal', file + '-shm']) fs.rmSync(f, { force: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  load(db);
  console.log(`vecsqlite ${version}, SIMD ${isa()}, SQLite ${db.prepare('select sqlite_version()').pluck().get()}`);
  console.log(`data: ${n} x ${dim} ${meta.model} vectors from @sap-ux/fiori-docs-embeddings -> ${path.relative(process.cwd(), file)}`);

  db.exec('CREATE VIRTUAL TABLE fiori_docs USING vec(doc_id)');
  const ins = db.prepare('INSERT INTO _vec_fiori_docs(dataset_id, id, content, meta, embedding, embedding_model) VALUES (?,?,?,?,?,?)');
  const t0 = process.hrtime.bigint();
  db.transaction(() => {
    records.forEach((r, i) => {
      // the raw little-endian float32 rows are exactly the embedding format
      ins.run('fiori', r.id, r.content, JSON.stringify({ title: titleOf(r), category: r.category ?? null, path: r.path ?? null }),
        bin.subarray(i * dim * 4, (i + 1) * dim * 4), meta.model);
    });
  })();
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`loaded ${n} documents into dataset 'fiori' in ${loadMs.toFixed(1)} ms\n`);

  const q = db.prepare(`SELECT v.doc_id, v.match_score, json_extract(s.meta, '$.title') AS title
    FROM fiori_docs v JOIN _vec_fiori_docs s ON s.rowid = v.rowid
    WHERE v.dataset_id = 'fiori' AND v.doc_id MATCH ? ORDER BY v.match_score DESC LIMIT 4`);
  const getEmb = db.prepare("SELECT embedding FROM _vec_fiori_docs WHERE dataset_id = 'fiori' AND id = ?").pluck();
  for (const i of [0, 101, 377, 640]) {
    const r = records[i];
    const t = process.hrtime.bigint();
    const rows = q.all(getEmb.get(r.id)) as { doc_id: string; match_score: number; title: string }[];
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    console.log(`nearest to "${titleOf(r)}"  (${ms.toFixed(2)} ms${i === 0 ? ', first query builds the index' : ''})`);
    for (const row of rows) console.log(`  ${row.match_score.toFixed(3)}  ${row.title}`);
    console.log('');
  }
  const steady: number[] = [];
  const probe = getEmb.get(records[5].id);
  for (let k = 0; k < 50; k++) {
    const t = process.hrtime.bigint();
    q.all(probe);
    steady.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  steady.sort((a, b) => a - b);
  console.log(`steady MATCH ... LIMIT 4 over ${n} x ${dim}: median ${steady[25].toFixed(3)} ms`);
  db.close();
}

main();
