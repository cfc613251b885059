/**
 * An HTTP search service on the async pool: KNN queries run on reader worker threads, writes
 * on the one writer thread, and the event loop only parses JSON and writes responses.
 *
 *   POST /search   {"vector": [..], "k": 3, "category": "ml"}  -> {"results": [{"id", "distance"}]}
 *   GET  /doc/:id                                               -> {"id", "category", "title"}
 *   POST /docs     {"id": 6, "vector": [..], "category", "title"} -> {"id"}
 *
 *   npm run build:ts && npm run build:examples
 *   node lib/examples/server.js                        # serves a 5-row demo table, queries it, exits
 *   node lib/examples/server.js --db app.sqlite --table articles --port 8080 --workers 2
 *
 * The table is a vec0 table with a vector column, a `category` metadata column and a `+title`
 * auxiliary column (see the vec0 example); without --db the demo creates one in a temporary file.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { load, openPool, Pool, PoolQueryError } from 'vecsqlite';

const MAX_BODY = 1 << 20;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) reject(new HttpError(413, 'body larger than 1 MiB'));
      else chunks.push(c);
    });
    req.on('end', () => {
      try {
        const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
        resolve(v as Record<string, unknown>);
      } catch {
        reject(new HttpError(400, 'body must be a JSON object'));
      }
    });
    req.on('error', reject);
  });
}

function vectorOf(body: Record<string, unknown>): Float32Array {
  const v = body.vector;
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new HttpError(400, 'vector must be a non-empty array of finite numbers');
  }
  return Float32Array.from(v as number[]);
}

/** The request handler: routes to the pool. `table` is a trusted name from the command line. */
export function searchHandler(pool: Pool, table: string): http.RequestListener {
  const quoted = `"${table.replace(/"/g, '""')}"`;
  return (req, res) => {
    const send = (status: number, body: unknown) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'POST' && url.pathname === '/search') {
        const body = await readJson(req);
        const k = body.k ?? 10;
        if (!Number.isInteger(k) || (k as number) < 1 || (k as number) > 1000) throw new HttpError(400, 'k must be an integer from 1 to 1000');
        const category = body.category;
        if (category !== undefined && typeof category !== 'string') throw new HttpError(400, 'category must be a string');
        const r = await pool.knn(table, vectorOf(body), {
          k: k as number,
          ...(category === undefined ? {} : { filter: 'category = ?', params: [category] }),
        });
        return send(200, { results: Array.from(r.rowids, (id, i) => ({ id, distance: r.distances[i] })) });
      }
      const doc = /^\/doc\/(\d+)$/.exec(url.pathname);
      if (req.method === 'GET' && doc !== null) {
        const row = await pool.get(`select rowid as id, category, title from ${quoted} where rowid = ?`, [Number(doc[1])]);
        return row === undefined ? send(404, { error: `no document ${doc[1]}` }) : send(200, row);
      }
      if (req.method === 'POST' && url.pathname === '/docs') {
        const body = await readJson(req);
        if (!Number.isInteger(body.id)) throw new HttpError(400, 'id must be an integer');
        await pool.run(`insert into ${quoted}(rowid, embedding, category, title) values (?, ?, ?, ?)`, [
          body.id, vectorOf(body), body.category ?? null, body.title ?? null,
        ]);
        return send(201, { id: body.id });
      }
      send(404, { error: 'not found' });
    })().catch((e: unknown) => {
      // SQLite's own message reaches the client for bad queries (e.g. a dimension mismatch).
      if (e instanceof HttpError) send(e.status, { error: e.message });
      else if (e instanceof PoolQueryError) send(400, { error: e.message });
      else send(500, { error: e instanceof Error ? e.message : String(e) });
    });
  };
}

function arg(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

/** A temporary file with the vec0 example's five articles. */
function demoDatabase(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vecsqlite-server-'));
  const file = path.join(dir, 'demo.sqlite');
  const db = new Database(file);
  load(db);
  db.pragma('journal_mode = wal');
  db.exec('create virtual table articles using vec0(embedding float[4], category text, +title text)');
  const ins = db.prepare('insert into articles(rowid, embedding, category, title) values (?, ?, ?, ?)');
  const rows: [number, number[], string, string][] = [
    [1, [1.0, 0.0, 0.0, 0.0], 'db', 'SQLite internals'],
    [2, [0.9, 0.1, 0.0, 0.0], 'ml', 'Vector search 101'],
    [3, [0.0, 0.0, 1.0, 0.0], 'food', 'Cooking pasta'],
    [4, [0.7, 0.3, 0.0, 0.0], 'ml', 'Embeddings explained'],
    [5, [0.8, 0.0, 0.2, 0.0], 'db', 'B-tree pages'],
  ];
  for (const [id, v, c, t] of rows) ins.run(id, Buffer.from(Float32Array.from(v).buffer), c, t);
  db.close();
  return file;
}

async function demo(server: http.Server): Promise<void> {
  const { port } = server.address() as { port: number };
  const call = async (method: string, p: string, body?: unknown) => {
    const r = await fetch(`http://127.0.0.1:${port}${p}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    return `${r.status} ${await r.text()}`;
  };
  const fmt = (s: string) => s.replace(/\d+\.\d{4,}/g, (x) => Number(x).toFixed(3));
  console.log('POST /search [1, 0, 0, 0], k 3');
  console.log(`  ${fmt(await call('POST', '/search', { vector: [1, 0, 0, 0], k: 3 }))}`);
  console.log("POST /search [1, 0, 0, 0], k 3, category 'ml'");
  console.log(`  ${fmt(await call('POST', '/search', { vector: [1, 0, 0, 0], k: 3, category: 'ml' }))}`);
  console.log('POST /docs 6 [1, 0, 0, 0.1]');
  console.log(`  ${await call('POST', '/docs', { id: 6, vector: [1, 0, 0, 0.1], category: 'db', title: 'WAL mode' })}`);
  console.log('POST /search [1, 0, 0, 0.1], k 2');
  console.log(`  ${fmt(await call('POST', '/search', { vector: [1, 0, 0, 0.1], k: 2 }))}`);
  console.log('GET /doc/6');
  console.log(`  ${await call('GET', '/doc/6')}`);
  console.log('POST /search [1, 0]');
  console.log(`  ${await call('POST', '/search', { vector: [1, 0] })}`);
}

async function main(): Promise<void> {
  const isDemo = arg('db') === undefined;
  const file = isDemo ? demoDatabase() : arg('db')!;
  const table = arg('table', 'articles')!;
  const pool = await openPool(file, { workers: Number(arg('workers', '2')) });
  const server = http.createServer(searchHandler(pool, table));
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(isDemo ? 0 : Number(arg('port', '8080')), '127.0.0.1', resolve));
  const shutdown = async () => {
    await new Promise((r) => server.close(r));
    await pool.close();
  };
  if (isDemo) {
    await demo(server);
    server.closeAllConnections();
    await shutdown();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    return;
  }
  console.log(`listening on http://127.0.0.1:${(server.address() as { port: number }).port} (${pool.workers} reader workers, table ${table})`);
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
