// `vecsqlite sync` and the Replicator in the situations that used to hang or fail: a replica
// path that cannot be opened (the command exits 1 with one line, MySQL connection closed), a
// MySQL connection killed under --follow (reconnects with backoff and goes on), a failing
// dataset (reported on stderr, the others replicated, exit 1), a replica whose `vec` table
// needs the extension that the caller did not load, and a replica made by
// db/schema/sqlite/schema.ddl (foreign key to vec_dataset, NOT NULL embedding).
// The command runs lib/ as built by `npm test` (pretest); run `npm run build:ts` first when
// running this file alone.
import { spawn, spawnSync } from 'child_process';
import Database from 'better-sqlite3';
import * as fs from 'fs';
import * as path from 'path';
import { load, vecsync } from '../src';
import { f32blob, tempDir } from './helpers/db';
import { haveMysql, openTestMysql, type TestMysql } from './helpers/mysql';
import { localRows, normalise } from './helpers/upstream';

const root = path.join(__dirname, '..');
const cli = path.join(root, 'lib', 'cli', 'index.js');

describe('vecsqlite sync with a MySQL source', () => {
  let my: TestMysql | null = null;
  beforeAll(async () => {
    my = await openTestMysql('cli');
    if (my) {
      const ddl = fs.readFileSync(path.join(root, 'db', 'schema', 'mysql', 'shadow_sync.ddl'), 'utf8');
      await my.exec(...vecsync.splitMysqlScript(ddl));
      await my.exec("INSERT INTO vec_dataset(dataset_id) VALUES ('A'), ('B'), ('C')");
    }
  });
  afterAll(async () => { await my?.close(); });

  const ins = (ds: string, id: string, archived = 0) =>
    my!.conn.query('INSERT INTO shadow_vec_docs(dataset_id, id, content, embedding, embedding_model, scn, archived) VALUES (?, ?, ?, ?, ?, 0, ?)', [ds, id, `text ${id}`, f32blob([1, 2]), 'm', archived]);

  async function upstreamRows(where = '1'): Promise<string[]> {
    const [rows] = await my!.conn.query(`SELECT dataset_id, id, content, meta, embedding, embedding_model, scn, archived FROM shadow_vec_docs WHERE ${where}`);
    return normalise((rows as Record<string, unknown>[]).map((r) => ({ ...r, embedding: (r.embedding as Buffer).length ? r.embedding : null })));
  }

  async function sessions(): Promise<number> {
    const [[{ self }]] = (await my!.conn.query('SELECT CONNECTION_ID() AS self')) as unknown as [[{ self: number }]];
    const [rows] = await my!.conn.query('SELECT id FROM information_schema.processlist WHERE db = ? AND id <> ?', [my!.database, self]);
    return (rows as { id: number }[]).length;
  }

  test('an unusable replica path: exit 1 with one line, and the MySQL connection closed', async () => {
    if (!haveMysql(my)) return;
    await ins('A', 'a1');
    const dir = tempDir();
    const notDb = path.join(dir, 'not-a-db.sqlite');
    fs.writeFileSync(notDb, 'this is a text file, certainly not a SQLite database '.repeat(100));
    const before = await sessions();
    for (const [target, message] of [
      [path.join(dir, 'missing', 'dir', 'r.sqlite'), /unable to open database file|directory does not exist/],
      [dir, /unable to open database file|is a directory/],
      [notDb, /file is not a database/],
    ] as [string, RegExp][]) {
      const r = spawnSync(process.execPath, [cli, 'sync', '--source', my.url, '--target', target, '--table', 'shadow_vec_docs:_vec_docs', '--no-progress'], { timeout: 30000, encoding: 'utf8' });
      expect(r.error).toBeUndefined(); // not killed by the timeout: it exited by itself
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^vecsqlite: /);
      expect(lines[0]).toMatch(message);
    }
    expect(fs.readFileSync(notDb, 'utf8').startsWith('this is a text file')).toBe(true); // left as it was
    expect(await sessions()).toBe(before);
  }, 120000);

  test('--follow survives KILL of its MySQL connection: reconnects with backoff and catches up', async () => {
    if (!haveMysql(my)) return;
    const target = path.join(tempDir(), 'replica.sqlite');
    const child = spawn(process.execPath, [cli, 'sync', '--source', my.url, '--target', target, '--table', 'shadow_vec_docs:_vec_docs', '--dataset', 'A', '--follow', '--interval', '50', '--max-backoff', '400', '--no-progress']);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
    const until = async (cond: () => boolean | Promise<boolean>, what: string) => {
      for (let i = 0; i < 400; i++) {
        if (await cond()) return;
        await new Promise((res) => setTimeout(res, 50));
      }
      throw new Error(`timed out waiting for ${what}; stdout: ${out} stderr: ${err}`);
    };
    const replicaIds = () => {
      if (!fs.existsSync(target)) return [];
      const db = new Database(target, { readonly: true, fileMustExist: true });
      try {
        return db.prepare("SELECT id FROM _vec_docs WHERE dataset_id = 'A' ORDER BY id").pluck().all() as string[];
      } catch {
        return [];
      } finally {
        db.close();
      }
    };
    try {
      await until(() => out.includes('following'), 'follow mode');
      for (let round = 1; round <= 2; round++) {
        const [rows] = await my.conn.query('SELECT id FROM information_schema.processlist WHERE db = ? AND id <> CONNECTION_ID()', [my.database]);
        const ids = (rows as { id: number }[]).map((r) => r.id);
        expect(ids.length).toBeGreaterThan(0);
        for (const id of ids) await my.conn.query(`KILL ${id}`);
        await ins('A', `after-kill-${round}`);
        await until(() => replicaIds().includes(`after-kill-${round}`), `the row written after kill ${round}`);
      }
      expect(err).toMatch(/vecsqlite sync: source connection lost \(.*\); reconnect attempt 1 in 100 ms/);
      expect(child.exitCode).toBeNull(); // still following
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const replica = new Database(target, { readonly: true });
    expect(localRows(replica, '_vec_docs')).toEqual(await upstreamRows("dataset_id = 'A'"));
    replica.close();
  }, 60000);

  test('a failing dataset is reported on stderr, the others replicate, exit code 1', async () => {
    if (!haveMysql(my)) return;
    await ins('B', 'bad', 0);
    await my.conn.query("UPDATE shadow_vec_docs SET archived = 2 WHERE dataset_id = 'B' AND id = 'bad'");
    await ins('C', 'c1');
    const target = path.join(tempDir(), 'replica.sqlite');
    const r = spawnSync(process.execPath, [cli, 'sync', '--source', my.url, '--target', target, '--table', 'shadow_vec_docs:_vec_docs', '--no-progress'], { timeout: 30000, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/vecsqlite sync: dataset "B" failed \(the others go on\): vecsync: cannot apply shadow_vec_docs dataset "B" scn 2: payload archived must be 0 or 1, found 2/);
    expect(r.stderr.trim().split('\n').pop()).toBe('vecsqlite: 1 dataset(s) failed: B (see above)');
    expect(r.stdout).toMatch(/1 dataset\(s\) failed: B/);
    const replica = new Database(target, { readonly: true });
    expect(localRows(replica, '_vec_docs')).toEqual(await upstreamRows("dataset_id IN ('A', 'C')"));
    replica.close();
    await my.conn.query("DELETE FROM shadow_vec_docs WHERE dataset_id = 'B'");
  }, 60000);
});

describe('Replicator targets', () => {
  function sqliteUpstream(file: string, ddl?: string) {
    const up = new Database(file);
    if (ddl) up.exec(ddl);
    else up.exec(vecsync.seqTableDDL() + vecsync.logTableDDL() + vecsync.shadowTableDDL('shadow_vec_docs'));
    for (const t of vecsync.sqliteShadowLogTriggers('shadow_vec_docs')) up.exec(t);
    return up;
  }

  test('a replica with a vec table works without load(): the Replicator loads vecsqlite itself', async () => {
    const dir = tempDir();
    const up = sqliteUpstream(path.join(dir, 'up.sqlite'));
    const ins = up.prepare('INSERT INTO shadow_vec_docs(dataset_id, id, content, embedding) VALUES (?, ?, ?, ?)');
    ins.run('A', 'near', 'n', f32blob([1, 0]));
    ins.run('A', 'far', 'f', f32blob([-1, 0]));
    const file = path.join(dir, 'replica.sqlite');
    const setup = new Database(file);
    load(setup);
    setup.exec('CREATE VIRTUAL TABLE vec_docs USING vec(doc_id)');
    setup.close();
    const replica = new Database(file); // vecsqlite not loaded into this connection
    const rep = new vecsync.Replicator({ source: new vecsync.SqliteLogSource(up), target: replica, tables: [{ upstream: 'shadow_vec_docs', local: '_vec_vec_docs' }] });
    expect((await rep.catchUp()).applied).toBe(2);
    expect(replica.prepare("SELECT doc_id FROM vec_docs WHERE dataset_id = 'A' AND doc_id MATCH '[1, 0]'").pluck().all()).toEqual(['near', 'far']);
    replica.close();
    up.close();
  });

  test('a replica made by db/schema/sqlite/schema.ddl: parent dataset rows created, empty embeddings kept', async () => {
    const dir = tempDir();
    const ddl = fs.readFileSync(path.join(root, 'db', 'schema', 'sqlite', 'schema.ddl'), 'utf8');
    const up = sqliteUpstream(path.join(dir, 'up.sqlite'), ddl);
    up.exec("INSERT INTO vec_dataset(dataset_id) VALUES ('A'), ('B')");
    const ins = up.prepare('INSERT INTO shadow_vec_docs(dataset_id, id, content, embedding, embedding_model, scn) VALUES (?, ?, ?, ?, ?, ?)');
    ins.run('A', '1', 'one', f32blob([1, 2]), 'm', 1);
    ins.run('B', '2', 'two', Buffer.alloc(0), 'm', 2); // no vector: NOT NULL column holds ''
    up.prepare("UPDATE shadow_vec_docs SET dataset_id = 'B' WHERE id = '1'").run();
    const replica = new Database(path.join(dir, 'replica.sqlite'));
    replica.exec(ddl);
    expect(replica.pragma('foreign_keys', { simple: true })).toBe(1);
    const rep = new vecsync.Replicator({ source: new vecsync.SqliteLogSource(up), target: replica, tables: [{ upstream: 'shadow_vec_docs', local: 'shadow_vec_docs' }] });
    const r = await rep.catchUp();
    expect(r.failed).toEqual([]);
    expect(r.applied).toBe(4);
    const cols = 'dataset_id, id, content, meta, embedding, embedding_model, scn, archived';
    const rows = (db: Database.Database) => db.prepare(`SELECT ${cols} FROM shadow_vec_docs ORDER BY dataset_id, id`).all();
    expect(rows(replica)).toEqual(rows(up));
    expect(replica.prepare('SELECT dataset_id FROM vec_dataset ORDER BY 1').pluck().all()).toEqual(['A', 'B']);
    expect(replica.pragma('foreign_key_check')).toEqual([]);
    replica.close();
    up.close();
  });
});
