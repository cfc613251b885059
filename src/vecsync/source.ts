/**
 * Where a replicator reads the change log from: a MySQL / MariaDB server (mysql2) or a SQLite
 * upstream (better-sqlite3). Both read `vec_shadow_log` per dataset in SCN order, and can take
 * a consistent snapshot of a dataset's documents for a full resync.
 */
import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { LogEntry } from './models';
import { VecsqliteError } from '../errors';
import { mysqlQualified, sqliteQualified } from './ident';

/** A document row as stored in an upstream shadow table. */
export interface UpstreamDocument {
  dataset_id: string;
  id: string;
  content: string | null;
  meta: string | null;
  embedding: Buffer | null;
  embedding_model: string | null;
  scn: number | null;
  archived: number;
}

export interface LogSource {
  /** Datasets that have log rows for any of `shadowTables`. */
  datasets(shadowTables: string[]): Promise<string[]>;
  /** Up to `limit` log rows of `dataset` (all shadow tables) with scn > afterScn, in SCN order. */
  readBatch(dataset: string, afterScn: number, limit: number, options?: ReadOptions): Promise<LogEntry[]>;
  /** The highest SCN logged for `dataset` (0 when none). */
  maxScn(dataset: string): Promise<number>;
  /**
   * All documents of `dataset` in `shadowTable`, together with the SCN they reflect, read in one
   * consistent snapshot (for a full resync after a gap).
   */
  snapshot(shadowTable: string, dataset: string): Promise<{ scn: number; documents: UpstreamDocument[] }>;
  close(): Promise<void>;
  /** Replaces a lost connection by a new one (optional; follow() uses it to recover). */
  reconnect?(): Promise<void>;
}

/** Narrows a readBatch. */
export interface ReadOptions {
  /**
   * Only these shadow tables. The result is then the first entries of those tables alone: SCNs
   * of other tables of the dataset are missing, and a caller checking contiguity must read
   * again without this option when it sees a hole.
   */
  shadowTables?: string[];
  /** Only entries with scn <= upToScn. */
  upToScn?: number;
}

function toEntry(r: Record<string, unknown>): LogEntry {
  return {
    datasetId: String(r.dataset_id),
    shadowTable: String(r.shadow_table),
    scn: Number(r.scn),
    op: String(r.op),
    documentId: String(r.document_id),
    payload: r.payload as Buffer | string,
    createdAt: (r.created_at as Date | string | undefined) ?? null,
  };
}

/** Reads the log from MySQL / MariaDB. `connection` is a mysql2/promise connection. */
export class MysqlLogSource implements LogSource {
  private conn: import('mysql2/promise').Connection;
  private url?: string;
  /** The last error the connection reported while idle (e.g. killed by the server). */
  lastError: Error | null = null;

  // mysql2/promise Connection; typed loosely so mysql2 stays an implementation detail.
  constructor(conn: import('mysql2/promise').Connection, private readonly logTable = 'vec_shadow_log', private readonly seqTable = 'vec_dataset_scn') {
    this.conn = conn;
    this.watch(conn);
  }

  /** Opens a connection from a URL such as mysql://root@127.0.0.1:3306/test. */
  static async connect(url: string, logTable?: string, seqTable?: string): Promise<MysqlLogSource> {
    const source = new MysqlLogSource(await MysqlLogSource.open(url), logTable, seqTable);
    source.url = url;
    return source;
  }

  private static async open(url: string): Promise<import('mysql2/promise').Connection> {
    const mysql = await import('mysql2/promise');
    return mysql.createConnection({ uri: url, supportBigNumbers: true, bigNumberStrings: false, connectTimeout: 10000 });
  }

  /**
   * A connection that dies while idle emits 'error'; without a listener that would end the
   * process. The next query then fails with a fatal error, which follow() turns into a reconnect.
   */
  private watch(conn: import('mysql2/promise').Connection): void {
    conn.on('error', (e: Error) => {
      this.lastError = e;
    });
  }

  /** Opens a new connection from the URL given to connect() (sources built from a connection cannot). */
  async reconnect(): Promise<void> {
    if (!this.url) throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', 'MysqlLogSource: cannot reconnect a source built from a connection; use MysqlLogSource.connect(url)');
    const old = this.conn;
    const fresh = await MysqlLogSource.open(this.url);
    this.watch(fresh);
    this.conn = fresh;
    this.lastError = null;
    try {
      old.destroy();
    } catch {
      /* already gone */
    }
  }

  async datasets(shadowTables: string[]): Promise<string[]> {
    if (shadowTables.length === 0) return [];
    // Byte-exact: ids that the column's collation considers equal are listed separately.
    const [rows] = await this.conn.query(`SELECT DISTINCT CAST(dataset_id AS BINARY) AS d FROM ${mysqlQualified(this.logTable)} WHERE shadow_table IN (?) ORDER BY d`, [shadowTables]);
    return (rows as { d: Buffer | string }[]).map((r) => (Buffer.isBuffer(r.d) ? r.d.toString('utf8') : String(r.d)));
  }

