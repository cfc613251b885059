/**
 * `vecsqlite import <file>`: loads vectors from .npy, .fvecs / .bvecs, JSON Lines, CSV or Parquet into a
 * vec0 table through bulkInsert, in one transaction: a bad row fails the whole import (naming
 * the file and line) unless --partial, which skips bad rows and lists them.
 */
import { Command, Option } from 'commander';
import { bulkInsert } from '../bulk';
import { CliError, openDatabase, output, progressBar, quoteIdent, tableKind, vectorTable } from './common';
import { InputError, readVectorsAsync, type Format } from './readers';
import { positiveInt } from './options';

interface ImportOptions {
  db: string; table: string; create?: boolean; dim?: number; format?: Format; column: string;
  metric?: string; partial?: boolean; fts?: string; json?: boolean; progress: boolean;
  vectorColumn?: string; idColumn?: string; textColumn?: string;
}

export async function runImport(file: string, o: ImportOptions): Promise<Record<string, unknown>> {
  const t0 = process.hrtime.bigint();
  let vf;
  try {
    vf = await readVectorsAsync(file, { format: o.format, dims: o.dim, partial: o.partial, vectorColumn: o.vectorColumn, idColumn: o.idColumn, textColumn: o.textColumn });
  } catch (e) {
    if (e instanceof InputError) throw new CliError(e.message, 2);
    throw e;
  }
  if (vf.rows === 0 && vf.skipped.length === 0) throw new CliError(`${file}: no vectors in the file`, 2);
  const db = openDatabase(o.db, false);
  try {
    const kind = tableKind(db, o.table);
    const textIds = vf.ids !== null && vf.ids.some((x) => typeof x === 'string');
    if (kind === null) {
      if (!o.create) throw new CliError(`no such table: ${o.table} (pass --create to create it)`, 2);
    } else if (o.create && kind !== 'vec0') {
      throw new CliError(`${o.table} exists and is not a vec0 table`, 2);
    }
    const write = db.transaction(() => {
      if (kind === null) {
        const metric = o.metric ? ` distance_metric=${o.metric}` : '';
        // vec0 declarations take bare column names
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(o.column)) throw new CliError(`--column: "${o.column}" is not a plain identifier`, 2);
        db.exec(`create virtual table ${quoteIdent(o.table)} using vec0(${textIds ? 'id text primary key, ' : ''}${o.column} float[${vf.dims}]${metric})`);
      }
      const t = vectorTable(db, o.table, kind === null ? o.column : undefined);
      if (vf.rows > 0 && t.dims !== vf.dims) {
        throw new CliError(`${file}: wrong dimensions: the file has ${vf.dims}-dimensional vectors, ${o.table}.${t.column} is float[${t.dims}]`, 2);
      }
      const pk = textIds ? 'id' : 'rowid';
      let ids = vf.ids;
      if (ids === null) {
        const start = Number(db.prepare(`select coalesce(max(rowid), 0) from ${quoteIdent(o.table)}`).pluck().get());
        ids = Array.from({ length: vf.rows }, (_, i) => start + 1 + i);
      }
      if (o.fts) {
        if (!vf.texts) throw new CliError(`${file}: --fts needs texts in the file (a "text" or "content" field or column)`, 2);
        if (textIds) throw new CliError(`--fts needs integer ids (the FTS5 rowid is the vector table's rowid)`, 2);
        db.exec(`create virtual table if not exists ${quoteIdent(o.fts)} using fts5(content)`);
        const ins = db.prepare(`insert into ${quoteIdent(o.fts)}(rowid, content) values (?, ?)`);
        vf.texts.forEach((text, i) => ins.run(ids![i], text ?? ''));
      }
      return { ids, pk };
    });
    const bar = await progressBar(o.progress && !o.json, vf.rows, 'import');
    let res;
    try {
      res = db.transaction(() => {
        const { ids, pk } = write();
        return bulkInsert(db, o.table, ids as (number | string)[], vf.data, { column: vectorTable(db, o.table).column, idColumn: pk, onProgress: (n) => bar.update(n) });
      })();
    } finally {
      bar.stop();
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return { file, format: vf.format, table: o.table, rows: res.rows, dims: vf.dims, skipped: vf.skipped, seconds: +seconds.toFixed(3), rowsPerSec: Math.round(res.rows / seconds) };
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(`${file}: import into ${o.table} failed, nothing was written: ${(e as Error).message}`);
  } finally {
    db.close();
  }
}

export function importCommand(): Command {
  return new Command('import')
    .description('import vectors from .npy, .fvecs/.bvecs, JSON Lines, CSV or Parquet into a vec0 table (one transaction)')
    .argument('<file>', 'the vector file')
    .requiredOption('--db <file>', 'SQLite database file (created when missing)')
    .requiredOption('--table <name>', 'vec0 table to insert into')
    .option('--create', 'create the table when it does not exist (float[<dims of the file>])')
    .option('--dim <n>', 'expected dimensions: rows with another count are errors', positiveInt)
    .addOption(new Option('--format <format>', 'file format (default: from the extension)').choices(['npy', 'fvecs', 'bvecs', 'jsonl', 'csv', 'parquet']))
    .option('--column <name>', 'vector column for --create', 'embedding')
    .addOption(new Option('--metric <metric>', 'distance metric for --create').choices(['l2', 'cosine', 'l1']))
    .option('--vector-column <name>', 'Parquet: the vector column, a list of float/double or float32 bytes (default: the only such column, or embedding / vector / emb)')
    .option('--id-column <name>', 'Parquet: the id column, integer or string (default: id, when present)')
    .option('--text-column <name>', 'Parquet: the text column for --fts (default: text or content, when present)')
    .option('--fts <table>', 'also index the texts of a JSONL / CSV / Parquet file in this FTS5 table (rowid = vector rowid), for hybrid search')
    .option('--partial', 'skip bad rows (reported) instead of failing the whole import')
    .option('--json', 'print the result as JSON')
    .option('--no-progress', 'no progress bar')
    .action(async (file: string, o: ImportOptions) => {
      const r = await runImport(file, o);
      output(!!o.json, r, () => {
        const skipped = r.skipped as { where: string; reason: string }[];
        let s = `imported ${r.rows} vectors of ${r.dims} dimensions from ${file} into ${o.table} in ${r.seconds} s (${r.rowsPerSec} rows/s)`;
        if (skipped.length) s += `\nskipped ${skipped.length} bad rows:\n` + skipped.slice(0, 10).map((x) => `  ${file}: ${x.where}: ${x.reason}`).join('\n') + (skipped.length > 10 ? `\n  … and ${skipped.length - 10} more` : '');
        return s;
      });
    });
}
