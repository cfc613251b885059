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
 *  - trigger names are the table name itself (unqualified) plus `_ai` / `_au` / `_ad`, quoted,
 *    so two different tables never share trigger names (`a-b` and `a_b` get `a-b_ai` and
 *    `a_b_ai`); a schema qualifier places the triggers in that schema, and `main.` (SQLite) is
 *    the same table as the bare name, so `docs` and `main.docs` give the same trigger set;
 *  - the log's shadow_table column holds the unqualified table name: the triggers write to the
 *    log table of their own schema, so the name is unambiguous there;
 *  - an UPDATE that moves a row to another dataset (or changes its id) first logs a `delete` of
 *    the old key in the old dataset, so replicas do not keep a stale copy; keys are compared
 *    byte for byte (MySQL's default collations treat `Doc1` / `DOC1` and `doc` / `doc ` as equal);
 *  - MySQL: a dataset_id that differs only by case or trailing spaces from the spelling the SCN
 *    counter already holds is refused with SQLSTATE 45000 (both would share one SCN sequence and
 *    break replicas);
 *  - a NULL embedding is logged as JSON null on both engines (the SQLite original logged "");
 *  - INSERT OR REPLACE: the `insert` payload is the whole row and replicas apply it as an upsert,
 *    so a replaced row with the same key converges; with PRAGMA recursive_triggers=ON (SQLite) or
 *    MySQL's REPLACE, rows removed by the replace are logged as deletes as well.
 */
import { createHash } from 'crypto';
import { VecsqliteError, checkOptions } from '../errors';
import { DEFAULT_LOG_TABLE, DEFAULT_SEQ_TABLE } from './ddl';
import { badArgument, checkTableArg } from './args';
import { isPlainName, mysqlIdent, mysqlQualified, mysqlString, sqliteIdent, sqliteString, splitQualified } from './ident';

export interface TriggerOptions {
  /** Emit the reference's exact text (no fixes). Names must then be plain identifiers. */
  compat?: boolean;
}

/** Checks an optional table-name argument ('' or undefined mean the default). */
function checkOptionalTableArg(where: string, name: string, value: unknown): void {
  if (value === undefined || value === '') return;
  checkTableArg(where, name, value);
}

function checkBuilderArgs(where: string, shadowTable: unknown, seqTable: unknown, logTable: unknown, options: unknown): void {
  checkTableArg(where, 'shadowTable', shadowTable);
  checkOptionalTableArg(where, 'seqTable', seqTable);
  checkOptionalTableArg(where, 'logTable', logTable);
  checkOptions(where, options as object | undefined, ['compat']);
  const compat = (options as TriggerOptions | undefined)?.compat;
  if (compat !== undefined && typeof compat !== 'boolean') throw badArgument(where, 'options.compat to be a boolean', compat);
}

/** The reference's trigger base name: the shadow table with '.' and '-' replaced by '_' (compat mode). */
export function triggerBaseName(shadowTable: string): string {
  checkTableArg('triggerBaseName', 'shadowTable', shadowTable);
  return shadowTable.replace(/[.-]/g, '_');
}

/** The longest MySQL identifier; longer trigger names are shortened with a hash. */
const MYSQL_MAX_IDENT = 64;

/**
 * How the default (non-compat) builders name a table: the schema the triggers live in (undefined
 * for the default one), the unqualified table (also the log's shadow_table value) and the three
 * trigger names. SQLite's `main.` is dropped, so `docs` and `main.docs` name the same triggers.
 * Distinct tables of one schema always get distinct names: the table name is kept whole and
 * the suffixes have one length. On MySQL, whose identifiers stop at 64 characters, a table name
 * longer than 61 characters is cut to 48 and followed by `_` and 12 hex digits of its SHA-256.
 */
export function triggerNames(shadowTable: string, engine: 'sqlite' | 'mysql' = 'sqlite'): { schema: string | undefined; table: string; insert: string; update: string; delete: string } {
  checkTableArg('triggerNames', 'shadowTable', shadowTable);
  if (engine !== 'sqlite' && engine !== 'mysql') throw badArgument('triggerNames', "engine to be 'sqlite' or 'mysql'", engine);
  let [schema, table] = splitQualified(shadowTable);
  if (engine === 'sqlite' && schema !== undefined && schema.toLowerCase() === 'main') schema = undefined;
  let base = table;
  if (engine === 'mysql' && [...table].length + 3 > MYSQL_MAX_IDENT) {
    base = [...table].slice(0, 48).join('') + '_' + createHash('sha256').update(table, 'utf8').digest('hex').slice(0, 12);
  }
  return { schema, table, insert: base + '_ai', update: base + '_au', delete: base + '_ad' };
}

/** The shadow_table value the default triggers log for `shadowTable` (the unqualified table name). */
export function logShadowTableName(shadowTable: string): string {
  checkTableArg('logShadowTableName', 'shadowTable', shadowTable);
  return splitQualified(shadowTable)[1];
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
  checkBuilderArgs('sqliteShadowLogTriggers', shadowTable, seqTable, logTable, options);
  const seq = seqTable || DEFAULT_SEQ_TABLE;
  const log = logTable || DEFAULT_LOG_TABLE;
  if (options.compat) {
    const base = triggerBaseName(shadowTable);
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
  const names = triggerNames(shadowTable, 'sqlite');
  // Tables in a trigger body resolve in the trigger's schema, so the counter and the log are
  // named without a schema.
  const qSeq = sqliteIdent(splitQualified(seq)[1]);
  const qLog = sqliteIdent(splitQualified(log)[1]);
  const lit = sqliteString(names.table);
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
  // Byte-exact key comparison whatever collation the columns declare.
  const moved = 'OLD.dataset_id IS NOT NEW.dataset_id COLLATE BINARY OR OLD.id IS NOT NEW.id COLLATE BINARY';
  const triggerName = (n: string) => (names.schema === undefined ? sqliteIdent(n) : `${sqliteIdent(names.schema)}.${sqliteIdent(n)}`);
  return OPS.map(({ op, event, row }) => {
    const body = op === 'update' ? `${logRow('OLD', 'delete', moved)}\n${logRow('NEW', 'update')}` : logRow(row, op);
    return `CREATE TRIGGER IF NOT EXISTS ${triggerName(names[op])} AFTER ${event} ON ${sqliteIdent(names.table)}
BEGIN
${body}
END;`;
  }) as [string, string, string];
}

/**
 * MySQL / MariaDB triggers `[insert, update, delete]` (no IF NOT EXISTS, no DELIMITER: send each
 * as one statement through a client API, or wrap them in DELIMITER for the mysql CLI). Creating
 * them twice for one table (e.g. as `docs` and `mydb.docs`) fails with "Trigger already exists".
 */
export function mysqlShadowLogTriggers(shadowTable: string, seqTable = '', logTable = '', options: TriggerOptions = {}): [string, string, string] {
  checkBuilderArgs('mysqlShadowLogTriggers', shadowTable, seqTable, logTable, options);
  const seq = seqTable || DEFAULT_SEQ_TABLE;
  const log = logTable || DEFAULT_LOG_TABLE;
  const compat = !!options.compat;
  if (compat) {
    checkCompatNames([shadowTable, seq, log]);
    const base = triggerBaseName(shadowTable);
    const logRow = (R: 'NEW' | 'OLD', op: Op) => `INSERT INTO ${seq}(dataset_id, next_scn) VALUES (${R}.dataset_id, 1) ON DUPLICATE KEY UPDATE next_scn = next_scn + 1;
SELECT next_scn INTO @vecsync_scn FROM ${seq} WHERE dataset_id = ${R}.dataset_id;
INSERT INTO ${log}(dataset_id, shadow_table, scn, op, document_id, payload) VALUES (${R}.dataset_id, '${shadowTable}', @vecsync_scn, '${op}', ${R}.id, JSON_OBJECT(${PAYLOAD_KEYS.map((k) => `'${k}', ${k === 'embedding' ? `LOWER(HEX(${R}.embedding))` : `${R}.${k}`}`).join(', ')}));`;
    return OPS.map(({ op, suffix, event, row }) => `CREATE TRIGGER ${base + suffix} AFTER ${event} ON ${shadowTable}\nFOR EACH ROW\nBEGIN\n${logRow(row, op)}\nEND;`) as [string, string, string];
  }
  const names = triggerNames(shadowTable, 'mysql');
  const qSeq = mysqlQualified(seq);
  const qLog = mysqlQualified(log);
  const lit = mysqlString(names.table);
  const bin = (x: string) => `CAST(${x} AS BINARY)`;
  // The counter row keeps the first spelling of a dataset id; a case / trailing-space variant
  // would share its SCN sequence under the column's collation, so it is refused.
  const checkSpelling = (indent: string) => `${indent}IF NOT (${bin('@vecsync_ds')} <=> ${bin('NEW.dataset_id')}) THEN
${indent}  SET @vecsync_msg = CONCAT('vecsync: dataset_id ', QUOTE(NEW.dataset_id), ' differs only by case or trailing spaces from the existing dataset ', QUOTE(@vecsync_ds), '; use the same spelling');
${indent}  SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = @vecsync_msg;
${indent}END IF;`;
  const logRow = (R: 'NEW' | 'OLD', op: Op, indent = '') => `${indent}INSERT INTO ${qSeq}(dataset_id, next_scn) VALUES (${R}.dataset_id, 1) ON DUPLICATE KEY UPDATE next_scn = next_scn + 1;
${indent}SELECT dataset_id, next_scn INTO @vecsync_ds, @vecsync_scn FROM ${qSeq} WHERE dataset_id = ${R}.dataset_id;
${R === 'NEW' ? checkSpelling(indent) + '\n' : ''}${indent}INSERT INTO ${qLog}(dataset_id, shadow_table, scn, op, document_id, payload) VALUES (${R}.dataset_id, ${lit}, @vecsync_scn, '${op}', ${R}.id, JSON_OBJECT(${PAYLOAD_KEYS.map((k) => `'${k}', ${k === 'embedding' ? `LOWER(HEX(${R}.embedding))` : `${R}.${k}`}`).join(', ')}));`;
  const triggerName = (n: string) => (names.schema === undefined ? mysqlIdent(n) : `${mysqlIdent(names.schema)}.${mysqlIdent(n)}`);
  const moved = `NOT (${bin('OLD.dataset_id')} <=> ${bin('NEW.dataset_id')} AND ${bin('OLD.id')} <=> ${bin('NEW.id')})`;
  return OPS.map(({ op, event, row }) => {
    const body = op === 'update' ? `IF ${moved} THEN\n${logRow('OLD', 'delete', '  ')}\nEND IF;\n${logRow('NEW', 'update')}` : logRow(row, op);
    return `CREATE TRIGGER ${triggerName(names[op])} AFTER ${event} ON ${names.schema === undefined ? mysqlIdent(names.table) : `${mysqlIdent(names.schema)}.${mysqlIdent(names.table)}`}\nFOR EACH ROW\nBEGIN\n${body}\nEND;`;
  }) as [string, string, string];
}
