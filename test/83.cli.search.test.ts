// `vecsqlite search` (vector, embed command, hybrid, keyword only) against brute force and
// hand-computed reciprocal rank fusion; `vecsqlite index stats|build|rebuild`.
import * as fs from 'fs';
import * as path from 'path';
import { openDb, randomF32, rng, tempDir } from './helpers/db';
import { cli, cliJson } from './helpers/cli';

const dir = tempDir();
const file = path.join(dir, 's.sqlite');
const n = 200, d = 6;
const vecs = Array.from({ length: n }, ((r) => () => randomF32(r, d))(rng(11)));
const words = ['alpha', 'beta', 'gamma', 'delta'];
const textOf = (i: number) => `${words[i % 4]} item${i} ${i % 10 === 0 ? 'special' : ''}`;

beforeAll(() => {
  const db = openDb(file);
  db.exec(`create virtual table v using vec0(cat integer partition key, embedding float[${d}]); create virtual table v_fts using fts5(content);`);
  const ins = db.prepare('insert into v(rowid, cat, embedding) values (?, ?, ?)');
  const fts = db.prepare('insert into v_fts(rowid, content) values (?, ?)');
  vecs.forEach((v, i) => {
    ins.run(BigInt(i + 1), BigInt(i % 2), Buffer.from(v.buffer));
    fts.run(i + 1, textOf(i));
  });
  db.close();
});

const l2 = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, x, j) => s + (x - b[j]) ** 2, 0));
const brute = (q: Float32Array, k: number, keep = (_i: number) => true) =>
  vecs.map((v, i) => ({ rowid: i + 1, dist: l2(v, q) })).filter((x) => keep(x.rowid - 1)).sort((a, b) => a.dist - b.dist || a.rowid - b.rowid).slice(0, k);

