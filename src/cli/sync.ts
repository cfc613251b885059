/**
 * `vecsqlite sync`: replicates a vecsync change log (MySQL / MariaDB or SQLite) into a local
 * SQLite file through vecsync's Replicator, optionally following it.
 */
import { Command, InvalidArgumentError } from 'commander';
import Database from 'better-sqlite3';
import { load } from '../index';
import { MysqlLogSource, Replicator, SqliteLogSource, type LogSource, type TableMapping } from '../vecsync';
import { collect, positiveInt } from './options';

function parseMapping(value: string, previous: TableMapping[] = []): TableMapping[] {
  const i = value.lastIndexOf(':');
  if (i <= 0 || i === value.length - 1) throw new InvalidArgumentError(`expected <upstream>:<local>, e.g. shadow_vec_docs:_vec_docs, received "${value}"`);
  return [...previous, { upstream: value.slice(0, i), local: value.slice(i + 1) }];
}

async function openSource(url: string, logTable: string, seqTable: string): Promise<{ source: LogSource; close(): void }> {
  if (/^mysql:\/\//i.test(url) || /^mariadb:\/\//i.test(url)) {
    const source = await MysqlLogSource.connect(url.replace(/^mariadb:/i, 'mysql:'), logTable, seqTable);
    return { source, close: () => void source.close() };
  }
  const file = url.replace(/^sqlite:(\/\/)?/i, '');
  const db = new Database(file, { readonly: true, fileMustExist: true });
  return { source: new SqliteLogSource(db, logTable, seqTable), close: () => db.close() };
}

async function sync(opts: {
  source: string; target: string; table: TableMapping[]; dataset?: string[]; batchSize: number;
  follow?: boolean; interval: number; resyncOnGap?: boolean; logTable: string; seqTable: string; progress: boolean;
}): Promise<void> {
  const { source, close } = await openSource(opts.source, opts.logTable, opts.seqTable);
  const target = new Database(opts.target);
  target.pragma('journal_mode = WAL');
  target.pragma('busy_timeout = 5000');
  load(target);
  const rep = new Replicator({ source, target, tables: opts.table, datasets: opts.dataset, batchSize: opts.batchSize, resyncOnGap: opts.resyncOnGap });
  const stop = () => {
    process.stderr.write('vecsqlite sync: stopping after the current batch\n');
    rep.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const showBar = opts.progress && process.stdout.isTTY;
    let bar: import('cli-progress').SingleBar | undefined;
    if (showBar) {
      const { SingleBar, Presets } = await import('cli-progress');
      bar = new SingleBar({ format: 'catch-up {dataset} [{bar}] {value}/{total} scn', hideCursor: true }, Presets.shades_classic);
    }
    let current = '';
    const r = await rep.catchUp((p) => {
      if (!bar) return;
      if (p.dataset !== current) {
        if (current) bar.stop();
        current = p.dataset;
        bar.start(p.targetScn, p.lastScn, { dataset: p.dataset });
      } else {
        bar.update(p.lastScn);
      }
    });
    bar?.stop();
    console.log(`vecsqlite sync: applied ${r.applied} changes in ${r.batches} batches` + (r.resynced.length ? `; resynced ${r.resynced.join(', ')}` : ''));
    if (opts.follow) {
      console.log(`vecsqlite sync: following every ${opts.interval} ms (Ctrl-C to stop)`);
      await rep.follow(opts.interval, (b) => console.log(`vecsqlite sync: applied ${b.applied} changes`));
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    target.close();
    close();
  }
}

/** The `sync` command, to be added to the `vecsqlite` program. */
export function syncCommand(): Command {
  return new Command('sync')
    .description('replicate a vecsync change log into a local SQLite file')
    .requiredOption('-s, --source <url>', 'upstream: mysql://user:pass@host:port/db, or a SQLite file path')
    .requiredOption('-t, --target <file>', 'local SQLite file to write')
    .requiredOption('-m, --table <upstream:local>', 'table mapping, e.g. shadow_vec_docs:_vec_docs (repeatable)', parseMapping)
    .option('-d, --dataset <id>', 'replicate only this dataset (repeatable)', collect)
    .option('-b, --batch-size <n>', 'log entries per transaction', positiveInt, 500)
    .option('-f, --follow', 'keep polling for new changes after catching up')
    .option('-i, --interval <ms>', 'poll interval in follow mode', positiveInt, 1000)
    .option('--resync-on-gap', 'on an SCN gap, resync the dataset from the upstream shadow table')
    .option('--log-table <name>', 'upstream log table', 'vec_shadow_log')
    .option('--seq-table <name>', 'upstream SCN counter table', 'vec_dataset_scn')
    .option('--no-progress', 'no progress bar')
    .action(async (opts) => {
      await sync(opts);
    });
}
