// vec0 graph indexes (`indexed by hnsw(...)`): recall floors on real data against the exact
// scan, exact distances, k rows under filters at every selectivity, transactions, two
// connections, crash and reopen, damaged index blobs, maintenance commands and declarations.
import Database from 'better-sqlite3';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { openDb, openRef, msg, rng, tempDir, DB } from './helpers/db';

const blob = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

function randomRows(n: number, dim: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) out[i] = r() * 2 - 1;
  return out;
}
const row = (a: Float32Array, dim: number, i: number) => a.subarray(i * dim, (i + 1) * dim);

function fill(db: DB, table: string, data: Float32Array, dim: number, extra?: (i: number) => unknown[], cols = '') {
  const ph = cols ? `, ${cols.split(',').map(() => '?').join(', ')}` : '';
  const ins = db.prepare(`insert into ${table}(rowid, e${cols ? ', ' + cols : ''}) values (?, ?${ph})`);
  db.transaction(() => {
    for (let i = 0; i < data.length / dim; i++) ins.run(BigInt(i + 1), blob(row(data, dim, i)), ...(extra ? extra(i) : []));
  })();
}

function recall(db: DB, table: string, queries: Float32Array, dim: number, k: number, where = '', ef = ''): number {
  const g = db.prepare(`select rowid from ${table} where e match ? and k = ? ${where} ${ef}`).pluck();
  const x = db.prepare(`select rowid from ${table} where e match ? and k = ? ${where} and ef = 0`).pluck();
  let hit = 0;
  let tot = 0;
  for (let i = 0; i < queries.length / dim; i++) {
    const q = blob(row(queries, dim, i));
    const truth = new Set(x.all(q, k) as number[]);
    for (const id of g.all(q, k) as number[]) if (truth.has(id)) hit++;
    tot += truth.size;
  }
  return hit / tot;
}

const stat = (db: DB, name: string) => JSON.parse(db.prepare('select vec_stats()').pluck().get() as string)[name] as number;

describe('recall on real data at the default effort', () => {
  test('MiniLM sentence embeddings (cosine): recall@10 >= 0.95 through the graph', () => {
    const dir = path.join(path.dirname(require.resolve('@sap-ux/fiori-docs-embeddings/package.json')), 'data', 'embeddings');
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'metadata.json'), 'utf8'));
    const bin = fs.readFileSync(path.join(dir, 'embeddings.bin'));
    const dim: number = meta.dimensions;
    const base = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length));
    const n = base.length / dim;
    const db = openDb();
    db.exec(`create virtual table t using vec0(e float[${dim}] distance_metric=cosine indexed by hnsw(m=16, ef_construction=200))`);
    fill(db, 't', base, dim);
    // Queries: the mean of two documents' vectors (a query that is no stored row).
    const r = rng(3);
    const nq = 100;
    const queries = new Float32Array(nq * dim);
    for (let i = 0; i < nq; i++) {
      const a = Math.floor(r() * n);
      const b = Math.floor(r() * n);
      for (let d = 0; d < dim; d++) queries[i * dim + d] = (base[a * dim + d] + base[b * dim + d]) / 2;
    }
    const before = stat(db, 'hnsw_searches');
    expect(recall(db, 't', queries, dim, 10, '', 'and ef = 64')).toBeGreaterThanOrEqual(0.95);
    expect(stat(db, 'hnsw_searches') - before).toBe(nq); // every query went through the graph
  });

  const fm = '/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz';
  const fmTest = fs.existsSync(fm) ? test : test.skip;
  if (!fs.existsSync(fm)) console.warn('Fashion-MNIST absent (apt-get install dataset-fashion-mnist): its recall test is skipped');
  fmTest('Fashion-MNIST 20k x 784 (L2): recall@10 >= 0.95 at the default effort, the graph chosen on its own', () => {
    const buf = zlib.gunzipSync(fs.readFileSync(fm));
    const n = 20000;
    const dim = 784;
    const all = Float32Array.from(buf.subarray(16, 16 + (n + 200) * dim));
    const base = all.subarray(0, n * dim);
    const queries = all.subarray(n * dim); // 200 training images that are not in the table
    const db = openDb();
    db.exec(`create virtual table t using vec0(e float[${dim}] indexed by hnsw())`);
    fill(db, 't', base, dim);
    const before = stat(db, 'hnsw_searches');
    expect(recall(db, 't', queries, dim, 10)).toBeGreaterThanOrEqual(0.95);
    expect(stat(db, 'hnsw_searches') - before).toBe(200);
  }, 120000);
});

