#!/usr/bin/env node
// vecsync replication soak: `vecsqlite sync --follow` is killed with SIGKILL at random moments
// while a MariaDB upstream (db/schema/mysql/shadow_sync.ddl) takes a mixed workload: inserts,
// content / embedding updates, archive / reactivate, id renames (including renames that differ
// only by case or trailing spaces), moves between datasets, deletes, and datasets deleted and
// re-created. After the last kill one plain `vecsqlite sync` runs, and the replica must equal the
// upstream byte for byte (ids compared as bytes), with every checkpoint equal to the upstream
// SCN counter.
//
//   npm run build:ts && node bench/soak-vecsync.js [--kills 50] [--writes 40] [--seed 1] [--cli path]
//
// Exit code 0 when the replica matches, 1 otherwise. VECSQLITE_MYSQL_URL picks the server
// (default mysql://root@127.0.0.1:3306/test); a scratch database is created and dropped.
'use strict';
const path = require('path');
const fs = require('fs');
const os = require('os');
const { spawn, execFileSync } = require('child_process');
const mysql = require('mysql2/promise');
const Database = require('better-sqlite3');

const root = path.join(__dirname, '..');
const cliArg = process.argv.indexOf('--cli');
// --cli <other build's lib/cli/index.js> runs the soak against another build (e.g. to see an old one fail).
const cli = cliArg > 0 ? path.resolve(process.argv[cliArg + 1]) : path.join(root, 'lib', 'cli', 'index.js');
const { vecsync } = require(root);

const arg = (name, def) => { const i = process.argv.indexOf('--' + name); return i > 0 ? Number(process.argv[i + 1]) : def; };
const KILLS = arg('kills', 50), WRITES = arg('writes', 40), SEED = arg('seed', 1);
const URL_ = process.env.VECSQLITE_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test';
const DATASETS = ['alpha', 'beta', 'gamma'];

function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
}
const r = rng(SEED);
const pick = (xs) => xs[Math.floor(r() * xs.length)];

function vec(dim = 8) {
  const b = Buffer.alloc(dim * 4);
  for (let i = 0; i < dim; i++) b.writeFloatLE(Math.fround(r() * 2 - 1), i * 4);
  return b;
}

/** MariaDB's utf8mb4_unicode_ci key of an id: case-insensitive, trailing spaces ignored. */
const collKey = (s) => s.toLowerCase().replace(/ +$/, '');

