/**
 * `vecsqlite demo`: real sentence embeddings in SQLite, offline. Loads the 778 SAP Fiori
 * documentation chunks and their all-MiniLM-L6-v2 vectors (npm @sap-ux/fiori-docs-embeddings, a
 * dependency installed with vecsqlite) into a vec0 table and an FTS5 index, then shows
 * vector neighbours of a document, a keyword search and a hybrid search.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { bulkInsert } from '../bulk';
import { hybridSearch } from '../hybrid';
import { isa, version } from '../index';
import { CliError, openDatabase, output } from './common';
import { loadFiori } from './datasets';

interface DemoOptions { db: string; json?: boolean }

export function runDemo(o: DemoOptions): Record<string, unknown> {
  const data = loadFiori();
  fs.mkdirSync(path.dirname(path.resolve(o.db)), { recursive: true });
  for (const f of [o.db, o.db + '-wal', o.db + '-shm']) fs.rmSync(f, { force: true });
  const db = openDatabase(o.db, false);
  try {
    const t0 = process.hrtime.bigint();
    db.exec(`create virtual table docs using vec0(embedding float[${data.dims}] distance_metric=cosine, +title text);
             create virtual table docs_fts using fts5(title, content);`);
    const ids = data.docs.map((_, i) => i + 1);
    db.transaction(() => {
      bulkInsert(db, 'docs', ids, data.vectors);
      const setTitle = db.prepare('update docs set title = ? where rowid = ?');
      const fts = db.prepare('insert into docs_fts(rowid, title, content) values (?, ?, ?)');
      data.docs.forEach((d, i) => {
        setTitle.run(d.title, BigInt(i + 1));
        fts.run(i + 1, d.title, d.content);
      });
    })();
    const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
    const title = db.prepare('select title from docs where rowid = ?').pluck();
    const vecOf = (i: number) => data.vectors.subarray(i * data.dims, (i + 1) * data.dims);
    const knn = db.prepare('select rowid, distance from docs where embedding match ? and k = ?');
    const probe = 0;
    const neighbours = (knn.all(Buffer.from(vecOf(probe).buffer, vecOf(probe).byteOffset, data.dims * 4), 4) as { rowid: number; distance: number }[])
      .map((r) => ({ rowid: r.rowid, similarity: +(1 - r.distance).toFixed(3), title: title.get(BigInt(r.rowid)) as string }));
    const keywordQuery = 'deploy cloud foundry';
    const keyword = (db.prepare('select rowid, title from docs_fts where docs_fts match ? order by rank limit 4').all(keywordQuery) as { rowid: number; title: string }[]);
    // Hybrid: the keyword query plus the vector of a document about the same subject.
    const hybrid = hybridSearch(db, 'docs_fts', 'docs', keywordQuery, vecOf(probe), 4).map((h) => ({ rowid: h.rowid, score: +h.score.toFixed(4), textRank: h.textRank, vecRank: h.vecRank, title: title.get(BigInt(h.rowid)) as string }));
    return { version, isa: isa(), db: o.db, documents: data.docs.length, dims: data.dims, model: data.model, loadMs: +loadMs.toFixed(1), probe: data.docs[probe].title, neighbours, keywordQuery, keyword, hybrid };
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message);
  } finally {
    db.close();
  }
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('load 778 real MiniLM document embeddings into SQLite and run vector, keyword and hybrid searches')
    .option('--db <file>', 'database file to (re)create', '.vecsqlite-demo/demo.sqlite')
    .option('--json', 'print the result as JSON')
    .action((o: DemoOptions) => {
      const r = runDemo(o);
      output(!!o.json, r, () => {
        const lines = [
          `vecsqlite ${r.version} (${r.isa}): ${r.documents} documents, ${r.dims}-dimensional ${r.model} vectors, loaded into ${r.db} in ${r.loadMs} ms`,
          '',
          `nearest to "${r.probe}":`,
          ...(r.neighbours as { similarity: number; title: string }[]).map((n) => `  ${n.similarity.toFixed(3)}  ${n.title}`),
          '',
          `keyword search "${r.keywordQuery}":`,
          ...(r.keyword as { title: string }[]).map((n, i) => `  ${i + 1}. ${n.title}`),
          '',
          'hybrid (keywords + the vector above, reciprocal rank fusion):',
          ...(r.hybrid as { score: number; textRank: number | null; vecRank: number | null; title: string }[]).map((n) => `  ${n.score.toFixed(4)}  text #${n.textRank ?? '-'} vector #${n.vecRank ?? '-'}  ${n.title}`),
        ];
        return lines.join('\n');
      });
    });
}