describe('results', () => {
  const dim = 24;
  const n = 20000;
  const data = randomRows(n, dim, 1);
  let db: DB;
  beforeAll(() => {
    db = openDb();
    db.exec(`create virtual table t using vec0(sel integer, part integer partition key, e float[${dim}] indexed by hnsw(m=12))`);
    // sel: i % 1000, so `sel < s` keeps s / 1000 of the rows; part: 4 partitions
    fill(db, 't', data, dim, (i) => [BigInt(i % 1000), BigInt(i % 4)], 'sel, part');
  });

  test('distances are the exact float32 distances, ascending; the query row itself comes first', () => {
    const q = db.prepare('select rowid, distance, vec_distance_l2(e, ?) as d from t where e match ? and k = 10 and ef = 64');
    for (const i of [0, 77, 1234, 19999]) {
      const v = blob(row(data, dim, i));
      const rows = q.all(v, v) as { rowid: number; distance: number; d: number }[];
      expect(rows).toHaveLength(10);
      expect(rows[0].rowid).toBe(i + 1);
      expect(rows[0].distance).toBe(0);
      for (let j = 0; j < rows.length; j++) {
        expect(rows[j].distance).toBeCloseTo(rows[j].d, 5);
        if (j > 0) expect(rows[j].distance).toBeGreaterThanOrEqual(rows[j - 1].distance);
      }
    }
  });

  test('k rows and recall >= 0.95 under metadata filters keeping 0.1%, 1%, 10% and 50% of the rows', () => {
    const queries = randomRows(40, dim, 9);
    for (const s of [1, 10, 100, 500]) {
      const where = `and sel < ${s}`;
      const q = db.prepare(`select count(*) from t where e match ? and k = 25 ${where}`).pluck();
      for (let i = 0; i < 40; i++) expect(q.get(blob(row(queries, dim, i)))).toBe(Math.min(25, (n * s) / 1000));
      expect(recall(db, 't', queries, dim, 25, where)).toBeGreaterThanOrEqual(0.95);
    }
  });

  test('partition keys, distance bounds and rowid IN hold exactly', () => {
    const queries = randomRows(20, dim, 10);
    expect(recall(db, 't', queries, dim, 10, 'and part = 2')).toBeGreaterThanOrEqual(0.95);
    const v = blob(row(queries, dim, 0));
    const exact = db.prepare('select rowid, distance from t where e match ? and k = 10 and ef = 0').all(v) as { distance: number }[];
    const bound = exact[4].distance;
    const under = db.prepare('select count(*) from t where e match ? and k = 10 and distance <= ?').pluck().get(v, bound);
    expect(under).toBe(5);
    const beyond = db.prepare('select distance from t where e match ? and k = 3 and distance > ?').pluck().all(v, bound) as number[];
    expect(beyond).toEqual(exact.slice(5, 8).map((r) => r.distance));
    const inList = db.prepare('select rowid from t where e match ? and k = 5 and rowid in (3, 5, 7)').pluck().all(v) as number[];
    expect(inList.sort()).toEqual([3, 5, 7]);
  });

  test('ef = 0 is the exact scan; a bad ef is an error naming it', () => {
    const v = blob(row(data, dim, 5));
    const before = stat(db, 'hnsw_searches');
    db.prepare('select rowid from t where e match ? and k = 3 and ef = 0').all(v);
    expect(stat(db, 'hnsw_searches')).toBe(before);
    expect(msg(() => db.prepare('select rowid from t where e match ? and k = 3 and ef = -1').all(v))).toMatch(/ef value/);
    expect(msg(() => db.prepare("select rowid from t where e match ? and k = 3 and ef = 'x'").all(v))).toMatch(/ef value/);
  });
});

