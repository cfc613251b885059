// The replicator: SQLite -> SQLite and MariaDB -> SQLite convergence (row by row, embeddings
// included), exactly-once batches, SCN gaps and resync, malformed payloads and unknown ops.
import Database from 'better-sqlite3';
import { vecsync } from '../src';
import { openDb } from './helpers/db';
import { haveMysql, openTestMysql, type TestMysql } from './helpers/mysql';
import { localRows, normalise, workload, writeSql } from './helpers/upstream';
import * as fs from 'fs';
import * as path from 'path';

const { Replicator, SqliteLogSource, MysqlLogSource, ScnGapError, VecsyncApplyError, shadowTableDDL, seqTableDDL, logTableDDL, sqliteShadowLogTriggers, splitMysqlScript } = vecsync;

function sqliteUpstream(): Database.Database {
  const db = new Database(':memory:');
  db.exec(shadowTableDDL('docs'));
  db.exec(seqTableDDL());
  db.exec(logTableDDL());
  for (const t of sqliteShadowLogTriggers('docs')) db.exec(t);
  return db;
}

function runWrites(db: Database.Database, seed: number, n: number): void {
  const next = workload(seed);
  const tx = db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const [sql, args] = writeSql(next(), 'docs');
      db.prepare(sql).run(...args);
    }
  });
  tx();
}

function upstreamRows(db: Database.Database): string[] {
  return normalise(db.prepare('SELECT * FROM docs').all() as Record<string, unknown>[]);
}

