/**
 * `vecsqlite bench`: recall and speed of vec0 search on a vector file or a built-in real data set.
 * Held-out queries, exact ground truth from vecsqlite's SIMD topK (not the table under test),
 * then for each configuration recall@k, queries per second and latency percentiles, printed as a
 * table and drawn as recall–QPS and latency charts (SVG and PNG: Vega-Lite rendered by Vega, PNG
 * by resvg).
 *
 * Configurations: exact vec0 search; binary-quantised vec0 search rescored with float32
 * distances over 1–32 × k candidates (a recall–speed curve); the ANN index when the table
 * accepts `insert into t(t) values ('rebuild')`; and npm sqlite-vec 0.1.9 when installed.
 */
import Database from 'better-sqlite3';
import * as fs from 'fs';
import * as path from 'path';
import { Command, Option } from 'commander';
import { load, topK } from '../index';
import { bulkInsert } from '../bulk';
import { CliError, output, table } from './common';
import { loadFashionMnist, loadFiori } from './datasets';
import { InputError, readVectors } from './readers';
import { positiveInt } from './options';

interface BenchOptions { dataset?: string; queries: number; k: number; metric?: 'l2' | 'cosine'; out: string; json?: boolean; limit?: number; plots: boolean }

export interface BenchPoint { config: string; series: string; recall: number; qps: number; p50: number; p95: number; p99: number }

interface Data { name: string; base: Float32Array; queries: Float32Array; dims: number; metric: 'l2' | 'cosine' }

