// The MySQL / MariaDB DDL files on real servers: re-runnable through the mariadb CLI, every
// table, key and index of the reference, the hazards of the reference script fixed
// (duplicate-key failure on UPDATE, double SCN increments, error 1418 under binary logging).
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import mysql from 'mysql2/promise';
import { vecsync } from '../src';
import { haveMysql, openTestMysql, type TestMysql } from './helpers/mysql';

const root = path.join(__dirname, '..');
const ddl = (name: string) => fs.readFileSync(path.join(root, 'db', 'schema', 'mysql', name), 'utf8');

describe('db/schema/mysql on MariaDB', () => {
  let my: TestMysql | null = null;
  beforeAll(async () => { my = await openTestMysql('ddl'); });
  afterAll(async () => { await my?.close(); });

  test('both scripts run twice, in either order, through the mariadb CLI', async () => {
    if (!haveMysql(my)) return;
    for (const f of ['schema.ddl', 'shadow_sync.ddl', 'shadow_sync.ddl', 'schema.ddl']) {
      execFileSync('mariadb', ['-uroot', '-h127.0.0.1', my.database], { input: ddl(f) });
    }
    const [tables] = await my.conn.query('SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1');
    expect((tables as { t: string }[]).map((r) => r.t).sort()).toEqual(['shadow_vec_docs', 'vec_dataset', 'vec_dataset_scn', 'vec_shadow_log', 'vec_sync_state', 'vector_storage']);
    const cols = async (t: string) => {
      const [rows] = await my!.conn.query('SELECT column_name AS c FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? ORDER BY ordinal_position', [t]);
      return (rows as { c: string }[]).map((r) => r.c);
    };
    expect(await cols('vec_dataset')).toEqual(['dataset_id', 'description', 'source_uri', 'created_at', 'updated_at', 'last_scn']);
    expect(await cols('shadow_vec_docs')).toEqual(['id', 'dataset_id', 'content', 'meta', 'embedding', 'embedding_model', 'scn', 'archived', 'created_at', 'updated_at']);
    expect(await cols('vec_shadow_log')).toEqual(['dataset_id', 'shadow_table', 'scn', 'op', 'document_id', 'payload', 'created_at']);
    expect(await cols('vec_sync_state')).toEqual(['dataset_id', 'shadow_table', 'last_scn', 'updated_at']);
    expect(await cols('vector_storage')).toEqual(['shadow_table_name', 'dataset_id', 'index']);
    expect(await cols('vec_dataset_scn')).toEqual(['dataset_id', 'next_scn']);
    const [idx] = await my.conn.query("SELECT index_name AS i, GROUP_CONCAT(column_name ORDER BY seq_in_index) AS c FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = 'shadow_vec_docs' GROUP BY index_name ORDER BY 1");
    expect((idx as { i: string; c: string }[]).map((r) => `${r.i}(${r.c})`).sort()).toEqual([
      'PRIMARY(dataset_id,id)', 'idx_shadow_vec_docs_dataset(dataset_id)', 'idx_shadow_vec_docs_scn(dataset_id,scn)',
    ]);
    const [fks] = await my.conn.query('SELECT constraint_name AS n FROM information_schema.referential_constraints WHERE constraint_schema = DATABASE() ORDER BY 1');
    expect((fks as { n: string }[]).map((r) => r.n).sort()).toEqual(['fk_shadow_vec_docs_dataset']); // the counter and the log outlive a deleted dataset
    const [trg] = await my.conn.query('SELECT trigger_name AS n, event_manipulation AS e FROM information_schema.triggers WHERE trigger_schema = DATABASE() ORDER BY 1');
    expect((trg as { n: string; e: string }[]).map((r) => `${r.n}:${r.e}`).sort()).toEqual(['shadow_vec_docs_ad:DELETE', 'shadow_vec_docs_ai:INSERT', 'shadow_vec_docs_au:UPDATE', 'vec_dataset_bd:DELETE']);
  });

  test('the script\'s triggers are the builder\'s text', () => {
    const text = ddl('shadow_sync.ddl');
    for (const t of vecsync.mysqlShadowLogTriggers('shadow_vec_docs')) expect(text).toContain(t.slice(0, -1) + '$$');
  });

  test('UPDATE without a new scn succeeds, SCNs start at 1 with no double increments', async () => {
    if (!haveMysql(my)) return;
    const c = my.conn;
    await c.query("INSERT INTO vec_dataset(dataset_id) VALUES ('D')");
    await c.query("INSERT INTO shadow_vec_docs(id, dataset_id, embedding, embedding_model, scn) VALUES ('x', 'D', X'0000803f', 'm', 42)");
    await c.query("UPDATE shadow_vec_docs SET content = 'a' WHERE id = 'x'"); // the reference failed here (log PK)
    await c.query("UPDATE shadow_vec_docs SET content = 'b' WHERE id = 'x'");
    await c.query("INSERT INTO shadow_vec_docs(id, dataset_id, embedding, embedding_model, scn) VALUES ('y', 'D', X'', 'm', 42)");
    const [log] = await c.query("SELECT scn, op FROM vec_shadow_log WHERE dataset_id = 'D' ORDER BY scn");
    expect(log).toEqual([{ scn: 1, op: 'insert' }, { scn: 2, op: 'update' }, { scn: 3, op: 'update' }, { scn: 4, op: 'insert' }]);
    // The same id may live in two datasets (composite key).
    await c.query("INSERT INTO vec_dataset(dataset_id) VALUES ('E')");
    await c.query("INSERT INTO shadow_vec_docs(id, dataset_id, embedding, embedding_model, scn) VALUES ('x', 'E', X'', 'm', 1)");
  });
});

