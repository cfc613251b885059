/**
 * The vecsync replicator: applies an upstream change log (`vec_shadow_log`, MySQL / MariaDB or
 * SQLite) to local SQLite tables in the `_vec_<t>` layout that the `vec` table reads.
 *
 * Per dataset, entries are read in SCN order (SCNs are per dataset and shared by all shadow
 * tables of that dataset) and applied in batches. Each batch is ONE SQLite transaction that
 * also advances `vec_sync_state.last_scn` for every mapped (dataset, shadow table), so a crash
 * between apply and checkpoint leaves nothing half-done, and a batch read again after a crash
 * skips every entry at or below the checkpoint: each change takes effect exactly once.
 *
 *   insert / update -> upsert of the payload row (INSERT OR REPLACE upstream converges too)
 *   delete          -> delete by (dataset_id, id)
 *   archived        -> carried by insert / update payloads (archive and reactivate are updates)
 *
 * The log must be contiguous: the next entry of a dataset must carry last_scn + 1. A gap (log
 * pruned, rows lost) stops that dataset with ScnGapError; the documented recovery is
 * `resync(dataset)`: a full copy of the dataset's documents from the upstream shadow table, read
 * in one consistent snapshot together with the SCN it reflects.
 * A malformed payload or an unknown op stops the batch with VecsyncApplyError and applies
 * nothing of it. After each committed batch the dataset's vector index is invalidated with
 * `vec_invalidate(<schema>.<local table>, dataset)` when the vecsqlite extension is loaded.
 */
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { VecsqliteError, checkOptions } from '../errors';
import { load } from '../index';
import { shadowTableDDL, syncStateDDL } from './ddl';
import { sqliteIdent, sqliteQualified, splitQualified } from './ident';
import { checkTableArg } from './args';
import { logShadowTableName } from './triggers';
import type { DocumentPayload, LogEntry } from './models';
import type { LogSource, UpstreamDocument } from './source';

export interface TableMapping {
  /** The upstream table as named in the log's shadow_table column, e.g. `shadow_vec_docs`. */
  upstream: string;
  /** The local table, e.g. `_vec_docs` (optionally schema-qualified: `main._vec_docs`). */
  local: string;
}

export interface ReplicatorOptions {
  source: LogSource;
  /** The local SQLite database (better-sqlite3); load vecsqlite into it to get index invalidation. */
  target: SqliteDatabase;
  tables: TableMapping[];
  /** Replicate only these datasets (default: every dataset found in the log). */
  datasets?: string[];
  /** Log entries per transaction (default 500). */
  batchSize?: number;
  /** On a gap, resync the dataset automatically instead of stopping (default false). */
  resyncOnGap?: boolean;
  /**
   * Called for each dataset that fails in a pass (the other datasets go on); with it, catchUp()
   * reports failures in `result.failed` instead of throwing.
   */
  onDatasetError?: (dataset: string, error: Error) => void;
}

export interface Progress {
  dataset: string;
  applied: number;
  lastScn: number;
  targetScn: number;
}

export interface CatchUpResult {
  applied: number;
  batches: number;
  datasets: Record<string, number>;
  resynced: string[];
  /** Datasets that could not be replicated in this pass, with the reason. */
  failed: { dataset: string; message: string }[];
}

export class ScnGapError extends VecsqliteError {
  constructor(readonly dataset: string, readonly expected: number, readonly found: number) {
    super('VECSQLITE_INVALID_ARGUMENT', `vecsync: SCN gap in dataset ${JSON.stringify(dataset)}: expected scn ${expected}, found ${found}; resync the dataset (Replicator.resync or vecsqlite sync --resync-on-gap)`);
    this.name = 'ScnGapError';
  }
}

export class VecsyncApplyError extends VecsqliteError {
  constructor(readonly entry: Pick<LogEntry, 'datasetId' | 'shadowTable' | 'scn'>, reason: string) {
    super('VECSQLITE_INVALID_ARGUMENT', `vecsync: cannot apply ${entry.shadowTable} dataset ${JSON.stringify(entry.datasetId)} scn ${entry.scn}: ${reason}; nothing of this batch was applied`);
    this.name = 'VecsyncApplyError';
  }
}

