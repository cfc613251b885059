/**
 * Identifier and literal quoting for generated SQL. Table and column names from users are
 * never interpolated raw: SQLite identifiers are double-quoted with inner quotes doubled,
 * MySQL identifiers backquoted with inner backquotes doubled, literals single-quoted with inner
 * quotes (and, for MySQL, backslashes) doubled.
 */
import { VecsqliteError } from '../errors';

/** `schema.table` → ['schema', 'table']; a plain name → [undefined, name]. Splits on the first dot. */
export function splitQualified(name: string): [string | undefined, string] {
  checkName(name);
  const dot = name.indexOf('.');
  return dot < 0 ? [undefined, name] : [name.slice(0, dot), name.slice(dot + 1)];
}

function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `vecsync: expected a non-empty table name, received ${JSON.stringify(name)}`);
  }
  if (name.includes('\u0000')) {
    throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', 'vecsync: table names must not contain NUL characters');
  }
}

export function sqliteIdent(name: string): string {
  checkName(name);
  return '"' + name.replace(/"/g, '""') + '"';
}

/** Quotes `schema.table` as `"schema"."table"` (or just `"table"`). */
export function sqliteQualified(name: string): string {
  const [schema, table] = splitQualified(name);
  return schema === undefined ? sqliteIdent(table) : `${sqliteIdent(schema)}.${sqliteIdent(table)}`;
}

export function mysqlIdent(name: string): string {
  checkName(name);
  return '`' + name.replace(/`/g, '``') + '`';
}

export function mysqlQualified(name: string): string {
  const [schema, table] = splitQualified(name);
  return schema === undefined ? mysqlIdent(table) : `${mysqlIdent(schema)}.${mysqlIdent(table)}`;
}

export function sqliteString(s: string): string {
  return "'" + s.replace(/'/g, "''") + "'";
}

export function mysqlString(s: string): string {
  return "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "''") + "'";
}

/** True for names the upstream builders could interpolate raw without changing the SQL's meaning. */
export function isPlainName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/.test(name);
}
