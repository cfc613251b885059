/**
 * Trigger builders for the vecsync change log.
 *
 * Each write to a shadow table allocates the next SCN of its dataset from the counter table
 * (per dataset, starting at 1, no gaps: a rollback undoes the counter too) and appends one log
 * row whose payload is a JSON object with the keys dataset_id, id, content, meta, embedding
 * (lowercase hex of the float32 blob), embedding_model, scn, archived.
 *
 * `{ compat: true }` returns the reference's text exactly (for names that need no quoting; other
 * names are rejected rather than interpolated raw). The default output fixes its gaps:
 *  - identifiers are quoted and the shadow-table literal escaped, so hostile names cannot inject SQL;
 *  - an UPDATE that moves a row to another dataset (or changes its id) first logs a `delete` of
 *    the old key in the old dataset, so replicas do not keep a stale copy;
 *  - a NULL embedding is logged as JSON null on both engines (the SQLite original logged "");
 *  - INSERT OR REPLACE: the `insert` payload is the whole row and replicas apply it as an upsert,
 *    so a replaced row with the same key converges; with PRAGMA recursive_triggers=ON (SQLite) or
 *    MySQL's REPLACE, rows removed by the replace are logged as deletes as well.
 * Trigger names (`<base>_ai`, `_au`, `_ad`) are the reference's in both modes.
 */
import { VecsqliteError } from '../errors';
import { DEFAULT_LOG_TABLE, DEFAULT_SEQ_TABLE } from './ddl';
import { isPlainName, mysqlIdent, mysqlQualified, mysqlString, sqliteIdent, sqliteQualified, sqliteString } from './ident';

export interface TriggerOptions {
  /** Emit the reference's exact text (no fixes). Names must then be plain identifiers. */
  compat?: boolean;
}

/** The trigger base name: the shadow table with '.' and '-' replaced by '_'. */
export function triggerBaseName(shadowTable: string): string {
  return shadowTable.replace(/[.-]/g, '_');
}

const PAYLOAD_KEYS = ['dataset_id', 'id', 'content', 'meta', 'embedding', 'embedding_model', 'scn', 'archived'] as const;

function checkCompatNames(names: string[]): void {
  for (const n of names) {
    if (!isPlainName(n)) {
      throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `vecsync: compat mode interpolates names raw, so it accepts only plain identifiers; received ${JSON.stringify(n)}`);
    }
  }
}

type Op = 'insert' | 'update' | 'delete';
const OPS: { op: Op; suffix: string; event: string; row: 'NEW' | 'OLD' }[] = [
  { op: 'insert', suffix: '_ai', event: 'INSERT', row: 'NEW' },
  { op: 'update', suffix: '_au', event: 'UPDATE', row: 'NEW' },
  { op: 'delete', suffix: '_ad', event: 'DELETE', row: 'OLD' },
];

/**
 * SQLite triggers `[insert, update, delete]` that log every write of `shadowTable` into
 * `logTable` with SCNs from `seqTable` (defaults: vec_shadow_log, vec_dataset_scn).
 * @example db.exec(sqliteShadowLogTriggers('main.shadow_vec_docs').join('\n'))
 */
