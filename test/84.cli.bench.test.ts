// `vecsqlite bench` on a file and on the built-in MiniLM set (recall against brute force, charts
// written as SVG and PNG), and `vecsqlite demo` run from a directory outside the repository.
import * as fs from 'fs';
import * as path from 'path';
import { randomF32, rng, tempDir } from './helpers/db';
import { cli, cliJson } from './helpers/cli';

const dir = tempDir();

interface Point { config: string; recall: number; qps: number; p50: number; p95: number; p99: number }
interface Bench { rows: number; dims: number; queries: number; k: number; points: Point[]; files: string[] }

describe('vecsqlite bench', () => {
  test('a .fvecs file: exact vec0 has recall 1, the quantised curve rises with the rescoring factor, charts are written', () => {
    const n = 600, d = 16;
    const r = rng(8);
    const parts: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const h = Buffer.alloc(4);
      h.writeInt32LE(d);
      parts.push(h, Buffer.from(randomF32(r, d).buffer));
    }
    fs.writeFileSync(path.join(dir, 'b.fvecs'), Buffer.concat(parts));
    const out = path.join(dir, 'out');
    const b = cliJson<Bench>(['bench', path.join(dir, 'b.fvecs'), '--queries', '40', '--out', out]);
    expect([b.rows, b.dims, b.queries, b.k]).toEqual([560, 16, 40, 10]);
    const exact = b.points.find((p) => p.config === 'vec0 exact')!;
    expect(exact.recall).toBe(1);
    const bits = b.points.filter((p) => p.config.startsWith('bit + rescore'));
    expect(bits.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < bits.length; i++) expect(bits[i].recall).toBeGreaterThanOrEqual(bits[i - 1].recall);
    expect(bits[0].recall).toBeLessThan(1);
    for (const p of b.points) expect(p.qps > 0 && p.p50 <= p.p95 && p.p95 <= p.p99).toBe(true);
    for (const f of ['bench-recall-qps.svg', 'bench-recall-qps.png', 'bench-latency.svg', 'bench-latency.png', 'bench.json']) {
      expect(fs.statSync(path.join(out, f)).size).toBeGreaterThan(1000);
    }
    expect(fs.readFileSync(path.join(out, 'bench-recall-qps.svg'), 'utf8')).toMatch(/^<svg[\s\S]*recall@10[\s\S]*<\/svg>$/);
    expect(fs.readFileSync(path.join(out, 'bench-latency.png')).subarray(1, 4).toString()).toBe('PNG');
  });
  test('the built-in MiniLM documents, text output with a table', () => {
    const r = cli(['bench', '--dataset', 'fiori', '--queries', '20', '--no-plots', '--out', path.join(dir, 'o2')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^fiori \(Xenova\/all-MiniLM-L6-v2\): 758 x 384, 20 held-out queries, k = 10, cosine\nconfig +recall +qps/);
    expect(r.stdout).toMatch(/^vec0 exact +1 /m);
  });
  test('bad input is a one-line error', () => {
    fs.writeFileSync(path.join(dir, 'tiny.jsonl'), '[1, 2]\n');
    const r = cli(['bench', path.join(dir, 'tiny.jsonl')]);
    expect([r.code, r.stderr.trim()]).toEqual([2, `vecsqlite: ${path.join(dir, 'tiny.jsonl')}: too few vectors to hold out queries (1)`]);
  });
});

describe('vecsqlite demo', () => {
  test('runs from an unrelated directory and finds the documents it searches for', () => {
    const cwd = tempDir('vecsqlite-demo-');
    const r = cliJson<{ documents: number; dims: number; neighbours: { similarity: number; title: string }[]; hybrid: { textRank: number | null; vecRank: number | null; title: string }[] }>(['demo', '--db', 'd.sqlite'], cwd);
    expect([r.documents, r.dims]).toEqual([778, 384]);
    // The probe document is its own nearest neighbour (cosine similarity 1).
    expect(r.neighbours[0].similarity).toBe(1);
    expect(r.neighbours[0].title).toBe('Deploying an SAP Fiori Application (ABAP and Cloud Foundry)');
    expect(r.hybrid).toHaveLength(4);
    expect(r.hybrid[0].textRank !== null || r.hybrid[0].vecRank !== null).toBe(true);
    expect(fs.existsSync(path.join(cwd, 'd.sqlite'))).toBe(true);
  });
});
