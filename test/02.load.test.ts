// Loading the extension: per connection, twice, without an entry point, the drop-in alias, in
// worker threads, under DEFENSIVE, and from hosts other than Node (sqlite3 CLI, Python).
import Database from 'better-sqlite3';
import { execFileSync, spawnSync } from 'child_process';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { getLoadablePath, load, VecsqliteError } from '../src';
import { f32blob, openDb, tempDir } from './helpers/db';

const root = path.join(__dirname, '..');
const L2_34 = `select vec_l2(X'${f32blob([0, 0]).toString('hex')}', X'${f32blob([3, 4]).toString('hex')}')`;

function hasCommand(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

/** In CI a missing host is a failure; elsewhere the test says loudly that it did not run. */
function requireHost(name: string, present: boolean): boolean {
  if (present) return true;
  if (process.env.CI) throw new Error(`${name} is required in CI but is not installed`);
  console.warn(`*** SKIPPED: ${name} is not installed on this machine; this check did not run ***`);
  return false;
}

describe('load()', () => {
  test('each connection needs its own load; both then work', () => {
    const a = new Database(':memory:');
    const b = new Database(':memory:');
    load(a);
    expect(a.prepare(L2_34).pluck().get()).toBe(5);
    expect(() => b.prepare(L2_34)).toThrow(/no such function: vec_l2/);
    load(b);
    expect(b.prepare(L2_34).pluck().get()).toBe(5);
  });

  test('loading twice into one connection is harmless', () => {
    const db = openDb();
    load(db);
    expect(db.prepare(L2_34).pluck().get()).toBe(5);
  });

  test('loadExtension(path) with no entry point derives sqlite3_vecsqlite_init', () => {
    expect(path.basename(getLoadablePath())).toBe('vecsqlite.node');
    const db = new Database(':memory:');
    db.loadExtension(getLoadablePath());
    expect(db.prepare(L2_34).pluck().get()).toBe(5);
  });

  test('sqlite3_vec_init installs only the drop-in vec0 surface', () => {
    const db = new Database(':memory:');
    load(db, { entryPoint: 'sqlite3_vec_init' });
    expect(() => db.prepare('select vecsqlite_isa()')).toThrow(/no such function: vecsqlite_isa/);
    expect(() => db.prepare(L2_34)).toThrow(/no such function: vec_l2/);
  });

  test('works with better-sqlite3 DEFENSIVE mode on (its default)', () => {
    const db = openDb();
    // DEFENSIVE is on: writable_schema cannot be used to corrupt sqlite_schema.
    db.pragma('writable_schema = ON');
    expect(() => db.exec("insert into sqlite_schema values('table','x','x',0,'create table x(a)')")).toThrow(/may not be modified/);
    expect(db.prepare(L2_34).pluck().get()).toBe(5);
  });

  test('rejects bad arguments with clear errors', () => {
    expect(() => load({} as never)).toThrow('load: expected a better-sqlite3 Database (an object with loadExtension), received an object (Object)');
    const db = new Database(':memory:');
    expect(() => load(db, { entrypoint: 'x' } as never)).toThrow('load: misspelled option "entrypoint" should be "entryPoint"');
    expect(() => load(db, { foo: 1 } as never)).toThrow(VecsqliteError);
    expect(() => load(db, { entryPoint: 'nope' as never })).toThrow('load: expected entryPoint to be one of sqlite3_vecsqlite_init, sqlite3_vec_init, received nope of type string');
  });

  test('worker threads each load into their own connections', async () => {
    const code = `
      const { parentPort, workerData } = require('worker_threads');
      const Database = require('better-sqlite3');
      const vs = require(workerData.root);
      const db = new Database(':memory:');
      vs.load(db);
      db.exec('create table t(v blob)');
      const ins = db.prepare('insert into t values (?)');
      for (let i = 0; i < 1000; i++) ins.run(vs.encodeEmbedding([i, 0]));
      const sum = db.prepare("select sum(vec_l2(v, ?)) from t").pluck().get(vs.encodeEmbedding([0, 0]));
      parentPort.postMessage({ sum, isa: vs.isa() });`;
    const runs = await Promise.all([0, 1, 2].map(() => new Promise<{ sum: number; isa: string }>((resolve, reject) => {
      const w = new Worker(code, { eval: true, workerData: { root } });
      w.once('message', resolve);
      w.once('error', reject);
    })));
    for (const r of runs) {
      expect(r.sum).toBe(499500);
    }
    const db = openDb();
    expect(db.prepare(L2_34).pluck().get()).toBe(5);
  });

  test('a missing native build gives one actionable error', () => {
    const empty = tempDir('vecsqlite-empty-');
    const script = `try { require(${JSON.stringify(root)}).isa(); console.log('loaded'); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, VECSQLITE_PREBUILD: empty, PREBUILDS_ONLY: '1' } }).toString());
    expect(out.code).toBe('VECSQLITE_LOAD_FAILED');
    expect(out.message).toMatch(new RegExp(`^Could not find the vecsqlite native module for ${process.platform}-${process.arch} \\(Node `));
    expect(out.message).toContain('Possible solutions:');
    expect(out.message).toContain('npm rebuild vecsqlite');
  });

  test('an unavailable or unknown VECSQLITE_ISA is an error, not a silent fallback', () => {
    const script = `const D=require('better-sqlite3'); const db=new D(':memory:');
      try { db.loadExtension(${JSON.stringify(getLoadablePath())}); console.log('loaded'); } catch (e) { console.log(e.message); }`;
    const bad = execFileSync(process.execPath, ['-e', script], { cwd: root, env: { ...process.env, VECSQLITE_ISA: 'sse9' } }).toString().trim();
    expect(bad).toBe("error during initialization: vecsqlite: unknown VECSQLITE_ISA value 'sse9' (expected scalar, avx2, avx512 or neon)");
    const foreign = process.arch === 'arm64' ? 'avx2' : 'neon';
    const missing = execFileSync(process.execPath, ['-e', script], { cwd: root, env: { ...process.env, VECSQLITE_ISA: foreign } }).toString().trim();
    expect(missing).toMatch(new RegExp(`^error during initialization: vecsqlite: VECSQLITE_ISA=${foreign} is not available on this (CPU|build) \\(available: scalar`));
  });

  test('a bad VECSQLITE_ARENA_POOL_MB, VECSQLITE_SKETCH or VECSQLITE_SHARED_CACHE is an error naming it; valid values load', () => {
    const script = `const D=require('better-sqlite3'); const db=new D(':memory:');
      try { db.loadExtension(${JSON.stringify(getLoadablePath())}); console.log('loaded'); } catch (e) { console.log(e.message); }`;
    const run = (env: Record<string, string>) =>
      execFileSync(process.execPath, ['-e', script], { cwd: root, env: { ...process.env, ...env } }).toString().trim();
    for (const v of ['lots', '-1', '1.5', '64MB', '99999999999'])
      expect(run({ VECSQLITE_ARENA_POOL_MB: v })).toBe(
        `error during initialization: vecsqlite: VECSQLITE_ARENA_POOL_MB must be a whole number of MiB (0 turns the pool off), got '${v}'`);
    expect(run({ VECSQLITE_SKETCH: 'yes' })).toBe("error during initialization: vecsqlite: VECSQLITE_SKETCH must be 0 or 1, got 'yes'");
    expect(run({ VECSQLITE_SHARED_CACHE: 'on' })).toBe("error during initialization: vecsqlite: VECSQLITE_SHARED_CACHE must be 0 or 1, got 'on'");
    const valid: Record<string, string>[] = [{ VECSQLITE_ARENA_POOL_MB: '0' }, { VECSQLITE_ARENA_POOL_MB: '64' }, { VECSQLITE_SKETCH: '1' }, { VECSQLITE_SKETCH: '0' },
      { VECSQLITE_SHARED_CACHE: '0' }, { VECSQLITE_SHARED_CACHE: '1' }];
    for (const env of valid)
      expect(run(env)).toBe('loaded');
  });
});

describe('other hosts load the same file', () => {
  test('no undefined Node-API imports (nm -D)', () => {
    if (!requireHost('nm (binutils)', hasCommand('nm', ['--version']))) return;
    const out = execFileSync('nm', ['-D', '--undefined-only', getLoadablePath()]).toString();
    expect(out.split('\n').filter((l) => / U (napi|node_api)_/.test(l))).toEqual([]);
    const defined = execFileSync('nm', ['-D', '--defined-only', getLoadablePath()]).toString();
    expect(defined).toMatch(/ T sqlite3_vecsqlite_init/);
    expect(defined).toMatch(/ T sqlite3_vec_init/);
    expect(defined).not.toMatch(/ T sqlite3_(open|prepare)/);
  });

  test('Debian sqlite3 CLI: .load and vec_l2', () => {
    if (!requireHost('sqlite3 CLI', hasCommand('sqlite3', ['-version']))) return;
    const out = execFileSync('sqlite3', [':memory:', `.load ${getLoadablePath()}`, L2_34 + ';', 'select vecsqlite_isa();']).toString().trim().split('\n');
    expect(Number(out[0])).toBe(5);
    expect(['scalar', 'avx2', 'avx512', 'neon']).toContain(out[1]);
  });

  test("Python's sqlite3 module: load_extension without an entry point", () => {
    const py = '/usr/bin/python3';
    if (!requireHost('/usr/bin/python3', hasCommand(py, ['-c', 'import sqlite3; sqlite3.connect(":memory:").enable_load_extension(True)']))) return;
    const out = execFileSync(py, ['-c', `import sqlite3
c = sqlite3.connect(':memory:'); c.enable_load_extension(True); c.load_extension(${JSON.stringify(getLoadablePath())})
print(c.execute(${JSON.stringify(L2_34)}).fetchone()[0])`]).toString().trim();
    expect(Number(out)).toBe(5);
  });
});
