/**
 * `vecsqlite search`: the k nearest rows of a vec0 table to a vector (--vector), a text turned
 * into a vector by an external command (--text with --embed-cmd), or a hybrid keyword + vector
 * search (--text with --fts, fused by vec_hybrid).
 */
import { execSync } from 'child_process';
import { Command, Option } from 'commander';
import { hybridSearch } from '../hybrid';
import { collect, positiveInt } from './options';
import { CliError, openDatabase, output, parseVectorArg, quoteIdent, table, vectorTable, type DB } from './common';

interface SearchOptions {
  db: string; table: string; vector?: string; text?: string; embedCmd?: string; fts?: string; k: number;
  fusion: 'rrf' | 'weighted'; filter?: string[]; column?: string; json?: boolean;
}

/** Runs `cmd` with `text` on stdin; its stdout must be a JSON array of numbers. */
export function embedText(cmd: string, text: string): Float32Array {
  let out: string;
  try {
    out = execSync(cmd, { input: text, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 60000 });
  } catch (e) {
    const err = e as { status?: number; stderr?: string };
    throw new CliError(`--embed-cmd failed (exit ${err.status ?? '?'}): ${(err.stderr ?? '').trim().split('\n').pop() || (e as Error).message}`);
  }
  return parseVectorArg(out.trim(), '--embed-cmd output');
}

function parseFilters(list: string[] | undefined): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const f of list ?? []) {
    const i = f.indexOf('=');
    if (i <= 0) throw new CliError(`--filter: expected column=value, received "${f}"`, 2);
    const v = f.slice(i + 1);
    out[f.slice(0, i)] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
  }
  return out;
}

/** The first column of the FTS5 row, for display (empty when the index keeps no content). */
function snippetOf(db: DB, fts: string, rowid: number): string {
  try {
    const r = db.prepare(`select * from ${quoteIdent(fts)} where rowid = ?`).raw().get(rowid) as unknown[] | undefined;
    return r && typeof r[0] === 'string' ? r[0].replace(/\s+/g, ' ').slice(0, 60) : '';
  } catch {
    return '';
  }
}

export function runSearch(o: SearchOptions): { rows: Record<string, unknown>[]; mode: string } {
  if (o.vector === undefined && o.text === undefined) throw new CliError('pass --vector \'[…]\' or --text "…"', 2);
  if (o.text !== undefined && !o.embedCmd && !o.fts) throw new CliError('--text needs --embed-cmd <command> (text -> vector) or --fts <table> (keyword side of a hybrid search)', 2);
  const db = openDatabase(o.db, true);
  try {
    const t = vectorTable(db, o.table, o.column);
    let vector: Float32Array | null = o.vector !== undefined ? parseVectorArg(o.vector) : null;
    if (vector === null && o.text !== undefined && o.embedCmd) vector = embedText(o.embedCmd, o.text);
    if (vector !== null && vector.length !== t.dims) {
      throw new CliError(`the query vector has ${vector.length} dimensions, ${o.table}.${t.column} is float[${t.dims}]`, 2);
    }
    const filter = parseFilters(o.filter);
    if (o.fts && o.text !== undefined) {
      const hits = hybridSearch(db, o.fts, o.table, o.text, vector, o.k, { fusion: o.fusion, column: t.column, ...(Object.keys(filter).length ? { filter } : {}) });
      return {
        mode: vector ? 'hybrid' : 'keyword',
        rows: hits.map((h) => ({ ...h, text: snippetOf(db, o.fts!, h.rowid) })),
      };
    }
    if (vector === null) throw new CliError('no query vector', 2);
    const where = Object.keys(filter).map((c) => ` and ${quoteIdent(c)} = ?`).join('');
    const rows = db.prepare(`select rowid, distance from ${quoteIdent(o.table)} where ${quoteIdent(t.column)} match ? and k = ?${where}`)
      .all(Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength), o.k, ...Object.values(filter)) as { rowid: number; distance: number }[];
    return { mode: 'vector', rows: rows.map((r, i) => ({ rank: i + 1, ...r })) };
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message);
  } finally {
    db.close();
  }
}

export function searchCommand(): Command {
  return new Command('search')
    .description('k nearest rows of a vec0 table to a vector, an embedded text, or a hybrid keyword + vector query')
    .requiredOption('--db <file>', 'SQLite database file')
    .requiredOption('--table <name>', 'vec0 table')
    .option('--vector <json>', "query vector as a JSON array, e.g. '[0.1, 0.2]'")
    .option('--text <text>', 'query text (needs --embed-cmd and/or --fts)')
    .option('--embed-cmd <command>', 'shell command that reads a text on stdin and prints its vector as a JSON array')
    .option('--fts <table>', 'FTS5 table for the keyword side: --text runs a hybrid search (keyword only without a vector)')
    .option('-k, --k <n>', 'rows to return', positiveInt, 10)
    .addOption(new Option('--fusion <kind>', 'hybrid fusion').choices(['rrf', 'weighted']).default('rrf'))
    .option('--filter <column=value>', 'equality filter on a partition-key or metadata column (repeatable)', collect)
    .option('--column <name>', 'vector column (default: the first one)')
    .option('--json', 'print the rows as JSON')
    .action((o: SearchOptions) => {
      const r = runSearch(o);
      output(!!o.json, r.rows, () => {
        if (r.rows.length === 0) return '(no rows)';
        if (r.mode === 'vector') return table(r.rows.map((x) => [x.rank as number, x.rowid as number, x.distance as number]), ['rank', 'rowid', 'distance']);
        return table(r.rows.map((x) => [x.rowid as number, x.score as number, x.textRank as number | null, x.vecRank as number | null, x.text as string]), ['rowid', 'score', 'text_rank', 'vec_rank', 'text']);
      });
    });
}
