// Concurrency: one writer and four readers (two processes, two worker threads) on one WAL
// file; every read sees exactly some committed state (scripts/soak.js; 10 s here, 60 s in the
// documented run). The reader's checks are shown to catch a state no transaction produced.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { tempDir } from './helpers/db';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const soak = require('../scripts/soak.js');
const script = path.join(__dirname, '..', 'scripts', 'soak.js');

function setup(file: string) {
  const db = soak.openDb(file);
  db.pragma('journal_mode = wal');
  db.exec('create virtual table t using vec0(e float[8], m integer, chunk_size=64)');
  db.exec('create table ledger(id integer primary key, i integer not null); insert into ledger values (1, 0)');
  db.close();
}

describe('concurrency soak', () => {
  test('a reader accepts committed states and reports a state no transaction produced', () => {
    const file = path.join(tempDir(), 'ctl.db');
    setup(file);
    const w = soak.writer(file, Date.now() + 300);
    expect(w.commits).toBeGreaterThan(0);
    const ok = soak.reader(file, Date.now() + 200, 'r', 1);
    expect(ok.errors).toBe(0);
    expect(ok.reads).toBeGreaterThan(0);
    const db = soak.openDb(file);
    db.prepare('delete from t where rowid = ?').run(w.commits * 40); // the last insert, outside the writer's transactions
    db.close();
    const bad = soak.reader(file, Date.now() + 200, 'r', 1);
    expect(bad.errors).toBeGreaterThan(0);
    expect(bad.messages[0]).toMatch(new RegExp(`^snapshot ${w.commits}: count\\(\\*\\) \\d+, expected \\d+$`));
  });

  test.each([['process', 10], ['thread', 5]])('writer in a %s, 4 readers, %i s: 0 errors', (writer, seconds) => {
    const r = spawnSync(process.execPath, [script, '--seconds', String(seconds), '--writer', String(writer)], { encoding: 'utf8', timeout: 120000 });
    expect(r.stderr).toBe('');
    if (r.status !== 0) throw new Error(`soak exited ${r.status}:\n${r.stdout}`);
    const res = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    expect(res.errors).toBe(0);
    expect(res.commits).toBeGreaterThan(0);
    expect(res.reads).toBeGreaterThan(0);
  }, 150000);
});