/** Validates and decodes one payload; throws a reason string on malformed input. */
export function decodePayload(entry: LogEntry): DocumentPayload & { embeddingBlob: Buffer | null } {
  if (entry === null || typeof entry !== 'object' || (typeof entry.payload !== 'string' && !Buffer.isBuffer(entry.payload))) {
    throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `decodePayload: expected entry to be a LogEntry with a string or Buffer payload, received ${entry === null ? 'null' : typeof entry === 'object' ? `payload of type ${typeof entry.payload}` : typeof entry}`);
  }
  const text = Buffer.isBuffer(entry.payload) ? entry.payload.toString('utf8') : String(entry.payload);
  let p: unknown;
  try {
    p = JSON.parse(text);
  } catch (e) {
    throw new VecsyncApplyError(entry, `payload is not valid JSON (${(e as Error).message})`);
  }
  if (p === null || typeof p !== 'object' || Array.isArray(p)) throw new VecsyncApplyError(entry, 'payload is not a JSON object');
  const o = p as Record<string, unknown>;
  const str = (k: string, nullable: boolean): string | null => {
    const v = o[k];
    if (v === null || v === undefined) {
      if (nullable) return null;
      throw new VecsyncApplyError(entry, `payload field ${k} is missing`);
    }
    if (typeof v !== 'string') throw new VecsyncApplyError(entry, `payload field ${k} must be a string, found ${typeof v}`);
    return v;
  };
  const datasetId = str('dataset_id', false)!;
  const id = str('id', false)!;
  if (datasetId !== entry.datasetId) throw new VecsyncApplyError(entry, `payload dataset_id ${JSON.stringify(datasetId)} differs from the log row's ${JSON.stringify(entry.datasetId)}`);
  if (id !== entry.documentId) throw new VecsyncApplyError(entry, `payload id ${JSON.stringify(id)} differs from the log row's document_id ${JSON.stringify(entry.documentId)}`);
  const hex = str('embedding', true);
  let embeddingBlob: Buffer | null = null;
  if (hex !== null && hex !== '') {
    // Buffer.from stops at the first pair that is not hex, so a full-length result proves the
    // whole string is hex (much cheaper than a regular expression over 3 KB strings).
    embeddingBlob = Buffer.from(hex, 'hex');
    if (embeddingBlob.length * 2 !== hex.length) throw new VecsyncApplyError(entry, 'payload embedding is not a hex string');
    if (hex.length % 8 !== 0) throw new VecsyncApplyError(entry, `payload embedding has ${hex.length / 2} bytes, not a multiple of 4 (float32)`);
  }
  const num = (k: string, def: number | null): number | null => {
    const v = o[k];
    if (v === null || v === undefined) return def;
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new VecsyncApplyError(entry, `payload field ${k} must be a number`);
    return v;
  };
  const archived = num('archived', 0)!;
  if (archived !== 0 && archived !== 1) throw new VecsyncApplyError(entry, `payload archived must be 0 or 1, found ${archived}`);
  return {
    dataset_id: datasetId,
    id,
    content: str('content', true),
    meta: str('meta', true),
    embedding: hex,
    embedding_model: str('embedding_model', true),
    scn: num('scn', null),
    archived,
    embeddingBlob,
  };
}

interface LocalTable {
  /** The upstream table as the log names it (unqualified). */
  upstream: string;
  /** The upstream table as the caller named it (for snapshots). */
  snapshotName: string;
  local: string;
  /** `schema.table`, the name vec_invalidate expects. */
  qualifiedForInvalidate: string;
  /** The local embedding column is NOT NULL (db/schema/sqlite/schema.ddl): keep '' for no vector. */
  embeddingNotNull: boolean;
  upsert: import('better-sqlite3').Statement;
  remove: import('better-sqlite3').Statement;
  clear: import('better-sqlite3').Statement;
  /** INSERT OR IGNORE of the parent row when dataset_id references another table (foreign key). */
  parents: import('better-sqlite3').Statement[];
}

/** One dataset that could not be replicated in a pass; the others went on. */
export interface DatasetFailure {
  dataset: string;
  error: Error;
}

/**
 * Thrown by catchUp() when several datasets failed (each of the others was replicated); a single
 * failure is rethrown as itself. `failures` lists them, `result` is what was applied.
 */
