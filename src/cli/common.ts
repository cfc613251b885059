/** Pieces shared by the `vecsqlite` commands: opening a database, errors, output, progress. */
import Database from 'better-sqlite3';
import * as fs from 'fs';
import { load } from '../index';
import { quoteIdent, vec0Columns } from '../bulk';

/**
 * An error the command line prints as one line, `vecsqlite <command>: <message>`, exiting with
 * `exitCode`: 2 for bad input (files, arguments), 1 for everything else.
 */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export type DB = Database.Database;

/** Opens a database with vecsqlite loaded. `mustExist`: refuse to create a new file. */
export function openDatabase(file: string, mustExist: boolean): DB {
  if (mustExist && file !== ':memory:' && !fs.existsSync(file)) throw new CliError(`${file}: no such database file`, 2);
  let db: DB;
  try {
    db = new Database(file, { fileMustExist: mustExist && file !== ':memory:' });
  } catch (e) {
    throw new CliError(`${file}: ${(e as Error).message}`, 2);
  }
  load(db);
  return db;
}

export type TableKind = 'vec0' | 'vec' | 'other';

/** What kind of table `name` is, or null when it does not exist. */
export function tableKind(db: DB, name: string): TableKind | null {
  const row = db.prepare("select sql from sqlite_schema where type = 'table' and name = ? collate nocase").get(name) as { sql: string } | undefined;
  if (!row) return null;
  if (/using\s+vec0\s*\(/i.test(row.sql)) return 'vec0';
  if (/using\s+vec\b/i.test(row.sql)) return 'vec';
  return 'other';
}

export interface VectorTable {
  name: string;
  kind: TableKind;
  column: string;
  dims: number;
}

/** The vec0 table `name` and its first float vector column (or `column`). */
export function vectorTable(db: DB, name: string, column?: string): VectorTable {
  const kind = tableKind(db, name);
  if (kind === null) throw new CliError(`no such table: ${name}`, 2);
  if (kind !== 'vec0') throw new CliError(`${name} is not a vec0 table`, 2);
  const cols = vec0Columns(db, name);
  const c = column ? cols.find((x) => x.name.toLowerCase() === column.toLowerCase()) : cols.find((x) => x.type === 'float' || x.type === 'f32') ?? cols[0];
  if (!c) throw new CliError(column ? `${name} has no vector column ${column}` : `${name} has no vector column`, 2);
  return { name, kind, column: c.name, dims: c.dims };
}

export { quoteIdent };

/** Parses a JSON array of numbers given on the command line. */
export function parseVectorArg(s: string, what = '--vector'): Float32Array {
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch {
    throw new CliError(`${what}: expected a JSON array of numbers such as '[0.1, 0.2]', received ${JSON.stringify(s.slice(0, 40))}`, 2);
  }
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new CliError(`${what}: expected a non-empty JSON array of finite numbers`, 2);
  }
  return Float32Array.from(v as number[]);
}

/** A progress bar on stderr when it is a terminal and the task is big enough; else no-ops. */
export async function progressBar(enabled: boolean, total: number, label: string): Promise<{ update(n: number): void; stop(): void }> {
  if (!enabled || !process.stderr.isTTY || total < 20000) return { update: () => undefined, stop: () => undefined };
  const { SingleBar, Presets } = await import('cli-progress');
  const bar = new SingleBar({ format: `${label} [{bar}] {percentage}% {value}/{total} rows, {eta_formatted} left`, hideCursor: true, stream: process.stderr }, Presets.shades_classic);
  bar.start(total, 0);
  return { update: (n) => bar.update(n), stop: () => bar.stop() };
}

/** Prints `value` as JSON (with --json) or `text()` otherwise. */
export function output(json: boolean, value: unknown, text: () => string): void {
  process.stdout.write(json ? JSON.stringify(value) + '\n' : text() + '\n');
}

/** A fixed-width text table. */
export function table(rows: (string | number | null)[][], header: string[]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null ? '' : typeof c === 'number' ? (Number.isInteger(c) ? String(c) : c.toFixed(4)) : c)))];
  const widths = header.map((_, j) => Math.max(...cells.map((r) => String(r[j] ?? '').length)));
  return cells.map((r) => r.map((c, j) => String(c ?? '').padEnd(widths[j])).join('  ').trimEnd()).join('\n');
}