describe('element types and metrics', () => {
  test.each([
    ['float[32] distance_metric=l1', 'f32'],
    ['float[32] distance_metric=cosine', 'f32'],
    ['int8[32]', 'i8'],
    ['bit[128]', 'u1'],
  ])('%s: graph recall@10 >= 0.9 against the exact scan', (decl, kind) => {
    const db = openDb();
    db.exec(`create virtual table t using vec0(e ${decl} indexed by hnsw(m=16))`);
    const r = rng(4);
    const n = 4000;
    const mk = (): Buffer => {
      if (kind === 'f32') return blob(new Float32Array(32).map(() => r() * 2 - 1));
      if (kind === 'i8') return Buffer.from(Int8Array.from({ length: 32 }, () => Math.floor(r() * 255) - 127).buffer);
      return Buffer.from(Uint8Array.from({ length: 16 }, () => Math.floor(r() * 256)));
    };
    const wrap = kind === 'i8' ? 'vec_int8(?)' : kind === 'u1' ? 'vec_bit(?)' : '?';
    const ins = db.prepare(`insert into t(rowid, e) values (?, ${wrap})`);
    db.transaction(() => {
      for (let i = 1; i <= n; i++) ins.run(BigInt(i), mk());
    })();
    const g = db.prepare(`select rowid, distance from t where e match ${wrap} and k = 10 and ef = 80`);
    const x = db.prepare(`select rowid, distance from t where e match ${wrap} and k = 10 and ef = 0`);
    let hit = 0;
    for (let i = 0; i < 50; i++) {
      const q = mk();
      const gr = g.all(q) as { rowid: number; distance: number }[];
      const xr = x.all(q) as { rowid: number; distance: number }[];
      // distances of graph results are exact: never below the exact k-th best for the same row
      const kth = xr[xr.length - 1].distance;
      const truth = new Set(xr.map((z) => z.rowid));
      for (const z of gr) if (truth.has(z.rowid) || z.distance === kth) hit++;
    }
    expect(hit / 500).toBeGreaterThanOrEqual(0.9);
  });
});

