// Every program in examples/ runs as users run it: compiled by tsconfig.examples.json into
// lib/examples/, importing 'vecsqlite' through the package's own "exports", in a child process.
// Each must exit 0 with nothing on stderr, and print what its data implies: the distances and
// scores below are computed here from the vectors the examples insert.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { tempDir } from './helpers/db';

const root = path.join(__dirname, '..');
const srcDir = path.join(root, 'examples');
const outDir = path.join(root, 'lib', 'examples');
const examples = fs.readdirSync(srcDir).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();

beforeAll(() => {
  // `npm test` compiles them in pretest; compile again only when run on its own with stale output.
  const stale = examples.some((name) => {
    const js = path.join(outDir, `${name}.js`);
    return !fs.existsSync(js) || fs.statSync(js).mtimeMs < fs.statSync(path.join(srcDir, `${name}.ts`)).mtimeMs;
  });
  if (stale) execFileSync('npm', ['run', 'build:examples'], { cwd: root, stdio: 'pipe' });
});

function run(name: string, cwd: string): string[] {
  const r = spawnSync(process.execPath, [path.join(outDir, `${name}.js`)], { cwd, encoding: 'utf8', timeout: 50000 });
  expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status: 0, signal: null, stderr: '' });
  return r.stdout.split('\n');
}

/** The lines after `header` up to the next line that does not start with two spaces. */
function block(lines: string[], header: string | RegExp): string[] {
  const i = lines.findIndex((l) => (typeof header === 'string' ? l === header : header.test(l)));
  expect(i).toBeGreaterThanOrEqual(0);
  const out: string[] = [];
  for (let j = i + 1; j < lines.length && lines[j].startsWith('  '); j++) out.push(lines[j]);
  return out;
}

const fmt = (x: number) => x.toFixed(3);
const cosine = (a: number[], b: number[]) => {
  let d = 0, x = 0, y = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; x += a[i] * a[i]; y += b[i] * b[i]; }
  return d / Math.sqrt(x * y);
};