describe('SQLite upstream -> SQLite replica', () => {
  test('converges after random writes, and again after more', async () => {
    const up = sqliteUpstream();
    const replica = openDb();
    const rep = new Replicator({ source: new SqliteLogSource(up), target: replica, tables: [{ upstream: 'docs', local: '_vec_docs' }], batchSize: 37 });
    runWrites(up, 1, 400);
    const r1 = await rep.catchUp();
    expect(r1.applied).toBe(Number(up.prepare('select count(*) from vec_shadow_log').pluck().get()));
    expect(localRows(replica, '_vec_docs')).toEqual(upstreamRows(up));
    runWrites(up, 2, 300);
    await rep.catchUp();
    expect(localRows(replica, '_vec_docs')).toEqual(upstreamRows(up));
    for (const ds of ['A', 'B', 'C']) {
      expect(rep.lastScn(ds)).toBe(Number(up.prepare('select next_scn from vec_dataset_scn where dataset_id = ?').pluck().get(ds)));
    }
  });

  test('a batch applied twice changes nothing (crash between apply and ack)', async () => {
    const up = sqliteUpstream();
    runWrites(up, 3, 120);
    const replica = new Database(':memory:');
    const rep = new Replicator({ source: new SqliteLogSource(up), target: replica, tables: [{ upstream: 'docs', local: '_vec_docs' }] });
    const src = new SqliteLogSource(up);
    const batch = await src.readBatch('A', 0, 50);
    expect(rep.applyBatch('A', batch)).toBeGreaterThan(0);
    const after = localRows(replica, '_vec_docs');
    const scn = rep.lastScn('A');
    // The same batch again, as if it had been read before the crash acknowledged it.
    expect(rep.applyBatch('A', batch)).toBe(0);
    expect(localRows(replica, '_vec_docs')).toEqual(after);
    expect(rep.lastScn('A')).toBe(scn);
    // A batch overlapping the checkpoint applies only the new part.
    const overlap = await src.readBatch('A', scn - 3, 10);
    expect(rep.applyBatch('A', overlap)).toBe(overlap.filter((e) => e.scn > scn).length);
    expect(rep.lastScn('A')).toBe(overlap[overlap.length - 1].scn);
    rep.applyBatch('A', overlap);
    await rep.catchUp();
    expect(localRows(replica, '_vec_docs')).toEqual(upstreamRows(up));
  });

  test('an SCN gap is detected and reported; resync recovers', async () => {
    const up = sqliteUpstream();
    runWrites(up, 4, 200);
    up.prepare("delete from vec_shadow_log where dataset_id = 'B' and scn = 5").run(); // a lost entry
    const replica = new Database(':memory:');
    const rep = new Replicator({ source: new SqliteLogSource(up), target: replica, tables: [{ upstream: 'docs', local: '_vec_docs' }], batchSize: 1000 });
    await expect(rep.catchUp()).rejects.toThrow(ScnGapError);
    await expect(rep.catchUp()).rejects.toThrow(/SCN gap in dataset "B": expected scn 5, found 6; resync the dataset/);
    expect(rep.lastScn('B')).toBe(0); // the batch with the gap applied nothing
    await rep.resync('B');
    await rep.catchUp();
    expect(localRows(replica, '_vec_docs')).toEqual(upstreamRows(up));
    // resyncOnGap does the same automatically.
    const replica2 = new Database(':memory:');
    const rep2 = new Replicator({ source: new SqliteLogSource(up), target: replica2, tables: [{ upstream: 'docs', local: '_vec_docs' }], resyncOnGap: true });
    const r = await rep2.catchUp();
    expect(r.resynced).toEqual(['B']);
    expect(localRows(replica2, '_vec_docs')).toEqual(upstreamRows(up));
  });

  test.each([
    ['not JSON', "x'7b6e6f'", /payload is not valid JSON/],
    ['bad hex embedding', `CAST(json_set(payload, '$.embedding', 'zz') AS BLOB)`, /payload embedding is not a hex string/],
    ['embedding not float32', `CAST(json_set(payload, '$.embedding', 'abcdef') AS BLOB)`, /embedding has 3 bytes, not a multiple of 4/],
    ['id mismatch', `CAST(json_set(payload, '$.id', 'other') AS BLOB)`, /payload id "other" differs from the log row's document_id/],
  ])('a malformed payload (%s) stops the batch and applies nothing of it', async (_name, expr, message) => {
    const up = sqliteUpstream();
    runWrites(up, 5, 60);
    const replica = new Database(':memory:');
    const rep = new Replicator({ source: new SqliteLogSource(up), target: replica, tables: [{ upstream: 'docs', local: '_vec_docs' }], batchSize: 1000 });
    const victim = up.prepare("select scn from vec_shadow_log where dataset_id = 'A' and op != 'delete' order by scn limit 1 offset 3").pluck().get() as number;
    up.prepare(`update vec_shadow_log set payload = ${expr} where dataset_id = 'A' and scn = ?`).run(victim);
    await expect(rep.catchUp()).rejects.toThrow(message);
    await expect(rep.catchUp()).rejects.toThrow(VecsyncApplyError);
    expect(rep.lastScn('A')).toBe(0);
    expect(replica.prepare("select count(*) from _vec_docs where dataset_id = 'A'").pluck().get()).toBe(0);
  });

  test('an unknown op stops the batch with a clear error', async () => {
    const up = sqliteUpstream();
    runWrites(up, 6, 30);
    up.prepare("update vec_shadow_log set op = 'truncate' where dataset_id = 'A' and scn = 2").run();
    const replica = new Database(':memory:');
    const rep = new Replicator({ source: new SqliteLogSource(up), target: replica, tables: [{ upstream: 'docs', local: '_vec_docs' }] });
    await expect(rep.catchUp()).rejects.toThrow(/cannot apply docs dataset "A" scn 2: unknown op "truncate" \(expected insert, update or delete\); nothing of this batch was applied/);
    expect(rep.lastScn('A')).toBe(0);
  });

  test('bad options are rejected', () => {
    const db = new Database(':memory:');
    const source = new SqliteLogSource(db);
    expect(() => new Replicator({ source, target: db, tables: [] })).toThrow('Replicator: expected at least one table mapping {upstream, local}');
    expect(() => new Replicator({ source, target: db, tables: [{ upstream: 'a', local: 'b' }], batchSize: 0 })).toThrow('Replicator: expected batchSize to be a positive integer, received 0');
    expect(() => new Replicator({ source, target: db, tables: [{ upstream: 'a', local: 'b' }], batchsize: 3 } as never)).toThrow('Replicator: misspelled option "batchsize" should be "batchSize"');
  });
});

describe('MariaDB upstream -> SQLite replica', () => {
  let my: TestMysql | null = null;
  beforeAll(async () => {
    my = await openTestMysql('replicator');
    if (my) {
      const ddl = fs.readFileSync(path.join(__dirname, '..', 'db', 'schema', 'mysql', 'shadow_sync.ddl'), 'utf8');
      await my.exec(...splitMysqlScript(ddl));
      await my.exec("INSERT INTO vec_dataset(dataset_id) VALUES ('A'), ('B'), ('C')");
    }
  });
  afterAll(async () => { await my?.close(); });

  async function mysqlWrites(seed: number, n: number) {
    const next = workload(seed);
    for (let i = 0; i < n; i++) {
      const w = next();
      if (w.kind === 'insert' && w.doc.embedding === null) w.doc.embedding = Buffer.alloc(0); // NOT NULL upstream
      if (w.kind === 'update' && w.embedding === null) w.embedding = Buffer.alloc(4);
      const [sql, args] = writeSql(w, 'shadow_vec_docs');
      await my!.conn.query(sql, args);
    }
  }

  async function mysqlRows(): Promise<string[]> {
    const [rows] = await my!.conn.query('SELECT dataset_id, id, content, meta, embedding, embedding_model, scn, archived FROM shadow_vec_docs');
    // An empty upstream blob is "no vector" downstream.
    return normalise((rows as Record<string, unknown>[]).map((r) => ({ ...r, embedding: (r.embedding as Buffer).length ? r.embedding : null })));
  }

  test('converges row by row, embeddings included, across batches and datasets', async () => {
    if (!haveMysql(my)) return;
    await mysqlWrites(11, 300);
    const source = await MysqlLogSource.connect(my.url);
    const replica = openDb();
    const rep = new Replicator({ source, target: replica, tables: [{ upstream: 'shadow_vec_docs', local: '_vec_docs' }], batchSize: 64 });
    await rep.catchUp();
    expect(localRows(replica, '_vec_docs')).toEqual(await mysqlRows());
    await mysqlWrites(12, 200);
    await rep.catchUp();
    expect(localRows(replica, '_vec_docs')).toEqual(await mysqlRows());
    // Full resync from the shadow table gives the same result.
    const replica2 = new Database(':memory:');
    const rep2 = new Replicator({ source, target: replica2, tables: [{ upstream: 'shadow_vec_docs', local: '_vec_docs' }] });
    for (const ds of ['A', 'B', 'C']) await rep2.resync(ds);
    expect(localRows(replica2, '_vec_docs')).toEqual(await mysqlRows());
    await source.close();
  });
});
