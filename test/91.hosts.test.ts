// The one extension file in every SQLite host: better-sqlite3, node-sqlite3 (npm `sqlite3`),
// libsql, the sqlite3 command line and Python's sqlite3 each load it (with no entry point where
// the host cannot name one) and answer a vec0 KNN and a vec MATCH; node:sqlite does the same
// when this Node has it. Then all the Node libraries at once in one process, interleaved.
// Expected answers are computed here from the vectors inserted.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { getLoadablePath } from '../src';

const ext = getLoadablePath();
const root = path.join(__dirname, '..');

const SETUP = [
  "create virtual table items using vec0(embedding float[2])",
  "insert into items(rowid, embedding) values (1, '[0, 0]'), (2, '[3, 4]'), (3, '[1, 1]')",
  'create virtual table vec_docs using vec(doc_id)',
  "insert into _vec_vec_docs(dataset_id, id, content, embedding) values ('A', 'a', 'first', vec_f32('[1, 0]')), ('A', 'b', 'second', vec_f32('[3, 4]')), ('A', 'c', 'third', vec_f32('[0, 1]')), ('B', 'd', 'fourth', vec_f32('[1, 0]'))",
];
const KNN = "select rowid || ':' || printf('%.4f', distance) as r from items where embedding match '[0, 0]' and k = 2";
const MATCH = "select doc_id || ':' || printf('%.4f', match_score) as r from vec_docs where dataset_id = 'A' and doc_id match '[1, 0]' order by match_score desc limit 2";
// L2 from [0, 0]: row 1 at 0, row 3 at |(1, 1)|. Cosine with [1, 0]: a = 1, b = 3/5.
const WANT = [`1:${(0).toFixed(4)}`, `3:${Math.hypot(1, 1).toFixed(4)}`, `a:${(1).toFixed(4)}`, `b:${(3 / 5).toFixed(4)}`];

function node(src: string): string[] {
  const r = spawnSync(process.execPath, ['-e', src], { cwd: root, encoding: 'utf8', timeout: 60000 });
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  return r.stdout.trim().split('\n');
}

const js = (x: unknown) => JSON.stringify(x);

test('better-sqlite3', () => {
  expect(node(`
    const D = require('better-sqlite3'); const db = new D(':memory:'); db.loadExtension(${js(ext)});
    for (const s of ${js(SETUP)}) db.exec(s);
    for (const q of [${js(KNN)}, ${js(MATCH)}]) for (const r of db.prepare(q).pluck().all()) console.log(r);
  `)).toEqual(WANT);
});

test('node-sqlite3 (npm sqlite3), no entry point', () => {
  expect(node(`
    const sqlite3 = require('sqlite3'); const db = new sqlite3.Database(':memory:');
    const p = (f, ...a) => new Promise((res, rej) => db[f](...a, (e, v) => (e ? rej(e) : res(v))));
    (async () => {
      await p('loadExtension', ${js(ext)});
      for (const s of ${js(SETUP)}) await p('exec', s);
      for (const q of [${js(KNN)}, ${js(MATCH)}]) for (const r of await p('all', q)) console.log(r.r);
      db.close();
    })().catch((e) => { console.error(e); process.exit(1); });
  `)).toEqual(WANT);
});

test('libsql, no entry point', () => {
  expect(node(`
    const D = require('libsql'); const db = new D(':memory:'); db.loadExtension(${js(ext)});
    for (const s of ${js(SETUP)}) db.exec(s);
    for (const q of [${js(KNN)}, ${js(MATCH)}]) for (const r of db.prepare(q).all()) console.log(r.r);
  `)).toEqual(WANT);
});

test('sqlite3 command line', () => {
  const r = spawnSync('sqlite3', [':memory:'], { input: [`.load ${ext}`, ...SETUP.map((s) => `${s};`), `${KNN};`, `${MATCH};`].join('\n'), encoding: 'utf8' });
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  expect(r.stdout.trim().split('\n')).toEqual(WANT);
});

test("Python's sqlite3 (system python3), no entry point", () => {
  const py = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const src = [
    'import json, sys, sqlite3',
    'con = sqlite3.connect(":memory:")',
    'con.enable_load_extension(True)',
    `con.load_extension(${js(ext)})`,
    `for s in json.loads(sys.argv[1]): con.execute(s)`,
    `for q in json.loads(sys.argv[2]):`,
    '    for (r,) in con.execute(q): print(r)',
  ].join('\n');
  const r = spawnSync(py, ['-c', src, js(SETUP), js([KNN, MATCH])], { encoding: 'utf8' });
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  expect(r.stdout.trim().split('\n')).toEqual(WANT);
});

// node:sqlite has DatabaseSync#loadExtension from Node 22.13 / 23.5.
const [major, minor] = process.versions.node.split('.').map(Number);
const hasNodeSqlite = major > 23 || (major === 23 && minor >= 5) || (major === 22 && minor >= 13);
if (!hasNodeSqlite) {
  // eslint-disable-next-line no-console
  console.warn(`\n*** SKIPPED: node:sqlite host test needs Node >= 22.13 (this is Node ${process.versions.node}) ***\n`);
}
(hasNodeSqlite ? test : test.skip)('node:sqlite (Node >= 22.13)', () => {
  expect(node(`
    const { DatabaseSync } = require('node:sqlite');
    const db = new DatabaseSync(':memory:', { allowExtension: true }); db.loadExtension(${js(ext)});
    for (const s of ${js(SETUP)}) db.exec(s);
    for (const q of [${js(KNN)}, ${js(MATCH)}]) for (const r of db.prepare(q).all()) console.log(r.r);
  `)).toEqual(WANT);
});

