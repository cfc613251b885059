// vec0 across worker threads: two writer threads and two reader threads share one WAL file,
// each with its own connection. Readers check every KNN against a brute force over the chunk
// tables (the source of truth) in the same read transaction, so caches that fall behind the
// writers' commits (refreshed from the change log or reloaded) must always agree with the
// snapshot they read; at the end every reader agrees with a connection opened afterwards.
// The process-wide state (kernels, counters, scan threads) is shared by all of them.
import * as path from 'path';
import { Worker } from 'worker_threads';
import { openDb, tempDir } from './helpers/db';

const worker = path.join(__dirname, 'helpers', 'vec0-worker.js');
const DIMS = 8;

test('writers and readers on worker threads: every KNN matches its snapshot', async () => {
  const file = path.join(tempDir(), 'threads.db');
  const setup = openDb(file);
  setup.pragma('journal_mode = wal');
  setup.exec(`create virtual table t using vec0(v float[${DIMS}], chunk_size=16)`);
  const ins = setup.prepare('insert into t(rowid, v) values (?, ?)');
  setup.transaction(() => {
    for (let i = 1; i <= 300; i++)
      ins.run(i, Buffer.from(new Float32Array(Array.from({ length: DIMS }, (_, k) => Math.sin(i * 3.1 + k))).buffer));
  })();
  const stats0 = JSON.parse(setup.prepare('select vec_stats()').pluck().get() as string);
  setup.close();

  const flag = new SharedArrayBuffer(4 * 4); // done, two readers' progress, a word to nap on
  const start = (role: string, seed: number, iters: number, reader = -1) =>
    new Promise<any>((resolve, reject) => {
      const w = new Worker(worker, { workerData: { file, role, seed, iters, dims: DIMS, flag, reader, readers: 2 } });
      w.once('message', resolve);
      w.once('error', reject);
    });
  const readers = [start('reader', 11, 250, 0), start('reader', 12, 250, 1)];
  await Promise.all([start('writer', 1, 150), start('writer', 2, 150)]);
  Atomics.store(new Int32Array(flag), 0, 1);
  Atomics.notify(new Int32Array(flag), 0);
  const results = await Promise.all(readers);
  // eslint-disable-next-line no-console
  if (process.env.VECSQLITE_TEST_VERBOSE) console.log(results.map((r) => r.checks));

  const fresh = openDb(file);
  const want = fresh.prepare('select rowid as id, distance from t where v match ? and k = 5')
    .all(Buffer.from(new Float32Array(DIMS).fill(0.5).buffer));
  for (const r of results) {
    expect({ bad: r.bad, n: r.nbad }).toEqual({ bad: [], n: 0 });
    expect(r.checks).toBeGreaterThanOrEqual(250);
    expect(r.final).toEqual(want);
  }
  // The readers kept their caches by refreshing them from the change log.
  const stats = JSON.parse(fresh.prepare('select vec_stats()').pluck().get() as string);
  expect(stats.vec0_refreshes).toBeGreaterThan(stats0.vec0_refreshes);
  fresh.close();
}, 60000);
