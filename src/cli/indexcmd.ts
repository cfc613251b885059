/**
 * `vecsqlite index build|rebuild|stats`: builds the ANN index of a vec0 table (the table's
 * `insert into t(t) values ('rebuild')` command), or reports rows, dimensions, bytes on disk and
 * the process counters of vec_stats().
 */
import { Command } from 'commander';
import { CliError, openDatabase, output, quoteIdent, vectorTable, type DB } from './common';

interface IndexOptions { db: string; table: string; json?: boolean }

export function tableStats(db: DB, name: string): Record<string, unknown> {
  const t = vectorTable(db, name);
  const rows = Number(db.prepare(`select count(*) from ${quoteIdent(name)}`).pluck().get());
  // The table's own storage: its shadow tables (and their indexes), from dbstat.
  const shadows = db.prepare("select name from pragma_table_list where type in ('shadow', 'table') and schema = 'main' and name like ? escape '\\'")
    .pluck().all(name.replace(/[\\%_]/g, (c) => '\\' + c) + '\\_%') as string[];
  let bytes = 0;
  const perTable: Record<string, number> = {};
  const size = db.prepare("select coalesce(sum(pgsize), 0) from dbstat where name = ? or name in (select name from sqlite_schema where type = 'index' and tbl_name = ?)").pluck();
  for (const s of shadows) {
    const b = Number(size.get(s, s));
    perTable[s] = b;
    bytes += b;
  }
  const stats = JSON.parse(String(db.prepare('select vec_stats()').pluck().get())) as Record<string, number>;
  return { table: name, column: t.column, rows, dims: t.dims, bytes, vectorBytes: rows * t.dims * 4, shadowTables: perTable, vecStats: stats };
}

function rebuild(db: DB, name: string, op: string): Record<string, unknown> {
  vectorTable(db, name);
  const t0 = process.hrtime.bigint();
  try {
    db.prepare(`insert into ${quoteIdent(name)}(${quoteIdent(name)}) values ('rebuild')`).run();
  } catch (e) {
    throw new CliError(`${op}: ${name} does not support building an ANN index (${(e as Error).message}); exact search needs no index`);
  }
  return { table: name, op, seconds: +(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(3) };
}

function human(bytes: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (bytes >= 1024 && i < u.length - 1) bytes /= 1024, i++;
  return `${bytes.toFixed(i ? 1 : 0)} ${u[i]}`;
}

export function indexCommand(): Command {
  const cmd = new Command('index').description('build, rebuild or inspect the index of a vec0 table');
  const common = (c: Command) => c.requiredOption('--db <file>', 'SQLite database file').requiredOption('--table <name>', 'vec0 table').option('--json', 'print the result as JSON');
  const withDb = <T>(o: IndexOptions, f: (db: DB) => T): T => {
    const db = openDatabase(o.db, true);
    try {
      return f(db);
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError((e as Error).message);
    } finally {
      db.close();
    }
  };
  for (const op of ['build', 'rebuild']) {
    cmd.addCommand(common(new Command(op).description(op === 'build' ? 'build the ANN index of the table' : 'rebuild the ANN index from the stored vectors'))
      .action((o: IndexOptions) => {
        const r = withDb(o, (db) => rebuild(db, o.table, op));
        output(!!o.json, r, () => `${op}: ${o.table} done in ${r.seconds} s`);
      }));
  }
  cmd.addCommand(common(new Command('stats').description('rows, dimensions, bytes on disk and vec_stats() counters'))
    .action((o: IndexOptions) => {
      const r = withDb(o, (db) => tableStats(db, o.table));
      output(!!o.json, r, () => [
        `table    ${r.table} (${r.column} float[${r.dims}])`,
        `rows     ${r.rows}`,
        `bytes    ${human(r.bytes as number)} on disk (vectors alone: ${human(r.vectorBytes as number)})`,
        ...Object.entries(r.shadowTables as Record<string, number>).map(([k, v]) => `  ${k.padEnd(28)} ${human(v)}`),
        `counters ${Object.entries(r.vecStats as Record<string, number>).map(([k, v]) => `${k}=${v}`).join(' ')}`,
      ].join('\n'));
    }));
  return cmd;
}