export class VecsyncDatasetsError extends VecsqliteError {
  constructor(readonly failures: DatasetFailure[], readonly result: CatchUpResult) {
    super('VECSQLITE_INVALID_ARGUMENT', `vecsync: ${failures.length} datasets failed (the others were replicated): ${failures.map((f) => f.error.message).join(' | ')}`);
    this.name = 'VecsyncDatasetsError';
  }
}

export interface FollowOptions {
  /** Called after each pass that applied something. */
  onBatch?: (r: CatchUpResult) => void;
  /**
   * Called before each reconnection attempt after the source lost its connection: attempt
   * number (from 1), the delay before it and the error. Without a source that can reconnect,
   * a lost connection ends follow() with the error.
   */
  onReconnect?: (attempt: number, delayMs: number, error: Error) => void;
  /** First reconnection delay (default 100 ms); it doubles per failed attempt up to maxBackoffMs. */
  initialBackoffMs?: number;
  /** Cap of the reconnection delay (default 30000 ms). */
  maxBackoffMs?: number;
}

/** True for errors meaning the connection to the source is gone (mysql2 marks them fatal). */
export function isConnectionError(e: unknown): boolean {
  if (!e || typeof e !== 'object') return false;
  const x = e as { fatal?: boolean; code?: string; errno?: number; message?: string };
  if (x.fatal === true) return true;
  if (x.code && ['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ER_CONNECTION_KILLED', 'ER_SERVER_SHUTDOWN', 'PROTOCOL_SEQUENCE_TIMEOUT'].includes(x.code)) return true;
  if (x.errno === 1927 || x.errno === 2006 || x.errno === 2013) return true;
  return /closed state|connection lost|Connection was killed/i.test(x.message ?? '');
}

export class Replicator {
  private readonly source: LogSource;
  private readonly db: SqliteDatabase;
  private readonly batchSize: number;
  private readonly tables = new Map<string, LocalTable>();
  private readonly onlyDatasets?: Set<string>;
  private readonly resyncOnGap: boolean;
  private readonly onDatasetError?: (dataset: string, error: Error) => void;
  private stopped = false;
  private wake: (() => void) | null = null;
  private readonly getState: import('better-sqlite3').Statement;
  private readonly putState: import('better-sqlite3').Statement;
  private invalidate: import('better-sqlite3').Statement | null = null;