describe('transactions and connections', () => {
  const dim = 16;
  function setup(file: string) {
    const db = openDb(file);
    db.exec(`create virtual table t using vec0(e float[${dim}] indexed by hnsw())`);
    fill(db, 't', randomRows(3000, dim, 2), dim);
    return db;
  }
  const nearest = (db: DB, v: Float32Array) =>
    db.prepare('select rowid from t where e match ? and k = 1 and ef = 32').pluck().get(blob(v)) as number;

  test('rows written in a transaction are found in it; ROLLBACK and ROLLBACK TO restore the graph', () => {
    const db = setup(':memory:');
    const v = new Float32Array(dim).fill(5);
    db.exec('begin');
    db.prepare('insert into t(rowid, e) values (9001, ?)').run(blob(v));
    expect(nearest(db, v)).toBe(9001);
    db.exec('savepoint a');
    db.prepare('delete from t where rowid = 9001').run();
    expect(nearest(db, v)).not.toBe(9001);
    db.exec('rollback to a');
    expect(nearest(db, v)).toBe(9001);
    db.exec('rollback');
    expect(nearest(db, v)).not.toBe(9001);
    db.prepare('insert into t(rowid, e) values (9001, ?)').run(blob(v));
    expect(nearest(db, v)).toBe(9001);
    // an UPDATE moves the row in the graph
    const w = new Float32Array(dim).fill(-5);
    db.prepare('update t set e = ? where rowid = 9001').run(blob(w));
    expect(nearest(db, w)).toBe(9001);
    expect(nearest(db, v)).not.toBe(9001);
  });

  test('a commit right after ROLLBACK TO links the rows as they stand', () => {
    const file = path.join(tempDir(), 'rollback-to.sqlite');
    const db = setup(file);
    const v = new Float32Array(dim).fill(4);
    const w = new Float32Array(dim).fill(-4);
    db.exec('begin');
    db.prepare('insert into t(rowid, e) values (8001, ?)').run(blob(v));
    db.exec('savepoint s');
    db.prepare('update t set e = ? where rowid = 8001').run(blob(w));
    db.exec('rollback to s');
    db.exec('commit');
    db.close();
    const again = openDb(file);
    expect(nearest(again, v)).toBe(8001);
    expect(nearest(again, w)).not.toBe(8001);
  });

  test('another connection sees a commit through its own copy of the graph', () => {
    const file = path.join(tempDir(), 'two.sqlite');
    const a = setup(file);
    const b = openDb(file);
    const v = new Float32Array(dim).fill(3);
    expect(nearest(b, v)).not.toBe(7777);
    a.prepare('insert into t(rowid, e) values (7777, ?)').run(blob(v));
    expect(nearest(b, v)).toBe(7777);
    a.prepare('delete from t where rowid = 7777').run();
    expect(nearest(b, v)).not.toBe(7777);
    a.close();
    b.close();
  });

  test('the stored graph is loaded by a new connection, not rebuilt', () => {
    const file = path.join(tempDir(), 'reopen.sqlite');
    setup(file).close();
    const db = openDb(file);
    const loads = stat(db, 'hnsw_loads');
    const rebuilds = stat(db, 'hnsw_rebuilds');
    nearest(db, new Float32Array(dim).fill(0.5));
    expect(stat(db, 'hnsw_loads')).toBe(loads + 1);
    expect(stat(db, 'hnsw_rebuilds')).toBe(rebuilds);
  });

  test('kill -9 during writes leaves a database whose graph answers like the exact scan', () => {
    const dir = tempDir();
    const file = path.join(dir, 'kill.sqlite');
    setup(file).close();
    const child = `
      const D = require('better-sqlite3'); const { load } = require(${JSON.stringify(path.join(__dirname, '..'))});
      const db = new D(${JSON.stringify(file)}); load(db);
      const ins = db.prepare('insert into t(rowid, e) values (?, ?)');
      const del = db.prepare('delete from t where rowid = ?');
      let i = Math.max(10000, Number(db.prepare('select max(rowid) from t').pluck().get()) + 1); let s = i;
      for (;;) { const v = new Float32Array(${dim}); for (let d = 0; d < ${dim}; d++) { s = (s * 48271) % 2147483647; v[d] = s / 2147483647 - 0.5; }
        db.transaction(() => { ins.run(BigInt(i), Buffer.from(v.buffer)); del.run(BigInt(i - 5000)); })(); i++;
        }`;
    for (let round = 0; round < 3; round++) {
      const r = spawnSync(process.execPath, ['-e', child], { timeout: 1500 + 300 * round, killSignal: 'SIGKILL', encoding: 'utf8' });
      expect([r.signal, r.stderr]).toEqual(['SIGKILL', '']);
      const db = openDb(file);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const queries = randomRows(30, dim, 40 + round);
      expect(recall(db, 't', queries, dim, 10, '', 'and ef = 64')).toBeGreaterThanOrEqual(0.95);
      expect(stat(db, 'hnsw_rebuilds')).toBe(0);
      db.close();
    }
  }, 60000);
});

