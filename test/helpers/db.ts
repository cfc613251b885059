// Test helpers: fresh connections with the extension loaded, temp files.
import Database from 'better-sqlite3';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { load } from '../../src';

export type DB = Database.Database;

/** A new in-memory (or file) connection with vecsqlite loaded. */
export function openDb(file = ':memory:'): DB {
  const db = new Database(file);
  load(db);
  return db;
}

/** count(*) of a table in a database file (opened and closed for the call). */
export function rowCount(file: string, table: string): number {
  const db = openDb(file);
  try {
    return db.prepare(`select count(*) from ${table}`).pluck().get() as number;
  } finally {
    db.close();
  }
}

let copies = 0;
/**
 * A copy of a database file as committed now (VACUUM INTO a new file beside it). A connection to
 * the copy shares no cache with connections to the original: it loads its own.
 */
export function copyOfFile(file: string): string {
  const to = path.join(path.dirname(file), `copy-${process.pid}-${copies++}.db`);
  const src = openDb(file);
  try {
    src.exec(`vacuum into '${to.replace(/'/g, "''")}'`);
  } finally {
    src.close();
  }
  return to;
}

/** A new connection with the original C extension (npm sqlite-vec 0.1.9) loaded instead. */
export function openRef(file = ':memory:'): DB {
  const db = new Database(file);
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  require('sqlite-vec').load(db);
  return db;
}

/** The message of the error `f` throws, or null when it throws nothing. */
export function err(f: () => unknown): string | null {
  try {
    f();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The message of the error `f` throws, or 'no error'. */
export function msg(f: () => unknown): string {
  return err(f) ?? 'no error';
}

/** A fresh temporary directory, removed when the process exits. */
// Temporary directories go when the test file is done (jest may end a worker without its
// 'exit' event, so that alone left them behind).
const tempDirs: string[] = [];
const removeTempDirs = () => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
};
if (typeof afterAll === 'function') afterAll(removeTempDirs);
process.on('exit', removeTempDirs);

export function tempDir(prefix = 'vecsqlite-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomF32(rand: () => number, n: number): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rand() * 2 - 1;
  return v;
}

/** Blob of little-endian float32 values written by hand (independent of encodeEmbedding). */
export function f32blob(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => b.writeFloatLE(v, i * 4));
  return b;
}