describe('vecsqlite search', () => {
  const q = randomF32(rng(99), d);
  const qs = JSON.stringify(Array.from(q));
  test('--vector: the brute-force k nearest, with distances', () => {
    const rows = cliJson<{ rowid: number; distance: number }[]>(['search', '--db', file, '--table', 'v', '--vector', qs, '-k', '7']);
    const want = brute(q, 7);
    expect(rows.map((r) => r.rowid)).toEqual(want.map((w) => w.rowid));
    rows.forEach((r, i) => expect(r.distance).toBeCloseTo(want[i].dist, 4));
  });
  test('--filter on a partition key', () => {
    const rows = cliJson<{ rowid: number }[]>(['search', '--db', file, '--table', 'v', '--vector', qs, '-k', '5', '--filter', 'cat=1']);
    expect(rows.map((r) => r.rowid)).toEqual(brute(q, 5, (i) => i % 2 === 1).map((w) => w.rowid));
  });
  test('--text with --embed-cmd embeds through the command', () => {
    const script = path.join(dir, 'embed.js');
    fs.writeFileSync(script, `let s='';process.stdin.on('data',c=>s+=c).on('end',()=>{if(s!=='hello')process.exit(3);console.log(${JSON.stringify(qs)})})`);
    const rows = cliJson<{ rowid: number }[]>(['search', '--db', file, '--table', 'v', '--text', 'hello', '--embed-cmd', `"${process.execPath}" ${script}`, '-k', '3']);
    expect(rows.map((r) => r.rowid)).toEqual(brute(q, 3).map((w) => w.rowid));
    const bad = cli(['search', '--db', file, '--table', 'v', '--text', 'other', '--embed-cmd', `"${process.execPath}" ${script}`]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^vecsqlite: --embed-cmd failed \(exit 3\)/);
  });
  test('--text with --fts and --vector: reciprocal rank fusion computed by hand', () => {
    const k = 5;
    const rows = cliJson<{ rowid: number; score: number; textRank: number | null; vecRank: number | null }[]>(['search', '--db', file, '--table', 'v', '--fts', 'v_fts', '--text', 'special', '--vector', qs, '-k', String(k)]);
    // Keyword side: the 20 rows with "special", in bm25 order (all equal length up to item number; get it from FTS5 itself).
    const db = openDb(file);
    const textRanked = db.prepare("select rowid from v_fts where v_fts match 'special' order by rank").pluck().all() as number[];
    db.close();
    const vecRanked = brute(q, 50).map((w) => w.rowid);
    const score = new Map<number, number>();
    textRanked.forEach((id, i) => score.set(id, (score.get(id) ?? 0) + 1 / (60 + i + 1)));
    vecRanked.forEach((id, i) => score.set(id, (score.get(id) ?? 0) + 1 / (60 + i + 1)));
    const want = [...score.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k);
    expect(rows.map((r) => r.rowid)).toEqual(want.map((w) => w[0]));
    rows.forEach((r, i) => expect(r.score).toBeCloseTo(want[i][1], 12));
  });
  test('--text with --fts alone is a keyword search; errors are one line', () => {
    const rows = cliJson<{ rowid: number; vecRank: number | null }[]>(['search', '--db', file, '--table', 'v', '--fts', 'v_fts', '--text', 'item42']);
    expect(rows.map((r) => [r.rowid, r.vecRank])).toEqual([[43, null]]);
    const cases: [string[], number, RegExp][] = [
      [['--vector', '[1, 2]'], 2, /the query vector has 2 dimensions, v\.embedding is float\[6\]/],
      [['--vector', 'nope'], 2, /--vector: expected a JSON array of numbers/],
      [['--text', 'x'], 2, /--text needs --embed-cmd/],
      [[], 2, /pass --vector/],
    ];
    for (const [args, code, re] of cases) {
      const r = cli(['search', '--db', file, '--table', 'v', ...args]);
      expect([r.code, r.stderr.trim().split('\n').length]).toEqual([code, 1]);
      expect(r.stderr).toMatch(re);
    }
    expect(cli(['search', '--db', path.join(dir, 'none.sqlite'), '--table', 'v', '--vector', '[1]']).stderr).toMatch(/none\.sqlite: no such database file/);
  });
});

describe('vecsqlite index', () => {
  test('stats: rows, dims and bytes of the table\'s own storage', () => {
    const s = cliJson<{ rows: number; dims: number; bytes: number; vectorBytes: number; shadowTables: Record<string, number>; vecStats: Record<string, number> }>(['index', 'stats', '--db', file, '--table', 'v']);
    expect([s.rows, s.dims, s.vectorBytes]).toEqual([n, d, n * d * 4]);
    expect(Object.keys(s.shadowTables).every((t) => t.startsWith('v_'))).toBe(true);
    expect(s.bytes).toBe(Object.values(s.shadowTables).reduce((a, b) => a + b, 0));
    expect(s.bytes).toBeGreaterThanOrEqual(n * d * 4);
    expect(typeof s.vecStats.vec0_loads).toBe('number');
  });
  test('build / rebuild run the table\'s rebuild command, or say clearly that it has none', () => {
    const db = openDb();
    db.exec(`create virtual table probe using vec0(embedding float[2])`);
    let supported = true;
    try {
      db.prepare("insert into probe(probe) values ('rebuild')").run();
    } catch {
      supported = false;
    }
    db.close();
    for (const op of ['build', 'rebuild']) {
      const r = cli(['index', op, '--db', file, '--table', 'v']);
      if (supported) {
        expect(r.code).toBe(0);
      } else {
        expect(r.code).toBe(1);
        expect(r.stderr.trim()).toMatch(new RegExp(`^vecsqlite: ${op}: v does not support building an ANN index \\(.*\\); exact search needs no index$`));
      }
    }
    expect(cli(['index', 'stats', '--db', file, '--table', 'v_fts']).stderr).toMatch(/v_fts is not a vec0 table/);
  });
});