function loadData(file: string | undefined, o: BenchOptions): Data {
  if (file) {
    let vf;
    try {
      vf = readVectors(file);
    } catch (e) {
      throw new CliError((e as Error).message, e instanceof InputError ? 2 : 1);
    }
    const q = Math.min(o.queries, Math.floor(vf.rows / 10));
    if (q < 1) throw new CliError(`${file}: too few vectors to hold out queries (${vf.rows})`, 2);
    const nb = vf.rows - q;
    return { name: path.basename(file), base: vf.data.subarray(0, nb * vf.dims), queries: vf.data.subarray(nb * vf.dims), dims: vf.dims, metric: o.metric ?? 'l2' };
  }
  const ds = o.dataset ?? 'fiori';
  if (ds === 'fiori') {
    const f = loadFiori();
    // Every 8th document is a query, the others the base.
    const base: number[] = [], queries: number[] = [];
    f.docs.forEach((_, i) => (i % 8 === 3 && queries.length < o.queries ? queries : base).push(i));
    const pick = (ix: number[]) => {
      const out = new Float32Array(ix.length * f.dims);
      ix.forEach((r, j) => out.set(f.vectors.subarray(r * f.dims, (r + 1) * f.dims), j * f.dims));
      return out;
    };
    return { name: `fiori (${f.model})`, base: pick(base), queries: pick(queries), dims: f.dims, metric: o.metric ?? 'cosine' };
  }
  if (ds === 'fashion-mnist') {
    const m = loadFashionMnist();
    const nb = Math.min(m.base.length / m.dims, o.limit ?? Infinity);
    return { name: 'fashion-mnist', base: m.base.subarray(0, nb * m.dims), queries: m.queries.subarray(0, o.queries * m.dims), dims: m.dims, metric: o.metric ?? 'l2' };
  }
  throw new CliError(`unknown data set '${ds}' (built in: fiori, fashion-mnist)`, 2);
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

function measure(config: string, series: string, nq: number, truth: Uint32Array[], k: number, run: (i: number) => number[]): BenchPoint {
  for (let i = 0; i < Math.min(5, nq); i++) run(i);
  const lat: number[] = [];
  let hits = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < nq; i++) {
    const t = process.hrtime.bigint();
    const got = run(i);
    lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    const want = new Set(Array.from(truth[i]));
    hits += got.filter((x) => want.has(x)).length;
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { config, series, recall: +(hits / (nq * k)).toFixed(4), qps: +(nq / secs).toFixed(1), p50: +percentile(lat, 0.5).toFixed(3), p95: +percentile(lat, 0.95).toFixed(3), p99: +percentile(lat, 0.99).toFixed(3) };
}

export function runBench(file: string | undefined, o: BenchOptions): { data: string; rows: number; dims: number; queries: number; k: number; metric: string; points: BenchPoint[] } {
  const d = loadData(file, o);
  const n = d.base.length / d.dims, nq = d.queries.length / d.dims, k = Math.min(o.k, n);
  const q = (i: number) => d.queries.subarray(i * d.dims, (i + 1) * d.dims);
  const qb = (i: number) => Buffer.from(q(i).buffer, q(i).byteOffset, d.dims * 4);
  // Ground truth: rowid = index + 1.
  const truth = Array.from({ length: nq }, (_, i) => topK(q(i), d.base, k, d.metric).indices.map((x) => x + 1));
  const points: BenchPoint[] = [];
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  const metricOpt = d.metric === 'cosine' ? ' distance_metric=cosine' : '';

  const db = new Database(':memory:');
  load(db);
  db.exec(`create virtual table v using vec0(embedding float[${d.dims}]${metricOpt})`);
  bulkInsert(db, 'v', ids, d.base);
  const exact = db.prepare('select rowid from v where embedding match ? and k = ?').pluck();
  points.push(measure('vec0 exact', 'vecsqlite vec0', nq, truth, k, (i) => exact.all(qb(i), k) as number[]));

  // Binary quantisation of the centred vectors, rescored with float32 distances.
  if (d.dims % 8 === 0) {
    const mean = new Float32Array(d.dims);
    for (let r = 0; r < n; r++) for (let j = 0; j < d.dims; j++) mean[j] += d.base[r * d.dims + j] / n;
    const centred = (v: Float32Array) => Buffer.from(Float32Array.from(v, (x, j) => x - mean[j]).buffer);
    db.exec(`create virtual table vb using vec0(b bit[${d.dims}]); create table raw(id integer primary key, v blob)`);
    const insB = db.prepare('insert into vb(rowid, b) values (?, vec_quantize_binary(?))');
    const insR = db.prepare('insert into raw(id, v) values (?, ?)');
    db.transaction(() => {
      for (let r = 0; r < n; r++) {
        const v = d.base.subarray(r * d.dims, (r + 1) * d.dims);
        insB.run(BigInt(r + 1), centred(v));
        insR.run(r + 1, Buffer.from(v.buffer, v.byteOffset, d.dims * 4));
      }
    })();
    const dist = d.metric === 'cosine' ? 'vec_distance_cosine' : 'vec_distance_l2';
    const rescored = db.prepare(`select id from raw where id in (select rowid from vb where b match vec_quantize_binary(?) and k = ?) order by ${dist}(v, ?), id limit ?`).pluck();
    for (const f of [1, 2, 4, 8, 16, 32]) {
      const cand = Math.min(n, k * f, 4096);
      points.push(measure(`bit + rescore ${f}x`, 'vecsqlite bit + rescore', nq, truth, k, (i) => rescored.all(centred(q(i)), cand, qb(i), k) as number[]));
      if (cand === n || cand === 4096) break;
    }
  }

  // The ANN index, when the table has one.
  let ann = true;
  try {
    db.prepare("insert into v(v) values ('rebuild')").run();
  } catch {
    ann = false;
  }
  if (ann) points.push(measure('vec0 ANN index', 'vecsqlite vec0 ANN', nq, truth, k, (i) => exact.all(qb(i), k) as number[]));
  db.close();

  // The original C extension, when installed (a devDependency in the vecsqlite repository).
  let sqliteVec: { load(db: unknown): void } | null = null;
  try {
    sqliteVec = require(require.resolve('sqlite-vec', { paths: [process.cwd(), __dirname] })) as { load(db: unknown): void };
  } catch {
    sqliteVec = null;
  }
  if (sqliteVec) {
    const ref = new Database(':memory:');
    sqliteVec.load(ref);
    ref.exec(`create virtual table v using vec0(embedding float[${d.dims}]${metricOpt})`);
    const ins = ref.prepare('insert into v(rowid, embedding) values (?, ?)');
    ref.transaction(() => {
      for (let r = 0; r < n; r++) ins.run(BigInt(r + 1), Buffer.from(d.base.buffer, d.base.byteOffset + r * d.dims * 4, d.dims * 4));
    })();
    const st = ref.prepare('select rowid from v where embedding match ? and k = ?').pluck();
    points.push(measure('sqlite-vec 0.1.9 exact', 'sqlite-vec 0.1.9', nq, truth, k, (i) => st.all(qb(i), k) as number[]));
    ref.close();
  }
  return { data: d.name, rows: n, dims: d.dims, queries: nq, k, metric: d.metric, points };
}

// Dynamic import that TypeScript's CommonJS output leaves alone (vega and vega-lite are ESM).
const importEsm = new Function('m', 'return import(m)') as (m: string) => Promise<Record<string, unknown>>;

export async function renderCharts(r: ReturnType<typeof runBench>, outDir: string): Promise<string[]> {
  let vega: any, vegaLite: any, Resvg: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    vega = await importEsm('vega');
    vegaLite = await importEsm('vega-lite');
    Resvg = ((await importEsm('@resvg/resvg-js')) as { Resvg: unknown }).Resvg ?? ((await importEsm('@resvg/resvg-js')) as { default: { Resvg: unknown } }).default.Resvg;
  } catch {
    throw new CliError('charts need the packages vega, vega-lite and @resvg/resvg-js (optional dependencies of vecsqlite): npm install vega vega-lite @resvg/resvg-js, or pass --no-plots');
  }
  const FONT = 'DejaVu Sans';
  const subtitle = `${r.data}: ${r.rows} x ${r.dims}, ${r.queries} held-out queries, k = ${r.k}, ${r.metric}`;
  const common = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', background: 'white', width: 520, height: 300, config: { font: FONT, legend: { orient: 'bottom', labelLimit: 400 } } };
  const specs: Record<string, unknown> = {
    'recall-qps': {
      ...common,
      title: { text: 'Recall vs queries per second', subtitle },
      data: { values: r.points },
      encoding: {
        x: { field: 'recall', type: 'quantitative', title: `recall@${r.k}`, scale: { zero: false } },
        y: { field: 'qps', type: 'quantitative', title: 'queries per second (log)', scale: { type: 'log' } },
        color: { field: 'series', type: 'nominal', title: null },
      },
      layer: [
        { mark: { type: 'line', point: true }, encoding: { order: { field: 'recall' } } },
        { mark: { type: 'text', dx: 6, dy: -8, fontSize: 9, align: 'left' }, encoding: { text: { field: 'config' } } },
      ],
    },
    latency: {
      ...common,
      title: { text: 'Query latency (ms)', subtitle },
      data: { values: r.points.flatMap((p) => [{ config: p.config, pct: 'p50', ms: p.p50 }, { config: p.config, pct: 'p95', ms: p.p95 }, { config: p.config, pct: 'p99', ms: p.p99 }]) },
      encoding: {
        y: { field: 'config', type: 'nominal', sort: null, title: null },
        yOffset: { field: 'pct' },
        x: { field: 'ms', type: 'quantitative', title: 'milliseconds' },
        color: { field: 'pct', type: 'nominal', title: null },
      },
      mark: 'bar',
    },
  };
  fs.mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    const compiled = vegaLite.compile(spec).spec;
    const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
    const svg = await view.toSVG();
    view.finalize();
    const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: FONT } }).render().asPng();
    for (const [ext, body] of [['svg', svg], ['png', png]] as const) {
      const f = path.join(outDir, `bench-${name}.${ext}`);
      fs.writeFileSync(f, body);
      files.push(f);
    }
  }
  return files;
}

