/**
 * DDL builders of the vecsync change log. The texts are the
 * reference's, byte for byte, except that a table name that is not a plain identifier is
 * quoted (the original interpolated it raw).
 */
import { isPlainName, sqliteQualified } from './ident';
import { checkTableArg } from './args';

export const DEFAULT_LOG_TABLE = 'vec_shadow_log';
export const DEFAULT_SEQ_TABLE = 'vec_dataset_scn';
export const SYNC_STATE_TABLE = 'vec_sync_state';

function tableName(name: string): string {
  return isPlainName(name) ? name : sqliteQualified(name);
}

/** The `_vec_<t>`-compatible document table (SQLite). */
export function shadowTableDDL(table: string): string {
  checkTableArg('shadowTableDDL', 'table', table);
  return `CREATE TABLE IF NOT EXISTS ${tableName(table)} (
    dataset_id TEXT NOT NULL,
    id TEXT NOT NULL,
    content TEXT,
    meta TEXT,
    embedding BLOB,
    scn INTEGER NOT NULL DEFAULT 0,
    embedding_model TEXT,
    archived INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY(dataset_id, id));`;
}

/** The change log (SQLite). The name is fixed, as in the reference. */
export function logTableDDL(): string {
  return 'CREATE TABLE IF NOT EXISTS vec_shadow_log (dataset_id TEXT NOT NULL, shadow_table TEXT NOT NULL, scn INTEGER NOT NULL, op TEXT NOT NULL, document_id TEXT NOT NULL, payload BLOB NOT NULL, created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, PRIMARY KEY(dataset_id, shadow_table, scn));';
}

/** The per-dataset SCN counter (SQLite). The name is fixed, as in the reference. */
export function seqTableDDL(): string {
  return 'CREATE TABLE IF NOT EXISTS vec_dataset_scn (dataset_id TEXT PRIMARY KEY, next_scn INTEGER NOT NULL);';
}

/** The replica's checkpoint table (SQLite), as in db/schema/sqlite/schema.ddl. */
export function syncStateDDL(): string {
  return 'CREATE TABLE IF NOT EXISTS vec_sync_state (dataset_id TEXT NOT NULL, shadow_table TEXT NOT NULL, last_scn INTEGER NOT NULL, PRIMARY KEY(dataset_id, shadow_table));';
}
