// Crash safety: writers killed with SIGKILL at random moments (bulk ingest into vec0, the same
// into a graph-indexed vec0 with full graph rebuilds, and `vec_admin` reindex between writes to
// a `vec` table) leave databases that pass
// integrity_check, hold exactly the committed transactions and answer KNN like brute force
// (scripts/crashloop.js; 10 kills of each here, 100 in the documented run). The checker itself
// is shown to catch a lost commit, a missing row and a changed vector.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { tempDir } from './helpers/db';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const crash = require('../scripts/crashloop.js');
const script = path.join(__dirname, '..', 'scripts', 'crashloop.js');

describe('crash loop', () => {
  test('the checker accepts the committed state and rejects a lost commit, a missing row and a changed vector', () => {
    const file = path.join(tempDir(), 'ctl.db');
    const db = crash.openDb(file, 'wal');
    const commit = crash.ingestWriter(db);
    for (let i = 1; i <= 6; i++) commit(i);
    db.close();
    const g = crash.rng(5);
    expect(crash.verify('ingest', file, 'wal', 6, g)).toEqual({ n: 6, rows: crash.stateAfter(6).size });
    expect(crash.stateAfter(6).size).toBe(6 * 50 - 3 * 10); // 3 transactions delete 10 rows each
    expect(() => crash.verify('ingest', file, 'wal', 7, g)).toThrow('counter 6 < last reported commit 7 (a committed transaction was lost)');
    const w = crash.openDb(file, 'wal');
    w.prepare('update t set e = ? where rowid = 3').run(Buffer.alloc(64));
    w.close();
    expect(() => crash.verify('ingest', file, 'wal', 6, g)).toThrow('vector of row 3 differs');
    const d = crash.openDb(file, 'wal');
    d.prepare('delete from t where rowid = 4').run();
    d.close();
    expect(() => crash.verify('ingest', file, 'wal', 6, g)).toThrow(`count(*) ${crash.stateAfter(6).size - 1}, expected ${crash.stateAfter(6).size} after 6 transactions`);
  });

  test('10 kills during ingest and 10 during reindex: every reopen is consistent', () => {
    const r = spawnSync(process.execPath, [script, '--kills', '10', '--seed', '71'], { encoding: 'utf8', timeout: 400000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const res = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(res.map((x) => [x.mode, x.kills, x.failures])).toEqual([['ingest', 10, 0], ['reindex', 10, 0]]);
    // The writers got somewhere before being killed.
    for (const x of res) expect(x.transactions).toBeGreaterThan(0);
  }, 420000);

  test('10 kills during ingest into a graph-indexed table and its full rebuilds: every reopen is consistent, the graph answers', () => {
    const r = spawnSync(process.execPath, [script, '--kills', '10', '--seed', '72', '--mode', 'graph'], { encoding: 'utf8', timeout: 400000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const res = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(res.map((x) => [x.mode, x.kills, x.failures])).toEqual([['graph', 10, 0]]);
    expect(res[0].transactions).toBeGreaterThan(0);
  }, 420000);
});
