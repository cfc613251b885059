// The replicator CLI killed with SIGKILL at random points (20 times) while the upstream keeps
// writing, and restarted: the replica always converges to the upstream with no duplicate or
// lost change. Also: SIGTERM stops `--follow` gracefully.
import { execFileSync, spawn } from 'child_process';
import Database from 'better-sqlite3';
import * as fs from 'fs';
import * as path from 'path';
import { vecsync } from '../src';
import { rng, tempDir } from './helpers/db';
import { haveMysql, openTestMysql, type TestMysql } from './helpers/mysql';
import { localRows, normalise, workload, writeSql } from './helpers/upstream';

const root = path.join(__dirname, '..');
const cli = path.join(root, 'lib', 'cli', 'index.js');

describe('vecsqlite sync under SIGKILL', () => {
  let my: TestMysql | null = null;
  beforeAll(async () => {
    execFileSync('npm', ['run', 'build:ts'], { cwd: root, stdio: 'ignore' }); // the child runs lib/
    my = await openTestMysql('crash');
    if (my) {
      const ddl = fs.readFileSync(path.join(root, 'db', 'schema', 'mysql', 'shadow_sync.ddl'), 'utf8');
      await my.exec(...vecsync.splitMysqlScript(ddl));
      await my.exec("INSERT INTO vec_dataset(dataset_id) VALUES ('A'), ('B'), ('C')");
    }
  }, 120000);
  afterAll(async () => { await my?.close(); });

  async function upstreamRows(): Promise<string[]> {
    const [rows] = await my!.conn.query('SELECT dataset_id, id, content, meta, embedding, embedding_model, scn, archived FROM shadow_vec_docs');
    return normalise((rows as Record<string, unknown>[]).map((r) => ({ ...r, embedding: (r.embedding as Buffer).length ? r.embedding : null })));
  }

  test('20 random kills, then convergence with exact checkpoints', async () => {
    if (!haveMysql(my)) return;
    const target = path.join(tempDir(), 'replica.sqlite');
    const args = [cli, 'sync', '--source', my.url, '--target', target, '--table', 'shadow_vec_docs:_vec_docs', '--batch-size', '7', '--no-progress'];
    const next = workload(77);
    const r = rng(78);
    const write = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const w = next();
        if (w.kind === 'insert' && w.doc.embedding === null) w.doc.embedding = Buffer.alloc(0);
        if (w.kind === 'update' && w.embedding === null) w.embedding = Buffer.alloc(4);
        const [sql, a] = writeSql(w, 'shadow_vec_docs');
        await my!.conn.query(sql, a);
      }
    };
    await write(150);
    // Start-up plus a first catch-up under the current machine load (into a scratch file), so
    // that the kills below land while the command works, however slow the machine is.
    const t0 = Date.now();
    execFileSync(process.execPath, [cli, 'sync', '--source', my.url, '--target', path.join(tempDir(), 'warmup.sqlite'), '--table', 'shadow_vec_docs:_vec_docs', '--no-progress'], { stdio: 'ignore' });
    const startup = Date.now() - t0;
    let killedMidWay = 0;
    for (let round = 0; round < 20; round++) {
      const child = spawn(process.execPath, [...args, '--follow', '--interval', '10'], { stdio: 'ignore' });
      const exited = new Promise<void>((res) => child.once('exit', () => res()));
      const writer = write(20); // the upstream keeps changing while the replicator runs
      await new Promise((res) => setTimeout(res, Math.floor(startup * (0.5 + r()))));
      child.kill('SIGKILL');
      await exited;
      await writer;
      if (fs.existsSync(target)) {
        const db = new Database(target, { readonly: true });
        const hasState = db.prepare("select count(*) from sqlite_schema where name = 'vec_sync_state'").pluck().get();
        if (hasState) killedMidWay++;
        db.close();
      }
    }
    expect(killedMidWay).toBeGreaterThan(0);
    // A final one-shot catch-up after the last kill.
    execFileSync(process.execPath, args, { stdio: 'ignore' });
    const replica = new Database(target, { readonly: true });
    expect(localRows(replica, '_vec_docs')).toEqual(await upstreamRows());
    const [seq] = await my.conn.query('SELECT dataset_id, next_scn FROM vec_dataset_scn ORDER BY dataset_id');
    for (const s of seq as { dataset_id: string; next_scn: number }[]) {
      expect(replica.prepare("select last_scn from vec_sync_state where dataset_id = ? and shadow_table = 'shadow_vec_docs'").pluck().get(s.dataset_id)).toBe(Number(s.next_scn));
    }
    replica.close();
  }, 180000);

  test('SIGTERM stops --follow after the current batch, exit code 0', async () => {
    if (!haveMysql(my)) return;
    const target = path.join(tempDir(), 'replica.sqlite');
    const child = spawn(process.execPath, [cli, 'sync', '--source', my.url, '--target', target, '--table', 'shadow_vec_docs:_vec_docs', '--follow', '--interval', '50', '--no-progress']);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    for (let i = 0; i < 100 && !out.includes('following'); i++) await new Promise((res) => setTimeout(res, 50));
    const code = new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
    child.kill('SIGTERM');
    expect(await code).toBe(0);
    expect(out).toContain('vecsqlite sync: stopping after the current batch');
  }, 60000);

  test('bad CLI input gets clear errors', () => {
    const run = (...a: string[]) => {
      try {
        execFileSync(process.execPath, [cli, 'sync', ...a], { stdio: 'pipe' });
        return '';
      } catch (e) {
        return String((e as { stderr: Buffer }).stderr);
      }
    };
    expect(run('--source', 'x', '--target', 'y', '--table', 'nocolon')).toContain('expected <upstream>:<local>');
    expect(run('--source', 'x', '--target', 'y', '--table', 'a:b', '--batch-size', '0')).toContain('expected a positive integer, received "0"');
    expect(run('--source', '/nonexistent/up.sqlite', '--target', '/tmp/y.sqlite', '--table', 'a:b')).toMatch(/vecsqlite: .*(unable to open|directory does not exist)/);
  });
});