export function benchCommand(): Command {
  return new Command('bench')
    .description('recall, QPS and latency of vec0 search on a vector file or a built-in data set, with charts')
    .argument('[file]', 'vector file (.npy, .fvecs, .bvecs, .jsonl, .csv); the last --queries rows are the queries')
    .addOption(new Option('--dataset <name>', 'built-in data set when no file is given').choices(['fiori', 'fashion-mnist']))
    .option('--queries <n>', 'held-out queries', positiveInt, 100)
    .option('-k, --k <n>', 'neighbours per query', positiveInt, 10)
    .option('--limit <n>', 'use at most this many base vectors', positiveInt)
    .addOption(new Option('--metric <metric>', 'distance (default: cosine for fiori, l2 otherwise)').choices(['l2', 'cosine']))
    .option('--out <dir>', 'directory for bench-recall-qps.{svg,png}, bench-latency.{svg,png}, bench.json', '.')
    .option('--no-plots', 'no charts')
    .option('--json', 'print the result as JSON')
    .action(async (file: string | undefined, o: BenchOptions) => {
      const r = runBench(file, o);
      const files = o.plots ? await renderCharts(r, o.out) : [];
      fs.mkdirSync(o.out, { recursive: true });
      fs.writeFileSync(path.join(o.out, 'bench.json'), JSON.stringify(r, null, 2) + '\n');
      output(!!o.json, { ...r, files }, () => [
        `${r.data}: ${r.rows} x ${r.dims}, ${r.queries} held-out queries, k = ${r.k}, ${r.metric}`,
        table(r.points.map((p) => [p.config, p.recall, p.qps, p.p50, p.p95, p.p99]), ['config', 'recall', 'qps', 'p50 ms', 'p95 ms', 'p99 ms']),
        ...(files.length ? [`charts: ${files.join(', ')}`] : []),
      ].join('\n'));
    });
}
