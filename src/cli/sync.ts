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

async function openSource(url: string, logTable: string, seqTable: string): Promise<{ source: LogSource; close(): Promise<void> }> {
  if (/^mysql:\/\//i.test(url) || /^mariadb:\/\//i.test(url)) {
    const source = await MysqlLogSource.connect(url.replace(/^mariadb:/i, 'mysql:'), logTable, seqTable);
    return { source, close: () => source.close().catch(() => undefined) };
  }
  const file = url.replace(/^sqlite:(\/\/)?/i, '');
  const db = new Database(file, { readonly: true, fileMustExist: true });
  return { source: new SqliteLogSource(db, logTable, seqTable), close: async () => void db.close() };
}

/** Opens the replica; every failure (missing directory, unwritable, not a database) is thrown here. */
function openTarget(file: string): Database.Database {
  const target = new Database(file);
  try {
    // A new file gets 16 KiB pages: a 384-dimension document (~1.6 KB) then shares its page with
    // about nine others instead of one, and a catch-up writes a quarter of the WAL frames.
    if (target.pragma('page_count', { simple: true }) === 0) target.pragma('page_size = 16384');
    target.pragma('journal_mode = WAL');
    // In WAL mode a crash of this process never loses a committed batch; NORMAL only defers the
    // fsync to checkpoints (a power loss may roll back the last batches together with their
    // checkpoint, which the next run re-applies).
    target.pragma('synchronous = NORMAL');
    target.pragma('busy_timeout = 5000');
    load(target);
  } catch (e) {
    target.close();
    throw e;
  }
  return target;
}

async function sync(opts: {
  source: string; target: string; table: TableMapping[]; dataset?: string[]; batchSize: number;
  follow?: boolean; interval: number; maxBackoff: number; resyncOnGap?: boolean; logTable: string; seqTable: string; progress: boolean;
}): Promise<void> {
  let source: { source: LogSource; close(): Promise<void> } | undefined;
  let target: Database.Database | undefined;
  let rep: Replicator | undefined;
  const stop = () => {
    process.stderr.write('vecsqlite sync: stopping after the current batch\n');
    rep?.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Failing datasets are reported as they happen and make the exit code 1 at the end; the
  // other datasets keep replicating. In follow mode a failure is printed again only when its
  // message changes.
  const failing = new Map<string, string>();
  let anyFailure = false;
  const onDatasetError = (dataset: string, e: Error) => {
    anyFailure = true;
    const line = oneLine(e.message);
    if (failing.get(dataset) === line) return;
    failing.set(dataset, line);
    process.stderr.write(`vecsqlite sync: dataset ${JSON.stringify(dataset)} failed (the others go on): ${line}\n`);
  };
  try {
    source = await openSource(opts.source, opts.logTable, opts.seqTable);
    target = openTarget(opts.target);
    rep = new Replicator({ source: source.source, target, tables: opts.table, datasets: opts.dataset, batchSize: opts.batchSize, resyncOnGap: opts.resyncOnGap, onDatasetError });
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
    console.log(`vecsqlite sync: applied ${r.applied} changes in ${r.batches} batches` + (r.resynced.length ? `; resynced ${r.resynced.join(', ')}` : '') + (r.failed.length ? `; ${r.failed.length} dataset(s) failed: ${r.failed.map((f) => f.dataset).join(', ')}` : ''));
    if (opts.follow) {
      console.log(`vecsqlite sync: following every ${opts.interval} ms (Ctrl-C to stop)`);
      await rep.follow(opts.interval, {
        onBatch: (b) => {
          for (const d of Object.keys(b.datasets)) if (!b.failed.some((f) => f.dataset === d)) failing.delete(d);
          console.log(`vecsqlite sync: applied ${b.applied} changes`);
        },
        onReconnect: (attempt, delay, e) => process.stderr.write(`vecsqlite sync: source connection lost (${oneLine(e.message)}); reconnect attempt ${attempt} in ${delay} ms\n`),
        maxBackoffMs: opts.maxBackoff,
      });
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    try {
      target?.close();
    } finally {
      await source?.close();
    }
  }
  if (anyFailure) throw new Error(`${failing.size || 'some'} dataset(s) failed: ${[...failing.keys()].join(', ')} (see above)`);
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** The `sync` command, to be added to the `vecsqlite` program. */
export function syncCommand(): Command {
  return new Command('sync')
    .description('replicate a vecsync change log into a local SQLite file')
    .requiredOption('-s, --source <url>', 'upstream: mysql://user:pass@host:port/db, or a SQLite file path')
    .requiredOption('-t, --target <file>', 'local SQLite file to write')
    .requiredOption('-m, --table <upstream:local>', 'table mapping, e.g. shadow_vec_docs:_vec_docs (repeatable)', parseMapping)
    .option('-d, --dataset <id>', 'replicate only this dataset (repeatable)', collect)
    .option('-b, --batch-size <n>', 'log entries per transaction', positiveInt, 2000)
    .option('-f, --follow', 'keep polling for new changes after catching up')
    .option('-i, --interval <ms>', 'poll interval in follow mode', positiveInt, 1000)
    .option('--max-backoff <ms>', 'follow mode: longest wait between reconnection attempts to a lost source', positiveInt, 30000)
    .option('--resync-on-gap', 'on an SCN gap, resync the dataset from the upstream shadow table')
    .option('--log-table <name>', 'upstream log table', 'vec_shadow_log')
    .option('--seq-table <name>', 'upstream SCN counter table', 'vec_dataset_scn')
    .option('--no-progress', 'no progress bar')
    .action(async (opts) => {
      await sync(opts);
    });
}