describe('binary logging on (error 1418)', () => {
  let server: ChildProcess | undefined;
  let dir = '';
  const mariadbd = ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'].find((p) => fs.existsSync(p));

  beforeAll(async () => {
    if (!mariadbd) return;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vecsqlite-binlog-'));
    const r = spawnSync('mariadb-install-db', ['--no-defaults', '--user=root', `--datadir=${dir}/data`, '--auth-root-authentication-method=normal', '--skip-test-db']);
    if (r.status !== 0) throw new Error('mariadb-install-db failed: ' + r.stderr.toString());
    server = spawn(mariadbd, ['--no-defaults', '--user=root', `--datadir=${dir}/data`, `--socket=${dir}/sock`, '--skip-networking', `--log-bin=${dir}/binlog`, `--pid-file=${dir}/pid`], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !fs.existsSync(`${dir}/sock`); i++) await new Promise((res) => setTimeout(res, 100));
  });
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((res) => server!.once('exit', res));
      server.kill('SIGTERM');
      await exited;
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the reference function fails with 1418; our scripts install and log', async () => {
    if (!mariadbd) {
      if (process.env.CI) throw new Error('mariadbd is required in CI');
      console.warn('*** SKIPPED: no mariadbd on this machine; the binary-logging test did not run ***');
      return;
    }
    const c = await mysql.createConnection({ socketPath: `${dir}/sock`, user: 'root' });
    try {
      await c.query('CREATE DATABASE v');
      await c.query('USE v');
      const [[{ b }]] = (await c.query('SELECT @@log_bin AS b')) as unknown as [[{ b: number }]];
      expect(b).toBe(1);
      await c.query('CREATE TABLE vec_dataset_scn (dataset_id VARCHAR(191) PRIMARY KEY, next_scn BIGINT NOT NULL DEFAULT 1)');
      // The reference's vec_next_scn: a data-modifying function without DETERMINISTIC / READS SQL DATA.
      await expect(c.query(`CREATE FUNCTION vec_next_scn(p_dataset VARCHAR(191)) RETURNS BIGINT
        BEGIN INSERT INTO vec_dataset_scn(dataset_id, next_scn) VALUES (p_dataset, 2) ON DUPLICATE KEY UPDATE next_scn = next_scn + 1;
        RETURN (SELECT next_scn FROM vec_dataset_scn WHERE dataset_id = p_dataset); END`)).rejects.toMatchObject({ errno: 1418 });
      for (const f of ['schema.ddl', 'shadow_sync.ddl']) for (const s of vecsync.splitMysqlScript(ddl(f))) await c.query(s);
      await c.query("INSERT INTO vec_dataset(dataset_id) VALUES ('A')");
      await c.query("INSERT INTO shadow_vec_docs(id, dataset_id, embedding, embedding_model, scn) VALUES ('1', 'A', X'', 'm', 0)");
      const [[{ n }]] = (await c.query('SELECT COUNT(*) AS n FROM vec_shadow_log')) as unknown as [[{ n: number }]];
      expect(n).toBe(1);
    } finally {
      await c.end();
    }
  });
});
