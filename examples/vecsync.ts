/**
 * vecsync: replicate documents from a source-of-truth database into a SQLite copy that
 * vecsqlite searches. Here both sides are SQLite (in memory, to stay self-contained); with
 * MySQL / MariaDB upstream, use `await vecsync.MysqlLogSource.connect(url)` as the source,
 * or the `vecsqlite sync` command.
 *
 *   npm run build:ts && npm run build:examples && node lib/examples/vecsync.js
 */
import Database from 'better-sqlite3';
import { encodeEmbedding, load, vecsync } from 'vecsqlite';

async function main(): Promise<void> {
  // Upstream: the documents table, the SCN counter and the change log, plus triggers that log
  // every INSERT / UPDATE / DELETE of the documents with the next SCN of their dataset.
  const upstream = new Database(':memory:');
  upstream.exec(vecsync.shadowTableDDL('shadow_docs'));
  upstream.exec(vecsync.seqTableDDL());
  upstream.exec(vecsync.logTableDDL());
  for (const trigger of vecsync.sqliteShadowLogTriggers('shadow_docs')) upstream.exec(trigger);

  const put = upstream.prepare('INSERT INTO shadow_docs(dataset_id, id, content, embedding) VALUES (?, ?, ?, ?)');
  put.run('kb', 'install', 'Installing the app', encodeEmbedding([1, 0, 0]));
  put.run('kb', 'upgrade', 'Upgrading from v1', encodeEmbedding([0.8, 0.6, 0]));
  put.run('kb', 'draft', 'Unfinished draft', encodeEmbedding([0, 0, 1]));
  upstream.prepare("UPDATE shadow_docs SET content = 'Installing the app (Linux, macOS)' WHERE id = 'install'").run();
  upstream.prepare("DELETE FROM shadow_docs WHERE id = 'draft'").run();

  // Replica: a vec table over _vec_docs; the Replicator writes _vec_docs and keeps its
  // checkpoint (vec_sync_state) in the same transaction as each batch.
  const replica = new Database(':memory:');
  load(replica);
  replica.exec('CREATE VIRTUAL TABLE docs USING vec(doc_id)');
  const rep = new vecsync.Replicator({
    source: new vecsync.SqliteLogSource(upstream),
    target: replica,
    tables: [{ upstream: 'shadow_docs', local: '_vec_docs' }],
  });

  let r = await rep.catchUp();
  console.log(`catch-up: applied ${r.applied} changes in ${r.batches} batch(es)`);

  const search = replica.prepare(`SELECT v.doc_id, v.match_score, d.content
    FROM docs v JOIN _vec_docs d ON d.rowid = v.rowid
    WHERE v.dataset_id = 'kb' AND v.doc_id MATCH ? ORDER BY v.match_score DESC LIMIT 5`);
  const show = () => {
    for (const row of search.all(encodeEmbedding([1, 0, 0])) as { doc_id: string; match_score: number; content: string }[]) {
      console.log(`  ${row.match_score.toFixed(3)}  ${row.doc_id}  ${row.content}`);
    }
  };
  show();

  // Later writes upstream arrive with the next catch-up (or run rep.follow(ms) to poll).
  put.run('kb', 'uninstall', 'Removing the app', encodeEmbedding([0.6, 0, 0.8]));
  r = await rep.catchUp();
  console.log(`catch-up: applied ${r.applied} changes; replica checkpoint for 'kb' at scn ${rep.lastScn('kb')}`);
  show();

  replica.close();
  upstream.close();
}

main().catch((e: Error) => {
  console.error(e);
  process.exitCode = 1;
});