  constructor(options: ReplicatorOptions) {
    checkOptions('Replicator', options, ['source', 'target', 'tables', 'datasets', 'batchSize', 'resyncOnGap', 'onDatasetError']);
    if (!options || typeof options !== 'object') throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', 'Replicator: expected an options object {source, target, tables}');
    if (!options.source || typeof options.source.readBatch !== 'function') throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', 'Replicator: expected source to be a LogSource (MysqlLogSource or SqliteLogSource)');
    if (!options.target || typeof options.target.prepare !== 'function') throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', 'Replicator: expected target to be a better-sqlite3 Database');
    if (!Array.isArray(options.tables) || options.tables.length === 0) throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', 'Replicator: expected at least one table mapping {upstream, local}');
    this.source = options.source;
    this.db = options.target;
    this.batchSize = options.batchSize ?? 500;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `Replicator: expected batchSize to be a positive integer, received ${options.batchSize}`);
    this.onlyDatasets = options.datasets ? new Set(options.datasets) : undefined;
    this.resyncOnGap = !!options.resyncOnGap;
    this.onDatasetError = options.onDatasetError;
    this.ensureExtension();
    this.db.exec(syncStateDDL());
    for (const m of options.tables) {
      if (!m || typeof m !== 'object') throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `Replicator: expected table mappings {upstream, local}, received ${JSON.stringify(m)}`);
      checkTableArg('Replicator', 'tables[].upstream', m.upstream);
      checkTableArg('Replicator', 'tables[].local', m.local);
      const upstream = logShadowTableName(m.upstream);
      if (this.tables.has(upstream)) throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `Replicator: upstream table ${JSON.stringify(upstream)} is mapped twice`);
      const [schema, table] = splitQualified(m.local);
      // The _vec_<t> layout (ddl.shadowTableDDL), with the local name always quoted.
      const layout = shadowTableDDL('t');
      this.db.exec(`CREATE TABLE IF NOT EXISTS ${sqliteQualified(m.local)}` + layout.slice('CREATE TABLE IF NOT EXISTS t'.length));
      const q = sqliteQualified(m.local);
      const schemaQ = sqliteIdent(schema ?? 'main');
      const cols = this.db.prepare(`SELECT name, "notnull" AS nn FROM ${schemaQ}.pragma_table_info(?)`).all(table) as { name: string; nn: number }[];
      const fks = this.db.prepare(`SELECT "table" AS parent, "from" AS col, "to" AS ref FROM ${schemaQ}.pragma_foreign_key_list(?)`).all(table) as { parent: string; col: string; ref: string | null }[];
      const parents = fks
        .filter((f) => f.col === 'dataset_id')
        .map((f) => this.db.prepare(`INSERT OR IGNORE INTO ${schemaQ}.${sqliteIdent(f.parent)}(${sqliteIdent(f.ref ?? 'dataset_id')}) VALUES (?)`));
      this.tables.set(upstream, {
        upstream,
        snapshotName: m.upstream,
        local: m.local,
        qualifiedForInvalidate: `${schema ?? 'main'}.${table}`,
        embeddingNotNull: cols.some((c) => c.name === 'embedding' && c.nn === 1),
        upsert: this.db.prepare(`INSERT INTO ${q}(dataset_id, id, content, meta, embedding, embedding_model, scn, archived) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT(dataset_id, id) DO UPDATE SET content = excluded.content, meta = excluded.meta, embedding = excluded.embedding,
          embedding_model = excluded.embedding_model, scn = excluded.scn, archived = excluded.archived`),
        remove: this.db.prepare(`DELETE FROM ${q} WHERE dataset_id = ? AND id = ?`),
        clear: this.db.prepare(`DELETE FROM ${q} WHERE dataset_id = ?`),
        parents,
      });
    }
    this.getState = this.db.prepare('SELECT last_scn FROM vec_sync_state WHERE dataset_id = ? AND shadow_table = ?').pluck();
    this.putState = this.db.prepare('INSERT INTO vec_sync_state(dataset_id, shadow_table, last_scn) VALUES (?, ?, ?) ON CONFLICT(dataset_id, shadow_table) DO UPDATE SET last_scn = excluded.last_scn');
    try {
      this.invalidate = this.db.prepare('SELECT vec_invalidate(?, ?)');
    } catch {
      this.invalidate = null; // extension not available: the data stays consistent, only no cache to drop
    }
  }

  /**
   * Loads vecsqlite into the target when its functions are missing: `vec` tables install
   * triggers on their data table that call vec_invalidate, so writing it needs the extension.
   * If it cannot be loaded, replication still works for tables without such triggers.
   */
  private ensureExtension(): void {
    const has = this.db.prepare("SELECT count(*) FROM pragma_function_list WHERE name = 'vec_invalidate'").pluck().get() as number;
    if (has > 0) return;
    try {
      load(this.db);
    } catch {
      /* not loadable here: a write through a vec trigger will then name the missing function */
    }
  }

  /** The dataset's checkpoint: the lowest last_scn over the mapped tables (0 when new). */
  lastScn(dataset: string): number {
    let min = Infinity;
    for (const t of this.tables.values()) min = Math.min(min, Number(this.getState.get(dataset, t.upstream) ?? 0));
    return min === Infinity ? 0 : min;
  }

  /** Asks a running catchUp / follow loop to stop after the current batch. */
  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /**
   * Applies everything logged so far, dataset by dataset. A dataset whose entries cannot be
   * applied (malformed payload, SCN gap without resyncOnGap, local constraint) is skipped for
   * this pass while the others are replicated; the failures are reported to onDatasetError, or,
   * without it, thrown once every dataset was tried (one failure as itself, several as a
   * VecsyncDatasetsError). Errors of the source itself (e.g. a lost connection) end the pass.
   */
  async catchUp(onProgress?: (p: Progress) => void): Promise<CatchUpResult> {
    const result: CatchUpResult = { applied: 0, batches: 0, datasets: {}, resynced: [], failed: [] };
    const datasets = (await this.source.datasets([...this.tables.keys()])).filter((d) => !this.onlyDatasets || this.onlyDatasets.has(d));
    for (const d of this.onlyDatasets ?? []) if (!datasets.includes(d)) datasets.push(d);
    const failures: DatasetFailure[] = [];
    for (const dataset of datasets) {
      if (this.stopped) break;
      let applied = 0;
      try {
        applied = await this.catchUpDataset(dataset, result, onProgress);
      } catch (e) {
        if (!(e instanceof DatasetApplyFailure)) throw e;
        applied = e.applied;
        failures.push({ dataset, error: e.cause });
        result.failed.push({ dataset, message: e.cause.message });
        this.onDatasetError?.(dataset, e.cause);
      }
      result.datasets[dataset] = applied;
      result.applied += applied;
    }
    if (failures.length > 0 && !this.onDatasetError) {
      if (failures.length === 1) throw failures[0].error;
      throw new VecsyncDatasetsError(failures, result);
    }
    return result;
  }

  /**
   * One dataset's catch-up. The next batch is read from the source while the current one is
   * applied, so the source's latency overlaps the local writes.
   */
  private async catchUpDataset(dataset: string, result: CatchUpResult, onProgress?: (p: Progress) => void): Promise<number> {
    const targetScn = await this.source.maxScn(dataset);
    let applied = 0;
    let pending: Promise<LogEntry[]> | null = null;
    const discard = () => {
      pending?.catch(() => undefined);
      pending = null;
    };
    // Reads only the mapped tables (the fast path); when their SCNs leave a hole (entries of an
    // unmapped table of the same dataset, or a real gap), the batch is read again over every
    // table, so contiguity is judged on the whole log.
    const tables = [...this.tables.keys()];
    let everyTable = false;
    const readAll = (after: number) => this.source.readBatch(dataset, after, this.batchSize, { upToScn: targetScn });
    const read = (after: number) => (everyTable ? readAll(after) : this.source.readBatch(dataset, after, this.batchSize, { shadowTables: tables, upToScn: targetScn }));
    const contiguous = (after: number, es: LogEntry[]) => es.every((e, i) => e.scn === after + 1 + i);
    try {
      for (;;) {
        if (this.stopped) break;
        const last = this.lastScn(dataset);
        if (last >= targetScn) break;
        let entries: LogEntry[] = await (pending ?? read(last));
        pending = null;
        if (entries.length > 0 && !everyTable && !contiguous(last, entries)) {
          everyTable = true;
          entries = await readAll(last);
        }
        if (entries.length === 0) break;
        const lastRead = entries[entries.length - 1].scn;
        if (lastRead < targetScn && entries.length === this.batchSize) pending = read(lastRead);
        try {
          applied += this.applyBatch(dataset, entries);
        } catch (e) {
          discard();
          if (e instanceof ScnGapError && this.resyncOnGap) {
            await this.resync(dataset);
            result.resynced.push(dataset);
            continue;
          }
          throw new DatasetApplyFailure(e as Error, applied);
        }
        result.batches++;
        onProgress?.({ dataset, applied, lastScn: this.lastScn(dataset), targetScn });
      }
    } finally {
      discard();
    }
    return applied;
  }

  /**
   * Catches up, then polls every `intervalMs` until stop() ends it. When the source loses its
   * connection, it reconnects with exponential backoff (100 ms doubling up to 30 s by default),
   * reporting each attempt to `onReconnect`, and goes on where the checkpoint stands.
   */
  async follow(intervalMs = 1000, onBatchOrOptions?: ((r: CatchUpResult) => void) | FollowOptions): Promise<void> {
    const opts: FollowOptions = typeof onBatchOrOptions === 'function' ? { onBatch: onBatchOrOptions } : onBatchOrOptions ?? {};
    checkOptions('Replicator.follow', opts, ['onBatch', 'onReconnect', 'initialBackoffMs', 'maxBackoffMs']);
    const initial = opts.initialBackoffMs ?? 100;
    const cap = opts.maxBackoffMs ?? 30000;
    for (const [k, v] of [['initialBackoffMs', initial], ['maxBackoffMs', cap]] as const) {
      if (!Number.isFinite(v) || v < 0) throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `Replicator.follow: expected ${k} to be a non-negative number, received ${v}`);
    }
    while (!this.stopped) {
      try {
        const r = await this.catchUp();
        if (r.applied > 0) opts.onBatch?.(r);
      } catch (e) {
        if (!isConnectionError(e) || typeof this.source.reconnect !== 'function') throw e;
        await this.reconnect(e as Error, initial, cap, opts.onReconnect);
        continue;
      }
      if (this.stopped) break;
      await this.sleep(intervalMs);
    }
  }

  private async reconnect(first: Error, initial: number, cap: number, onReconnect?: FollowOptions['onReconnect']): Promise<void> {
    let error = first;
    let delay = Math.min(initial, cap);
    for (let attempt = 1; !this.stopped; attempt++) {
      onReconnect?.(attempt, delay, error);
      await this.sleep(delay);
      if (this.stopped) return;
      try {
        await this.source.reconnect!();
        return;
      } catch (e) {
        error = e as Error;
        delay = Math.min(cap, Math.max(1, delay * 2));
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  /**
   * Applies one batch of a dataset's entries in one transaction. The checkpoint is read inside
   * that transaction, so entries at or below it are skipped whatever the caller believed (a batch
   * re-read after a crash changes nothing); the rest must be contiguous.
   * Returns the number of entries applied.
   */
  applyBatch(dataset: string, entries: LogEntry[]): number {
    let applied = 0;
    this.db.transaction(() => {
      const lastScn = this.lastScn(dataset);
      let expect = lastScn + 1;
      let newLast = lastScn;
      let parentsDone = false;
      for (const e of entries) {
        if (e.datasetId !== dataset) throw new VecsyncApplyError(e, `entry belongs to dataset ${JSON.stringify(e.datasetId)}, not ${JSON.stringify(dataset)}`);
        if (e.scn <= newLast) continue; // already applied
        if (e.scn !== expect) throw new ScnGapError(dataset, expect, e.scn);
        const t = this.tables.get(e.shadowTable);
        if (t) {
          if (e.op === 'insert' || e.op === 'update') {
            const p = decodePayload(e);
            if (!parentsDone) {
              for (const tt of this.tables.values()) for (const parent of tt.parents) parent.run(dataset);
              parentsDone = true;
            }
            const emb = p.embeddingBlob ?? (t.embeddingNotNull ? EMPTY : null);
            t.upsert.run(p.dataset_id, p.id, p.content, p.meta, emb, p.embedding_model, p.scn ?? 0, p.archived);
          } else if (e.op === 'delete') {
            decodePayload(e); // validated like the others: a corrupt entry stops the batch
            t.remove.run(e.datasetId, e.documentId);
          } else {
            throw new VecsyncApplyError(e, `unknown op ${JSON.stringify(e.op)} (expected insert, update or delete)`);
          }
          applied++;
        }
        newLast = e.scn;
        expect = e.scn + 1;
      }
      for (const t of this.tables.values()) this.putState.run(dataset, t.upstream, newLast);
    })();
    this.invalidateDataset(dataset);
    return applied;
  }

  /** Replaces the local copy of `dataset` with a consistent snapshot of the upstream documents. */
  async resync(dataset: string): Promise<number> {
    const snaps: { t: LocalTable; docs: UpstreamDocument[]; scn: number }[] = [];
    for (const t of this.tables.values()) {
      const s = await this.source.snapshot(t.snapshotName, dataset);
      snaps.push({ t, docs: s.documents, scn: s.scn });
    }
    // Each table's snapshot carries its own SCN; the checkpoint is the smallest, and the log
    // entries between are re-applied (idempotently) by the next catch-up.
    const scn = Math.min(...snaps.map((s) => s.scn));
    let n = 0;
    this.db.transaction(() => {
      if (snaps.some((s) => s.docs.length > 0)) for (const { t } of snaps) for (const parent of t.parents) parent.run(dataset);
      for (const { t, docs } of snaps) {
        t.clear.run(dataset);
        for (const d of docs) {
          // An empty upstream blob is "no vector", as on the log path.
          const emb = d.embedding && d.embedding.length > 0 ? d.embedding : t.embeddingNotNull ? EMPTY : null;
          t.upsert.run(d.dataset_id, d.id, d.content, d.meta, emb, d.embedding_model, d.scn ?? 0, Number(d.archived) ? 1 : 0);
          n++;
        }
        this.putState.run(dataset, t.upstream, scn);
      }
    })();
    this.invalidateDataset(dataset);
    return n;
  }

  private invalidateDataset(dataset: string): void {
    if (!this.invalidate) return;
    for (const t of this.tables.values()) this.invalidate.run(t.qualifiedForInvalidate, dataset);
  }
}

const EMPTY = Buffer.alloc(0);

/** Internal: an apply error of one dataset, with how much of it was applied before. */
class DatasetApplyFailure extends Error {
  constructor(readonly cause: Error, readonly applied: number) {
    super(cause.message);
  }
}
