/** Argument checks shared by the vecsync builders (internal: not re-exported). */
import { VecsqliteError } from '../errors';
import { splitQualified } from './ident';

export function badArgument(where: string, what: string, value: unknown): VecsqliteError {
  let shown: string;
  try {
    shown = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'bigint' ? `${value}n` : JSON.stringify(value) ?? String(value);
  } catch {
    shown = Object.prototype.toString.call(value);
  }
  return new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `${where}: expected ${what}, received ${shown} (${value === null ? 'null' : typeof value})`);
}

/** Checks a required table-name argument of a public builder. */
export function checkTableArg(where: string, name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) throw badArgument(where, `${name} to be a non-empty table name`, value);
  if (value.includes('\u0000')) throw badArgument(where, `${name} without NUL characters`, value);
  const [schema, table] = splitQualified(value);
  if (table.length === 0 || schema === '') throw badArgument(where, `${name} to be "table" or "schema.table"`, value);
}