describe('damage and maintenance', () => {
  const dim = 16;
  // A table `docs` with a graph on a file, closed, damaged through a plain connection (its shadow
  // tables are ordinary tables there), reopened: the query's error and the reopened connection.
  function damagedGraph(name: string, seed: number, damage: (raw: InstanceType<typeof Database>) => void) {
    const file = path.join(tempDir(), `${name}.sqlite`);
    const db = openDb(file);
    db.exec(`create virtual table docs using vec0(e float[${dim}] indexed by hnsw())`);
    fill(db, 'docs', randomRows(2000, dim, seed), dim);
    db.close();
    const raw = new Database(file);
    damage(raw);
    raw.close();
    const again = openDb(file);
    const q = () => again.prepare('select rowid from docs where e match ? and k = 3 and ef = 16').all(blob(new Float32Array(dim).fill(0.1)));
    const m = msg(q);
    expect(m).toMatch(/docs/);
    expect(m).toMatch(/rebuild/);
    again.exec("insert into docs(docs) values ('rebuild')");
    expect(q()).toHaveLength(3);
    again.close();
    return { file, message: m };
  }

  test('a damaged index blob is an error naming the table and the rebuild command; rebuild repairs it', () => {
    const { file, message } = damagedGraph('damaged', 5, (raw) => raw.prepare('update docs_hnsw00 set data = zeroblob(length(data)) where rowid = 3').run());
    expect(message).toMatch(/damaged/);
    const fresh = openDb(file);
    expect(fresh.prepare('select rowid from docs where e match ? and k = 3 and ef = 16').all(blob(new Float32Array(dim).fill(0.1)))).toHaveLength(3);
  });

  test('a graph whose last blocks are missing is an error naming the table and the rebuild command', () => {
    const { message } = damagedGraph('missing', 9, (raw) => {
      const last = raw.prepare('select max(rowid) from docs_hnsw00').pluck().get() as number;
      raw.prepare('delete from docs_hnsw00 where rowid = ?').run(last);
    });
    expect(message).toMatch(/block \d+ is missing/);
  });

  test('a stored graph that does not match the rows is rebuilt, loudly, and answers correctly', () => {
    const file = path.join(tempDir(), 'mismatch.sqlite');
    const db = openDb(file);
    db.exec(`create virtual table t using vec0(e float[${dim}] indexed by hnsw())`);
    fill(db, 't', randomRows(2000, dim, 6), dim);
    db.close();
    const raw = new Database(file);
    raw.exec('delete from t_hnsw00'); // as if written by a tool that knows nothing of the graph
    raw.close();
    const again = openDb(file);
    const before = stat(again, 'hnsw_rebuilds');
    expect(recall(again, 't', randomRows(20, dim, 8), dim, 10, '', 'and ef = 64')).toBeGreaterThanOrEqual(0.95);
    expect(stat(again, 'hnsw_rebuilds')).toBe(before + 1);
  });

  test('replacing 30% of the rows one by one costs <= 0.01 recall at the same effort', () => {
    const n = 6000;
    const db = openDb();
    db.exec(`create virtual table t using vec0(e float[${dim}] indexed by hnsw(m=12, ef_construction=100))`);
    fill(db, 't', randomRows(n, dim, 11), dim);
    const queries = randomRows(100, dim, 12);
    const r0 = recall(db, 't', queries, dim, 10, '', 'and ef = 24');
    const fresh = randomRows(n, dim, 13);
    const del = db.prepare('delete from t where rowid = ?');
    const ins = db.prepare('insert into t(rowid, e) values (?, ?)');
    for (let i = 0; i < n * 0.3; i++) {
      del.run(BigInt(i * 3 + 1));
      ins.run(BigInt(100000 + i), blob(row(fresh, dim, i)));
    }
    const r1 = recall(db, 't', queries, dim, 10, '', 'and ef = 24');
    expect(r1).toBeGreaterThanOrEqual(r0 - 0.01);
  }, 60000);

  test('optimize reclaims the blocks of deleted nodes; commands and their errors', () => {
    const db = openDb();
    db.exec(`create virtual table t using vec0(e float[${dim}] indexed by hnsw())`);
    fill(db, 't', randomRows(4000, dim, 14), dim);
    db.prepare('delete from t where rowid > 1000').run();
    db.exec("insert into t(t) values ('optimize')");
    expect(db.prepare('select count(*) from t_hnsw00 where rowid >= 0').pluck().get()).toBe(Math.ceil(1000 / 16));
    expect(recall(db, 't', randomRows(20, dim, 15), dim, 10, '', 'and ef = 64')).toBeGreaterThanOrEqual(0.95);
    db.exec("insert into t(t) values ('ef_search=80')");
    expect(db.prepare("select value from t_info where key = 'vecsqlite_ef_search'").pluck().get()).toBe(80);
    expect(msg(() => db.exec("insert into t(t) values ('ef_search=0')"))).toMatch(/ef_search must be/);
    // a rolled-back default is not kept
    db.exec('begin');
    db.exec("insert into t(t) values ('ef_search=1')");
    db.exec('rollback');
    expect(db.prepare("select value from t_info where key = 'vecsqlite_ef_search'").pluck().get()).toBe(80);
    expect(msg(() => db.exec("insert into t(t) values ('frobnicate')"))).toBe("unknown vec0 command: 'frobnicate'");
    expect(msg(() => db.prepare('insert into t(rowid, e, ef) values (1, ?, 5)').run(blob(new Float32Array(dim))))).toMatch(/hidden "ef"/);
  });
});

