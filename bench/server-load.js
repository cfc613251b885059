// HTTP load test of examples/server.ts: autocannon against POST /search on a server with 1 and
// then 2 reader workers, reporting requests/s and latency percentiles.
//
//   npm run build:ts && npm run build:examples
//   node bench/pool.js --build-only          # builds the data set (100k x 768 'big', 30k x 768 'small_30000')
//   node bench/server-load.js [--table big|small_30000] [--seconds 10] [--connections 4] [--k 10]
//                             [--file /tmp/vecsqlite-pool-bench-100000x768.db] [--dim 768]
//
// Each server is its own process (started here, on a free port, then stopped).
'use strict';
const path = require('path');
const os = require('os');
const fs = require('fs');
const { spawn } = require('child_process');
const autocannon = require('autocannon');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const TABLE = opt('table', 'big');
const SECONDS = Number(opt('seconds', 10));
const CONNECTIONS = Number(opt('connections', 4));
const K = Number(opt('k', 10));
const DIM = Number(opt('dim', 768));
const FILE = opt('file', path.join(os.tmpdir(), 'vecsqlite-pool-bench-100000x768.db'));
const server = path.join(__dirname, '..', 'lib', 'examples', 'server.js');

function startServer(workers, port) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [server, '--db', FILE, '--table', TABLE, '--workers', String(workers), '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    p.stdout.once('data', (d) => (String(d).startsWith('listening') ? resolve(p) : reject(new Error(String(d)))));
    p.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

function bodies(count) {
  let a = 7;
  const r = () => {
    a = (a * 1103515245 + 12345) % 2147483648;
    return a / 2147483648;
  };
  return Array.from({ length: count }, () => ({
    method: 'POST',
    path: '/search',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ vector: Array.from({ length: DIM }, () => Number((r() * 2 - 1).toFixed(4))), k: K }),
  }));
}

async function main() {
  if (!fs.existsSync(FILE)) throw new Error(`${FILE} is missing: run node bench/pool.js --build-only first`);
  if (!fs.existsSync(server)) throw new Error(`${server} is missing: run npm run build:ts && npm run build:examples first`);
  const requests = bodies(32);
  console.log(`# server load: POST /search on '${TABLE}' (${DIM}-dim, k = ${K}), ${CONNECTIONS} connections, ${SECONDS} s, ${os.cpus().length} cores, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  console.log('| reader workers | requests/s | latency p50 ms | p90 ms | p99 ms | max ms | errors / non-2xx |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|');
  const rows = [];
  for (const workers of [1, 2]) {
    const port = 18000 + Math.floor(Math.random() * 2000);
    const proc = await startServer(workers, port);
    try {
      const url = `http://127.0.0.1:${port}`;
      // Warm the readers' caches, then measure.
      await autocannon({ url, connections: workers * 2, amount: workers * 8, requests });
      const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, requests });
      rows.push(r.requests.average);
      console.log(`| ${workers} | ${r.requests.average.toFixed(1)} | ${r.latency.p50} | ${r.latency.p90} | ${r.latency.p99} | ${r.latency.max} | ${r.errors} / ${r.non2xx} |`);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((res) => proc.once('exit', res));
    }
  }
  console.log(`\n2 workers / 1 worker: ${(rows[1] / rows[0]).toFixed(2)}x`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
