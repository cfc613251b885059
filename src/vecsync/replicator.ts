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
import { VecsqliteError } from '../errors';
import { shadowTableDDL, syncStateDDL } from './ddl';
import { sqliteQualified, splitQualified } from './ident';
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

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

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
    if (!HEX.test(hex)) throw new VecsyncApplyError(entry, 'payload embedding is not a hex string');
    if (hex.length % 8 !== 0) throw new VecsyncApplyError(entry, `payload embedding has ${hex.length / 2} bytes, not a multiple of 4 (float32)`);
    embeddingBlob = Buffer.from(hex, 'hex');
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
  upstream: string;
  local: string;
  /** `schema.table`, the name vec_invalidate expects. */
  qualifiedForInvalidate: string;
  upsert: import('better-sqlite3').Statement;
  remove: import('better-sqlite3').Statement;
  clear: import('better-sqlite3').Statement;
}

export class Replicator {
  private readonly source: LogSource;
  private readonly db: SqliteDatabase;
  private readonly batchSize: number;
  private readonly tables = new Map<string, LocalTable>();
  private readonly onlyDatasets?: Set<string>;
  private readonly resyncOnGap: boolean;
  private stopped = false;
  private readonly getState: import('better-sqlite3').Statement;
  private readonly putState: import('better-sqlite3').Statement;
  private invalidate: import('better-sqlite3').Statement | null = null;

  constructor(options: ReplicatorOptions) {
    const allowed = ['source', 'target', 'tables', 'datasets', 'batchSize', 'resyncOnGap'];
    for (const k of Object.keys(options)) {
      if (!allowed.includes(k)) throw new VecsqliteError('VECSQLITE_UNKNOWN_OPTION', `Replicator: unknown option "${k}" (allowed: ${allowed.join(', ')})`);
    }
    if (!options.tables || options.tables.length === 0) throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', 'Replicator: expected at least one table mapping {upstream, local}');
    this.source = options.source;
    this.db = options.target;
    this.batchSize = options.batchSize ?? 500;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `Replicator: expected batchSize to be a positive integer, received ${options.batchSize}`);
    this.onlyDatasets = options.datasets ? new Set(options.datasets) : undefined;
    this.resyncOnGap = !!options.resyncOnGap;
    this.db.exec(syncStateDDL());
    for (const m of options.tables) {
      const [schema, table] = splitQualified(m.local);
      // The _vec_<t> layout (ddl.shadowTableDDL), with the local name always quoted.
      const layout = shadowTableDDL('t');
      this.db.exec(`CREATE TABLE IF NOT EXISTS ${sqliteQualified(m.local)}` + layout.slice('CREATE TABLE IF NOT EXISTS t'.length));
      const q = sqliteQualified(m.local);
      this.tables.set(m.upstream, {
        upstream: m.upstream,
        local: m.local,
        qualifiedForInvalidate: `${schema ?? 'main'}.${table}`,
        upsert: this.db.prepare(`INSERT INTO ${q}(dataset_id, id, content, meta, embedding, embedding_model, scn, archived) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
          ON CONFLICT(dataset_id, id) DO UPDATE SET content = excluded.content, meta = excluded.meta, embedding = excluded.embedding,
          embedding_model = excluded.embedding_model, scn = excluded.scn, archived = excluded.archived`),
        remove: this.db.prepare(`DELETE FROM ${q} WHERE dataset_id = ? AND id = ?`),
        clear: this.db.prepare(`DELETE FROM ${q} WHERE dataset_id = ?`),
      });
    }
    this.getState = this.db.prepare('SELECT last_scn FROM vec_sync_state WHERE dataset_id = ? AND shadow_table = ?').pluck();
    this.putState = this.db.prepare('INSERT INTO vec_sync_state(dataset_id, shadow_table, last_scn) VALUES (?, ?, ?) ON CONFLICT(dataset_id, shadow_table) DO UPDATE SET last_scn = excluded.last_scn');
    try {
      this.invalidate = this.db.prepare('SELECT vec_invalidate(?, ?)');
    } catch {
      this.invalidate = null; // extension not loaded: the data stays consistent, only no cache to drop
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
  }

  /** Applies everything logged so far, dataset by dataset. */
  async catchUp(onProgress?: (p: Progress) => void): Promise<CatchUpResult> {
    const result: CatchUpResult = { applied: 0, batches: 0, datasets: {}, resynced: [] };
    const datasets = (await this.source.datasets([...this.tables.keys()])).filter((d) => !this.onlyDatasets || this.onlyDatasets.has(d));
    for (const d of this.onlyDatasets ?? []) if (!datasets.includes(d)) datasets.push(d);
    for (const dataset of datasets) {
      if (this.stopped) break;
      const targetScn = await this.source.maxScn(dataset);
      let applied = 0;
      for (;;) {
        if (this.stopped) break;
        const last = this.lastScn(dataset);
        if (last >= targetScn) break;
        const entries = await this.source.readBatch(dataset, last, this.batchSize);
        if (entries.length === 0) break;
        try {
          applied += this.applyBatch(dataset, entries);
        } catch (e) {
          if (e instanceof ScnGapError && this.resyncOnGap) {
            await this.resync(dataset);
            result.resynced.push(dataset);
            continue;
          }
          throw e;
        }
        result.batches++;
        onProgress?.({ dataset, applied, lastScn: this.lastScn(dataset), targetScn });
      }
      result.datasets[dataset] = applied;
      result.applied += applied;
    }
    return result;
  }

  /** Catches up, then polls every `intervalMs` until stop() (or the signal) ends it. */
  async follow(intervalMs = 1000, onBatch?: (r: CatchUpResult) => void): Promise<void> {
    while (!this.stopped) {
      const r = await this.catchUp();
      if (r.applied > 0) onBatch?.(r);
      if (this.stopped) break;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
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
      for (const e of entries) {
        if (e.datasetId !== dataset) throw new VecsyncApplyError(e, `entry belongs to dataset ${JSON.stringify(e.datasetId)}, not ${JSON.stringify(dataset)}`);
        if (e.scn <= newLast) continue; // already applied
        if (e.scn !== expect) throw new ScnGapError(dataset, expect, e.scn);
        const t = this.tables.get(e.shadowTable);
        if (t) {
          if (e.op === 'insert' || e.op === 'update') {
            const p = decodePayload(e);
            t.upsert.run(p.dataset_id, p.id, p.content, p.meta, p.embeddingBlob, p.embedding_model, p.scn ?? 0, p.archived);
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
      const s = await this.source.snapshot(t.upstream, dataset);
      snaps.push({ t, docs: s.documents, scn: s.scn });
    }
    // Each table's snapshot carries its own SCN; the checkpoint is the smallest, and the log
    // entries between are re-applied (idempotently) by the next catch-up.
    const scn = Math.min(...snaps.map((s) => s.scn));
    let n = 0;
    this.db.transaction(() => {
      for (const { t, docs } of snaps) {
        t.clear.run(dataset);
        for (const d of docs) {
          // An empty upstream blob is "no vector", as on the log path.
          const emb = d.embedding && d.embedding.length > 0 ? d.embedding : null;
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