export function sqliteShadowLogTriggers(shadowTable: string, seqTable = '', logTable = '', options: TriggerOptions = {}): [string, string, string] {
  const seq = seqTable || DEFAULT_SEQ_TABLE;
  const log = logTable || DEFAULT_LOG_TABLE;
  const base = triggerBaseName(shadowTable);
  if (options.compat) {
    checkCompatNames([shadowTable, seq, log]);
    return OPS.map(({ op, suffix, event, row: R }) => `CREATE TRIGGER IF NOT EXISTS ${base}${suffix} AFTER ${event} ON ${shadowTable}
BEGIN
    INSERT INTO ${seq}(dataset_id, next_scn)
    VALUES (${R}.dataset_id, 1)
    ON CONFLICT(dataset_id) DO UPDATE SET next_scn = next_scn + 1;
    INSERT INTO ${log}(dataset_id, shadow_table, scn, op, document_id, payload)
    VALUES (
        ${R}.dataset_id,
        '${shadowTable}',
        (SELECT next_scn FROM ${seq} WHERE dataset_id = ${R}.dataset_id),
        '${op}',
        ${R}.id,
        json_object(
        'dataset_id', ${R}.dataset_id,
        'id', ${R}.id,
        'content', ${R}.content,
        'meta', ${R}.meta,
        'embedding', lower(hex(${R}.embedding)),
        'embedding_model', ${R}.embedding_model,
        'scn', ${R}.scn,
        'archived', ${R}.archived)
    );
END;`) as [string, string, string];
  }
  const qSeq = sqliteIdent(seq);
  const qLog = sqliteIdent(log);
  const lit = sqliteString(shadowTable);
  const logRow = (R: 'NEW' | 'OLD', op: Op, where = '') => `    INSERT INTO ${qSeq}(dataset_id, next_scn)
    SELECT ${R}.dataset_id, 1${where ? `\n    WHERE ${where}` : '\n    WHERE true'}
    ON CONFLICT(dataset_id) DO UPDATE SET next_scn = next_scn + 1;
    INSERT INTO ${qLog}(dataset_id, shadow_table, scn, op, document_id, payload)
    SELECT
        ${R}.dataset_id,
        ${lit},
        (SELECT next_scn FROM ${qSeq} WHERE dataset_id = ${R}.dataset_id),
        '${op}',
        ${R}.id,
        json_object(
${PAYLOAD_KEYS.map((k) => `        '${k}', ${k === 'embedding' ? `CASE WHEN ${R}.embedding IS NULL THEN NULL ELSE lower(hex(${R}.embedding)) END` : `${R}.${k}`}`).join(',\n')})${where ? `\n    WHERE ${where}` : ''};`;
  const moved = 'OLD.dataset_id IS NOT NEW.dataset_id OR OLD.id IS NOT NEW.id';
  return OPS.map(({ op, suffix, event, row }) => {
    const body = op === 'update' ? `${logRow('OLD', 'delete', moved)}\n${logRow('NEW', 'update')}` : logRow(row, op);
    return `CREATE TRIGGER IF NOT EXISTS ${sqliteIdent(base + suffix)} AFTER ${event} ON ${sqliteQualified(shadowTable)}
BEGIN
${body}
END;`;
  }) as [string, string, string];
}

/**
 * MySQL / MariaDB triggers `[insert, update, delete]` (no IF NOT EXISTS, no DELIMITER: send each
 * as one statement through a client API, or wrap them in DELIMITER for the mysql CLI).
 */
export function mysqlShadowLogTriggers(shadowTable: string, seqTable = '', logTable = '', options: TriggerOptions = {}): [string, string, string] {
  const seq = seqTable || DEFAULT_SEQ_TABLE;
  const log = logTable || DEFAULT_LOG_TABLE;
  const base = triggerBaseName(shadowTable);
  const compat = !!options.compat;
  if (compat) checkCompatNames([shadowTable, seq, log]);
  const qSeq = compat ? seq : mysqlIdent(seq);
  const qLog = compat ? log : mysqlIdent(log);
  const lit = compat ? `'${shadowTable}'` : mysqlString(shadowTable);
  const logRow = (R: 'NEW' | 'OLD', op: Op, indent = '') => `${indent}INSERT INTO ${qSeq}(dataset_id, next_scn) VALUES (${R}.dataset_id, 1) ON DUPLICATE KEY UPDATE next_scn = next_scn + 1;
${indent}SELECT next_scn INTO @vecsync_scn FROM ${qSeq} WHERE dataset_id = ${R}.dataset_id;
${indent}INSERT INTO ${qLog}(dataset_id, shadow_table, scn, op, document_id, payload) VALUES (${R}.dataset_id, ${lit}, @vecsync_scn, '${op}', ${R}.id, JSON_OBJECT(${PAYLOAD_KEYS.map((k) => `'${k}', ${k === 'embedding' ? `LOWER(HEX(${R}.embedding))` : `${R}.${k}`}`).join(', ')}));`;
  return OPS.map(({ op, suffix, event, row }) => {
    const name = compat ? base + suffix : mysqlIdent(base + suffix);
    const table = compat ? shadowTable : mysqlQualified(shadowTable);
    const body = op === 'update' && !compat
      ? `IF NOT (OLD.dataset_id <=> NEW.dataset_id AND OLD.id <=> NEW.id) THEN\n${logRow('OLD', 'delete', '  ')}\nEND IF;\n${logRow('NEW', 'update')}`
      : logRow(row, op);
    return `CREATE TRIGGER ${name} AFTER ${event} ON ${table}\nFOR EACH ROW\nBEGIN\n${body}\nEND;`;
  }) as [string, string, string];
}
