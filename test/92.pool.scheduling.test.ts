// The thread policy of a query: an idle process splits a large scan (16 MiB or more) over
// several threads, VECSQLITE_QUERY_THREADS caps that (1 = the calling thread only) with the
// same results, and a bad value is refused at load. Thread use is read from vec_stats().
import { spawnSync } from 'child_process';
import * as os from 'os';
import * as path from 'path';

const root = path.join(__dirname, '..');

// 6000 x 768 float32 = 17.6 MiB: above the split threshold. Prints the KNN result and how many
// helper threads the queries started.
const SCRIPT = `
  const D = require('better-sqlite3'); const { load } = require('./lib');
  const db = new D(':memory:'); load(db);
  db.exec('create virtual table t using vec0(v float[768])');
  let a = 1; const r = () => ((a = (a * 1103515245 + 12345) % 2147483648) / 2147483648);
  const ins = db.prepare('insert into t(rowid, v) values (?, ?)');
  db.transaction(() => { for (let i = 1; i <= 6000; i++) ins.run(i, Buffer.from(Float32Array.from({ length: 768 }, r).buffer)); })();
  const q = Buffer.from(Float32Array.from({ length: 768 }, r).buffer);
  const stats = () => JSON.parse(db.prepare('select vec_stats()').pluck().get());
  const knn = () => db.prepare('select rowid, distance from t where v match ? and k = 5').all(q);
  knn();
  const before = stats().query_helper_threads ?? 0;
  const rows = knn();
  console.log(JSON.stringify({ rows, helpers: (stats().query_helper_threads ?? 0) - before }));
`;

function run(env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['-e', SCRIPT], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('an idle process splits a large scan; VECSQLITE_QUERY_THREADS=1 does not, with the same result', () => {
  const dflt = run({ VECSQLITE_QUERY_THREADS: '' });
  const one = run({ VECSQLITE_QUERY_THREADS: '1' });
  expect([dflt.status, dflt.stderr, one.status, one.stderr]).toEqual([0, '', 0, '']);
  const a = JSON.parse(dflt.stdout) as { rows: unknown[]; helpers: number };
  const b = JSON.parse(one.stdout) as { rows: unknown[]; helpers: number };
  expect(b.rows).toEqual(a.rows);
  expect(a.rows).toHaveLength(5);
  expect(b.helpers).toBe(0);
  if (os.cpus().length > 1) expect(a.helpers).toBeGreaterThan(0);
});

test('a bad VECSQLITE_QUERY_THREADS is refused at load, naming the variable', () => {
  for (const bad of ['0', 'two', '65', '-1']) {
    const r = run({ VECSQLITE_QUERY_THREADS: bad });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('vecsqlite: VECSQLITE_QUERY_THREADS must be a whole number from 1 to 64');
  }
});