  async readBatch(dataset: string, afterScn: number, limit: number, options: ReadOptions = {}): Promise<LogEntry[]> {
    const cols = `SELECT dataset_id, shadow_table, scn, op, document_id, payload FROM ${mysqlQualified(this.logTable)}`;
    const upTo = options.upToScn ?? Number.MAX_SAFE_INTEGER;
    if (!options.shadowTables || options.shadowTables.length === 0) {
      const [rows] = await this.conn.query(`${cols} WHERE dataset_id = ? AND scn > ? AND scn <= ? ORDER BY scn LIMIT ?`, [dataset, afterScn, upTo, limit]);
      return (rows as Record<string, unknown>[]).map(toEntry);
    }
    // One range scan of the primary key (dataset_id, shadow_table, scn) per table: no lookups
    // from the secondary index into the clustered rows, which dominate the cost otherwise.
    const parts: LogEntry[][] = [];
    for (const t of options.shadowTables) {
      const [rows] = await this.conn.query(`${cols} WHERE dataset_id = ? AND shadow_table = ? AND scn > ? AND scn <= ? ORDER BY scn LIMIT ?`, [dataset, t, afterScn, upTo, limit]);
      parts.push((rows as Record<string, unknown>[]).map(toEntry));
    }
    if (parts.length === 1) return parts[0];
    // A table that returned `limit` rows may have more beyond its last SCN: the merge is only
    // complete up to the smallest such SCN.
    let cutoff = Infinity;
    for (const p of parts) if (p.length === limit) cutoff = Math.min(cutoff, p[p.length - 1].scn);
    return parts.flat().filter((e) => e.scn <= cutoff).sort((a, b) => a.scn - b.scn).slice(0, limit);
  }

  async maxScn(dataset: string): Promise<number> {
    const [rows] = await this.conn.query(`SELECT COALESCE(MAX(scn), 0) AS m FROM ${mysqlQualified(this.logTable)} WHERE dataset_id = ?`, [dataset]);
    return Number((rows as { m: number }[])[0].m);
  }

  async snapshot(shadowTable: string, dataset: string): Promise<{ scn: number; documents: UpstreamDocument[] }> {
    // One REPEATABLE READ snapshot: the counter and the documents agree with each other.
    await this.conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    await this.conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT');
    try {
      const [seq] = await this.conn.query(`SELECT next_scn FROM ${mysqlQualified(this.seqTable)} WHERE dataset_id = ?`, [dataset]);
      const scn = (seq as { next_scn: number }[]).length ? Number((seq as { next_scn: number }[])[0].next_scn) : 0;
      const [docs] = await this.conn.query(
        `SELECT dataset_id, id, content, meta, embedding, embedding_model, scn, archived FROM ${mysqlQualified(shadowTable)} WHERE dataset_id = ?`,
        [dataset],
      );
      await this.conn.query('COMMIT');
      return { scn, documents: docs as UpstreamDocument[] };
    } catch (e) {
      await this.conn.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.conn.end();
  }
}

/** Reads the log from a SQLite upstream (single-machine setups without MySQL). */
export class SqliteLogSource implements LogSource {
  constructor(private readonly db: SqliteDatabase, private readonly logTable = 'vec_shadow_log', private readonly seqTable = 'vec_dataset_scn') {}

  async datasets(shadowTables: string[]): Promise<string[]> {
    if (shadowTables.length === 0) return [];
    const marks = shadowTables.map(() => '?').join(', ');
    return this.db.prepare(`SELECT DISTINCT dataset_id FROM ${sqliteQualified(this.logTable)} WHERE shadow_table IN (${marks}) ORDER BY dataset_id`).pluck().all(...shadowTables) as string[];
  }

  async readBatch(dataset: string, afterScn: number, limit: number, options: ReadOptions = {}): Promise<LogEntry[]> {
    const upTo = options.upToScn ?? Number.MAX_SAFE_INTEGER;
    const tables = options.shadowTables && options.shadowTables.length > 0 ? options.shadowTables : null;
    const sql = `SELECT * FROM ${sqliteQualified(this.logTable)} WHERE dataset_id = ? AND scn > ? AND scn <= ?${tables ? ` AND shadow_table IN (${tables.map(() => '?').join(', ')})` : ''} ORDER BY scn LIMIT ?`;
    const rows = this.db.prepare(sql).all(dataset, afterScn, upTo, ...(tables ?? []), limit) as Record<string, unknown>[];
    return rows.map(toEntry);
  }

  async maxScn(dataset: string): Promise<number> {
    return Number(this.db.prepare(`SELECT COALESCE(MAX(scn), 0) FROM ${sqliteQualified(this.logTable)} WHERE dataset_id = ?`).pluck().get(dataset));
  }

  async snapshot(shadowTable: string, dataset: string): Promise<{ scn: number; documents: UpstreamDocument[] }> {
    // A read transaction is one snapshot in SQLite.
    return this.db.transaction(() => {
      const scn = Number(this.db.prepare(`SELECT COALESCE((SELECT next_scn FROM ${sqliteQualified(this.seqTable)} WHERE dataset_id = ?), 0)`).pluck().get(dataset));
      const documents = this.db.prepare(`SELECT dataset_id, id, content, meta, embedding, embedding_model, scn, archived FROM ${sqliteQualified(shadowTable)} WHERE dataset_id = ?`).all(dataset) as UpstreamDocument[];
      return { scn, documents };
    })();
  }

  async close(): Promise<void> {
    /* the caller owns the connection */
  }
}