async function main() {
  const admin = await mysql.createConnection({ uri: URL_ });
  const dbName = `vecsqlite_soak_${process.pid}`;
  await admin.query(`CREATE DATABASE ${dbName} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const u = new URL(URL_); u.pathname = '/' + dbName;
  const conn = await mysql.createConnection({ uri: u.toString() });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vecsync-soak-'));
  const target = path.join(dir, 'replica.sqlite');
  let ok = false;
  try {
    for (const s of vecsync.splitMysqlScript(fs.readFileSync(path.join(root, 'db', 'schema', 'mysql', 'shadow_sync.ddl'), 'utf8'))) await conn.query(s);
    for (const d of DATASETS) await conn.query('INSERT INTO vec_dataset(dataset_id) VALUES (?)', [d]);

    // A model of the live rows: key `${dataset}\0${collKey(id)}` -> exact id.
    const live = new Map();
    let counter = 0;
    const counts = {};
    const count = (k) => { counts[k] = (counts[k] || 0) + 1; };
    const liveIn = (ds) => [...live.entries()].filter(([k]) => k.startsWith(ds + '\u0000'));
    const q = (sql, a) => conn.query(sql, a);

    async function write() {
      const roll = r();
      const rows = [...live.entries()];
      if (rows.length < 6 || roll < 0.4) {
        const ds = pick(DATASETS);
        const id = `d${counter++}`;
        await q('INSERT INTO shadow_vec_docs(dataset_id, id, content, meta, embedding, embedding_model, scn, archived) VALUES (?, ?, ?, ?, ?, ?, ?, 0)',
          [ds, id, `text ${id}`, r() < 0.5 ? JSON.stringify({ n: counter }) : null, r() < 0.1 ? Buffer.alloc(0) : vec(), 'mini', counter]);
        live.set(`${ds}\u0000${collKey(id)}`, id);
        return count('insert');
      }
      const [key, id] = pick(rows);
      const ds = key.slice(0, key.indexOf('\u0000'));
      if (roll < 0.55) {
        await q('UPDATE shadow_vec_docs SET content = ?, embedding = ? WHERE dataset_id = ? AND id = ?', [`edited ${counter++}`, vec(), ds, id]);
        return count('update');
      }
      if (roll < 0.62) {
        await q('UPDATE shadow_vec_docs SET archived = 1 - archived WHERE dataset_id = ? AND id = ?', [ds, id]);
        return count('archive');
      }
      if (roll < 0.74) {
        // Rename: a new id, or one the collation calls equal (case / trailing space).
        const variants = [id.toUpperCase(), id.toLowerCase(), id + ' ', id.replace(/ +$/, ''), `r${counter++}`];
        const to = pick(variants.filter((v) => v !== id));
        const sameKey = collKey(to) === collKey(id);
        if (!sameKey && live.has(`${ds}\u0000${collKey(to)}`)) return count('skip');
        await q('UPDATE shadow_vec_docs SET id = ? WHERE dataset_id = ? AND id = ?', [to, ds, id]);
        live.delete(key);
        live.set(`${ds}\u0000${collKey(to)}`, to);
        return count(sameKey ? 'rename-case-or-space' : 'rename');
      }
      if (roll < 0.84) {
        const to = pick(DATASETS.filter((d) => d !== ds));
        if (live.has(`${to}\u0000${collKey(id)}`)) return count('skip');
        await q('UPDATE shadow_vec_docs SET dataset_id = ? WHERE dataset_id = ? AND id = ?', [to, ds, id]);
        live.delete(key);
        live.set(`${to}\u0000${collKey(id)}`, id);
        return count('move');
      }
      if (roll < 0.99) {
        await q('DELETE FROM shadow_vec_docs WHERE dataset_id = ? AND id = ?', [ds, id]);
        live.delete(key);
        return count('delete');
      }
      // Delete the whole dataset (its documents are deleted through the logged path) and re-create it.
      await q('DELETE FROM vec_dataset WHERE dataset_id = ?', [ds]);
      await q('INSERT INTO vec_dataset(dataset_id) VALUES (?)', [ds]);
      for (const [k] of liveIn(ds)) live.delete(k);
      return count('dataset-recreate');
    }

    const started = Date.now();
    for (let i = 0; i < 100; i++) await write();
    // The command line's start-up and first catch-up time under the current load (into a
    // scratch file), so that kills land while it works.
    let t = Date.now();
    execFileSync(process.execPath, [cli, 'sync', '--source', u.toString(), '--target', path.join(dir, 'warmup.sqlite'), '--table', 'shadow_vec_docs:_vec_docs', '--no-progress'], { stdio: 'ignore' });
    const startup = Date.now() - t;
    let killed = 0, killedAfterStart = 0;
    for (let round = 0; round < KILLS; round++) {
      const batch = 1 + Math.floor(r() * 40);
      const child = spawn(process.execPath, [cli, 'sync', '--source', u.toString(), '--target', target, '--table', 'shadow_vec_docs:_vec_docs', '--batch-size', String(batch), '--follow', '--interval', '10', '--no-progress'], { stdio: 'ignore' });
      const exited = new Promise((res) => child.once('exit', (code, sig) => res(sig)));
      const writer = (async () => { for (let i = 0; i < WRITES; i++) await write(); })();
      await new Promise((res) => setTimeout(res, Math.floor(startup * (0.5 + r()))));
      child.kill('SIGKILL');
      if ((await exited) === 'SIGKILL') killed++;
      await writer;
      if (fs.existsSync(target)) killedAfterStart++;
    }
    t = Date.now();
    execFileSync(process.execPath, [cli, 'sync', '--source', u.toString(), '--target', target, '--table', 'shadow_vec_docs:_vec_docs', '--no-progress'], { stdio: 'ignore' });
    const finalCatchUp = Date.now() - t;

    // Byte-for-byte comparison (an empty upstream blob is NULL on the replica: "no vector").
    const [up] = await conn.query('SELECT CAST(dataset_id AS BINARY) AS dataset_id, CAST(id AS BINARY) AS id, content, meta, embedding, embedding_model, scn, archived FROM shadow_vec_docs');
    const norm = (x) => JSON.stringify([Buffer.from(x.dataset_id).toString('hex'), Buffer.from(x.id).toString('hex'), x.content ?? null, x.meta ?? null,
      x.embedding == null || x.embedding.length === 0 ? null : Buffer.from(x.embedding).toString('hex'), x.embedding_model ?? null, Number(x.scn), Number(x.archived)]);
    const upstream = up.map(norm).sort();
    const replica = new Database(target, { readonly: true });
    const local = replica.prepare('SELECT CAST(dataset_id AS BLOB) AS dataset_id, CAST(id AS BLOB) AS id, content, meta, embedding, embedding_model, scn, archived FROM _vec_docs').all().map(norm).sort();
    const [seq] = await conn.query('SELECT dataset_id, next_scn FROM vec_dataset_scn');
    const checkpoints = seq.map((s) => [s.dataset_id, Number(s.next_scn), Number(replica.prepare("SELECT last_scn FROM vec_sync_state WHERE dataset_id = ? AND shadow_table = 'shadow_vec_docs'").pluck().get(s.dataset_id))]);
    replica.close();
    const missing = upstream.filter((x) => !local.includes(x));
    const extra = local.filter((x) => !upstream.includes(x));
    const badCheckpoints = checkpoints.filter(([, a, b]) => a !== b);
    ok = missing.length === 0 && extra.length === 0 && badCheckpoints.length === 0 && upstream.length === live.size;
    const summary = {
      kind: 'soak', ok, kills: killed, killsAfterTargetExisted: killedAfterStart, rows: upstream.length, modelRows: live.size,
      writes: counts, checkpoints, missing: missing.length, extra: extra.length, badCheckpoints, startupMs: startup, finalCatchUpMs: finalCatchUp,
      seconds: (Date.now() - started) / 1000, seed: SEED,
    };
    console.log(`vecsync soak: ${killed} SIGKILLs, ${Object.values(counts).reduce((a, b) => a + b, 0)} upstream writes, ${upstream.length} rows: ${ok ? 'replica equals upstream byte for byte' : 'MISMATCH'}`);
    console.log(JSON.stringify(summary));
    if (!ok) for (const x of [...missing.slice(0, 5).map((m) => 'missing ' + m), ...extra.slice(0, 5).map((m) => 'extra ' + m)]) console.log(x);
  } finally {
    await conn.end();
    await admin.query(`DROP DATABASE ${dbName}`);
    await admin.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.exitCode = ok ? 0 : 1;
}
main().catch((e) => { console.error(e); process.exit(1); });
