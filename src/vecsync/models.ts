/** Typed models of the vecsync change log. */

export type LogOp = 'insert' | 'update' | 'delete';

/** One row of `vec_shadow_log`. */
export interface LogEntry {
  datasetId: string;
  shadowTable: string;
  scn: number;
  op: string;
  documentId: string;
  /** The JSON payload as stored (BLOB or TEXT). */
  payload: Buffer | string;
  createdAt?: Date | string | null;
}

/** One row of `vec_sync_state`: how far a replica has applied the log. */
export interface SyncState {
  datasetId: string;
  shadowTable: string;
  lastScn: number;
  updatedAt?: Date | string | null;
}

/** What to replicate: a dataset of an upstream shadow table. */
export interface Config {
  datasetId: string;
  /** The upstream shadow table as it appears in the log's shadow_table column, e.g. `shadow_vec_docs`. */
  shadowTable: string;
  batchSize: number;
}

/** The decoded payload of an insert / update / delete entry (keys in the order the triggers write them). */
export interface DocumentPayload {
  dataset_id: string;
  id: string;
  content: string | null;
  meta: string | null;
  /** Lowercase hex of the little-endian float32 blob; '' or null for no embedding. */
  embedding: string | null;
  embedding_model: string | null;
  scn: number | null;
  archived: number;
}
