import { VecsqliteError } from '../errors';

/**
 * Splits a MySQL script written for the mysql / mariadb CLI into statements a client API can
 * send one by one, honouring `DELIMITER` lines and skipping `--` comment lines.
 */
export function splitMysqlScript(text: string): string[] {
  if (typeof text !== 'string') {
    throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `splitMysqlScript: expected text to be a string, received ${text === null ? 'null' : typeof text}`);
  }
  const out: string[] = [];
  let delimiter = ';';
  let current: string[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    const m = /^DELIMITER\s+(\S+)\s*$/i.exec(trimmed);
    if (m) {
      delimiter = m[1];
      continue;
    }
    if (current.length === 0 && (trimmed === '' || trimmed.startsWith('--'))) continue;
    current.push(line);
    if (trimmed.endsWith(delimiter)) {
      const stmt = current.join('\n').trim();
      out.push(stmt.slice(0, stmt.length - delimiter.length).trim());
      current = [];
    }
  }
  const rest = current.join('\n').trim();
  if (rest) out.push(rest);
  return out;
}