const checks: Record<string, (cwd: string) => void> = {
  demo: (cwd) => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    const lines = run('demo', cwd);
    expect(lines[0]).toMatch(new RegExp(`^vecsqlite ${pkg.version.replace(/\./g, '\\.')}, SIMD (scalar|avx2|avx512|neon), SQLite 3\\.\\d+\\.\\d+$`));
    expect(lines[1]).toBe('data: 778 x 384 Xenova/all-MiniLM-L6-v2 vectors from @sap-ux/fiori-docs-embeddings -> .demo/fiori.sqlite');
    expect(lines[2]).toMatch(/^loaded 778 documents into dataset 'fiori' in \d+\.\d ms$/);
    expect(fs.statSync(path.join(cwd, '.demo', 'fiori.sqlite')).size).toBeGreaterThan(778 * 384 * 4);
    const queries = lines.filter((l) => l.startsWith('nearest to "'));
    expect(queries).toHaveLength(4);
    for (const q of queries) {
      expect(q).toMatch(/^nearest to ".+"  \(\d+\.\d\d ms(, first query builds the index)?\)$/);
      const rows = block(lines, q).map((l) => /^  (\d\.\d{3})  (.*)$/.exec(l)!);
      expect(rows).toHaveLength(4);
      // A document's own embedding is its nearest neighbour, at cosine similarity 1.
      expect(rows[0][1]).toBe('1.000');
      expect(rows[0][2]).toBe(/^nearest to "(.+)"/.exec(q)![1]);
      const scores = rows.map((m) => Number(m[1]));
      expect([...scores].sort((a, b) => b - a)).toEqual(scores);
      expect(scores[3]).toBeGreaterThan(0);
    }
    expect(lines.filter((l) => l !== '').pop()).toMatch(/^steady MATCH \.\.\. LIMIT 4 over 778 x 384: median \d+\.\d{3} ms$/);
  },

  vec0: (cwd) => {
    const lines = run('vec0', cwd);
    // L2 distances from [1, 0, 0, 0] to the example's vectors.
    expect(block(lines, '3 nearest to [1, 0, 0, 0]:')).toEqual([
      `  rowid 1  distance ${fmt(0)}  [db] SQLite internals`,
      `  rowid 2  distance ${fmt(Math.hypot(0.1, 0.1))}  [ml] Vector search 101`,
      `  rowid 5  distance ${fmt(Math.hypot(0.2, 0.2))}  [db] B-tree pages`,
    ]);
    expect(block(lines, "2 nearest in category 'ml':")).toEqual([
      `  rowid 2  distance ${fmt(Math.hypot(0.1, 0.1))}  [ml] Vector search 101`,
      `  rowid 4  distance ${fmt(Math.hypot(0.3, 0.3))}  [ml] Embeddings explained`,
    ]);
  },

  server: (cwd) => {
    // An HTTP round trip through the pool: L2 distances from the queries to the demo vectors.
    const lines = run('server', cwd).filter((l) => l !== '');
    const hits = (xs: [number, number][]) => `200 ${JSON.stringify({ results: xs.map(([id, d]) => ({ id, distance: '#' })) })}`.split('"#"').reduce((acc, part, i) => acc + fmt(xs[i - 1][1]) + part);
    expect(lines.slice(0, 2)).toEqual(['POST /search [1, 0, 0, 0], k 3', `  ${hits([[1, 0], [2, Math.hypot(0.1, 0.1)], [5, Math.hypot(0.2, 0.2)]]).replace('"distance":0.000', '"distance":0')}`]);
    expect(lines[3]).toBe(`  ${hits([[2, Math.hypot(0.1, 0.1)], [4, Math.hypot(0.3, 0.3)]])}`);
    expect(lines[5]).toBe('  201 {"id":6}');
    expect(lines[7]).toBe(`  ${hits([[6, 0], [1, 0.1]]).replace('"distance":0.000', '"distance":0')}`);
    expect(lines[9]).toBe('  200 {"id":6,"category":"db","title":"WAL mode"}');
    expect(lines[11]).toBe('  400 {"error":"Dimension mismatch for query vector for the \\"embedding\\" column. Expected 4 dimensions but received 2."}');
  },

  vec: (cwd) => {
    const lines = run('vec', cwd);
    const q = [1, 0, 0];
    // 'billing' scores 0.0 and stays below match_score >= 0.5; team-b's rows are not in team-a.
    expect(block(lines, 'dataset team-a:')).toEqual([
      `  ${fmt(cosine(q, [0.9, 0.1, 0]))}  pw-reset  Reset your password`,
      `  ${fmt(cosine(q, [0.7, 0.7, 0]))}  sso  Single sign-on setup`,
    ]);
    expect(block(lines, 'dataset team-b:')).toEqual([`  ${fmt(1)}  pw-policy  Password policy`]);
  },

  vecsync: (cwd) => {
    const lines = run('vecsync', cwd);
    const q = [1, 0, 0];
    // 3 inserts, 1 update, 1 delete logged upstream; the deleted draft is gone from the replica.
    const first = block(lines, 'catch-up: applied 5 changes in 1 batch(es)');
    expect(first).toEqual([
      `  ${fmt(1)}  install  Installing the app (Linux, macOS)`,
      `  ${fmt(cosine(q, [0.8, 0.6, 0]))}  upgrade  Upgrading from v1`,
    ]);
    expect(block(lines, "catch-up: applied 1 changes; replica checkpoint for 'kb' at scn 6")).toEqual([
      ...first,
      `  ${fmt(cosine(q, [0.6, 0, 0.8]))}  uninstall  Removing the app`,
    ]);
  },
};

test('every example has a check here', () => {
  expect(examples).toEqual(Object.keys(checks).sort());
});

describe.each(examples)('examples/%s.ts', (name) => {
  test('runs from lib/examples and prints the expected results', () => {
    const check = checks[name];
    expect(check).toBeDefined();
    check(tempDir());
  });
});
