/**
 * `npm run demo`: loads vecsqlite into a local SQLite file and runs a few distance queries.
 * (The dataset-aware search demo over real embeddings grows this file in a later step.)
 */
import Database from 'better-sqlite3';
import * as fs from 'fs';
import * as path from 'path';
import { encodeEmbedding, isa, load, topK, version } from './index';

function main(): void {
  const dir = path.join(process.cwd(), '.demo');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'demo.sqlite');
  const db = new Database(file);
  load(db);
  console.log(`vecsqlite ${version}, SIMD variant ${isa()}, SQLite ${db.prepare('select sqlite_version()').pluck().get()}`);
  console.log(`database: ${file}`);

  db.exec('drop table if exists points; create table points(name text primary key, v blob)');
  const points: [string, number[]][] = [
    ['origin', [0, 0, 0]], ['x', [1, 0, 0]], ['y', [0, 1, 0]], ['diag', [1, 1, 1]], ['far', [10, -3, 4]],
  ];
  const ins = db.prepare('insert into points values (?, ?)');
  db.transaction(() => points.forEach(([n, v]) => ins.run(n, encodeEmbedding(v))))();

  const q = encodeEmbedding([0.9, 0.2, 0.1]);
  const rows = db.prepare(`select name, vec_l2(v, ?) as l2, vec_cosine(v, ?) as cos from points
                           where name != 'origin' order by l2`).all(q, q) as { name: string; l2: number; cos: number }[];
  console.log('\nnearest to [0.9, 0.2, 0.1] by vec_l2 (vec_cosine alongside):');
  for (const r of rows) console.log(`  ${r.name.padEnd(6)} l2=${r.l2.toFixed(4)}  cosine=${r.cos.toFixed(4)}`);

  const dim = 384, n = 20000;
  const m = new Float32Array(n * dim);
  for (let i = 0; i < m.length; i++) m[i] = Math.sin(i * 0.618) * Math.cos(i * 0.001);
  const t0 = process.hrtime.bigint();
  const top = topK(m.subarray(5 * dim, 6 * dim), m, 5, 'cosine');
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`\ntopK over ${n} x ${dim} float32 in ${ms.toFixed(2)} ms: rows ${Array.from(top.indices).join(', ')}`);
  db.close();
}

main();