describe('declarations', () => {
  test('sqlite-vec 0.1.10 index declarations open; unknown kinds and options are errors naming them', () => {
    const db = openDb();
    db.exec('create virtual table a using vec0(e float[8] indexed by rescore(quantizer=bit, oversample=16))');
    db.exec('create virtual table b using vec0(e float[8] indexed by ivf(nlist=64, nprobe=8))');
    db.exec('create virtual table c using vec0(e float[8] distance_metric=cosine indexed by diskann(neighbor_quantizer=binary, n_neighbors=48, search_list_size=64))');
    db.exec('create virtual table d using vec0(e float[8] indexed by flat())');
    expect(db.prepare("select count(*) from sqlite_master where name in ('b_hnsw00', 'c_hnsw00')").pluck().get()).toBe(2);
    expect(db.prepare("select count(*) from sqlite_master where name like 'a_hnsw%' or name like 'd_hnsw%'").pluck().get()).toBe(0);
    for (const t of ['a', 'b', 'c']) {
      db.prepare(`insert into ${t}(rowid, e) values (1, ?)`).run(blob(new Float32Array(8).fill(1)));
      expect(db.prepare(`select rowid from ${t} where e match ? and k = 1`).pluck().get(blob(new Float32Array(8).fill(1)))).toBe(1);
    }
    db.exec("insert into b(b) values ('compute-centroids')");
    db.exec("insert into b(b) values ('nprobe=20')");
    expect(msg(() => db.exec("insert into a(a) values ('rebuild')"))).toMatch(/no graph index/);
    expect(msg(() => db.exec('create virtual table x using vec0(e float[8] indexed by annoy())'))).toMatch(/unknown index 'annoy'/);
    expect(msg(() => db.exec('create virtual table x using vec0(e float[8] indexed by hnsw(m=1000))'))).toMatch(/bad value '1000' for option 'm'/);
    expect(msg(() => db.exec('create virtual table x using vec0(e float[8] indexed by hnsw(foo=1))'))).toMatch(/unknown option 'foo'/);
    expect(msg(() => db.exec('create virtual table x using vec0(e float[8] indexed by rescore(oversample=2))'))).toMatch(/requires a 'quantizer'/);
    expect(msg(() => db.exec('create virtual table x using vec0(e float[8] indexed by diskann())'))).toMatch(/neighbor_quantizer/);
    expect(msg(() => db.exec('create virtual table x using vec0(e bit[8] indexed by diskann(neighbor_quantizer=int8))'))).toMatch(/bit vector/);
  });

  test('a table without an index keeps the 0.1.9 columns and file format (the original reads it)', () => {
    const file = path.join(tempDir(), 'plain.sqlite');
    const db = openDb(file);
    db.exec('create virtual table t using vec0(e float[4])');
    db.prepare('insert into t(rowid, e) values (1, ?)').run(blob(new Float32Array([1, 2, 3, 4])));
    expect(msg(() => db.exec("insert into t(t) values ('rebuild')"))).toMatch(/no column named t/);
    db.close();
    const ref = openRef(file);
    expect(ref.prepare('select rowid, distance from t where e match ? and k = 1').get(blob(new Float32Array([1, 2, 3, 4])))).toEqual({ rowid: 1, distance: 0 });
  });
});