test('three SQLite libraries in one process: node-sqlite3, then libsql, then better-sqlite3, interleaved', () => {
  const out = node(`
    const sqlite3 = require('sqlite3'); const Libsql = require('libsql'); const Better = require('better-sqlite3');
    const n = new sqlite3.Database(':memory:');
    const p = (f, ...a) => new Promise((res, rej) => n[f](...a, (e, v) => (e ? rej(e) : res(v))));
    const run = async (label, exec, all) => {
      for (const s of ${js(SETUP)}) await exec(s);
      const rows = [];
      for (const q of [${js(KNN)}, ${js(MATCH)}]) rows.push(...(await all(q)));
      console.log(label + ' ' + rows.join(','));
    };
    (async () => {
      await p('loadExtension', ${js(ext)});
      const l = new Libsql(':memory:'); l.loadExtension(${js(ext)});
      const b = new Better(':memory:'); b.loadExtension(${js(ext)});
      const versions = [
        (await p('all', 'select sqlite_version() as v'))[0].v,
        l.prepare('select sqlite_version() as v').get().v,
        b.prepare('select sqlite_version()').pluck().get(),
      ];
      console.log('versions ' + new Set(versions).size);
      await run('node-sqlite3', (s) => p('exec', s), async (q) => (await p('all', q)).map((r) => r.r));
      await run('libsql', (s) => l.exec(s), (q) => l.prepare(q).all().map((r) => r.r));
      await run('better-sqlite3', (s) => b.exec(s), (q) => b.prepare(q).pluck().all());
      // Each again, after the others have used the extension; and a second connection of each.
      for (const q of [${js(KNN)}, ${js(MATCH)}]) {
        console.log('again ' + [(await p('all', q)).map((r) => r.r), l.prepare(q).all().map((r) => r.r), b.prepare(q).pluck().all()].map(String).join(' | '));
      }
      const l2 = new Libsql(':memory:'); l2.loadExtension(${js(ext)});
      console.log('second libsql ' + l2.prepare("select vec_distance_l2('[0, 0]', '[3, 4]') as d").get().d);
      n.close(); l.close(); l2.close(); b.close();
    })().catch((e) => { console.error(e.message); process.exit(1); });
  `);
  // Three different SQLite builds (so three routine tables) are really in play.
  expect(out[0]).toBe('versions 3');
  const want = WANT.join(',');
  expect(out.slice(1, 4)).toEqual([`node-sqlite3 ${want}`, `libsql ${want}`, `better-sqlite3 ${want}`]);
  const [k1, k2, m1, m2] = WANT;
  expect(out[4]).toBe(`again ${[k1, k2].join(',')} | ${[k1, k2].join(',')} | ${[k1, k2].join(',')}`);
  expect(out[5]).toBe(`again ${[m1, m2].join(',')} | ${[m1, m2].join(',')} | ${[m1, m2].join(',')}`);
  expect(out[6]).toBe('second libsql 5');
});

test('worker threads with better-sqlite3 next to node-sqlite3 on the main thread', () => {
  // Each thread's callbacks must use the routine table of the library that called them, even
  // while another library runs queries on another thread.
  const out = node(`
    const { Worker } = require('worker_threads');
    const sqlite3 = require('sqlite3');
    const n = new sqlite3.Database(':memory:');
    const p = (f, ...a) => new Promise((res, rej) => n[f](...a, (e, v) => (e ? rej(e) : res(v))));
    const worker = \`
      const { parentPort } = require('worker_threads');
      const D = require('better-sqlite3'); const db = new D(':memory:'); db.loadExtension(${js(ext)});
      for (const s of ${js(SETUP)}) db.exec(s);
      let ok = 0;
      for (let i = 0; i < 300; i++) ok += db.prepare(${js(KNN)}).pluck().all().join(',') === ${js(WANT.slice(0, 2).join(','))} ? 1 : 0;
      parentPort.postMessage(ok);
    \`;
    (async () => {
      await p('loadExtension', ${js(ext)});
      for (const s of ${js(SETUP)}) await p('exec', s);
      const ws = [0, 1].map(() => new Promise((res, rej) => { const w = new Worker(worker, { eval: true }); w.on('message', res); w.on('error', rej); }));
      let ok = 0;
      for (let i = 0; i < 300; i++) ok += (await p('all', ${js(MATCH)})).map((r) => r.r).join(',') === ${js(WANT.slice(2).join(','))} ? 1 : 0;
      console.log([ok, ...(await Promise.all(ws))].join(' '));
      n.close();
    })().catch((e) => { console.error(e.message); process.exit(1); });
  `);
  expect(out).toEqual(['300 300 300']);
});
