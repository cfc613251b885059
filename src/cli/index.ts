#!/usr/bin/env node
/**
 * The `vecsqlite` command line (package.json `bin`). Each command lives in its own file of this
 * directory and returns a commander `Command`; this entry only assembles them:
 *   vecsqlite sync   replicate a vecsync change log (MySQL / MariaDB or SQLite) into a SQLite file
 */
import { Command } from 'commander';
import { version } from '../index';
import { syncCommand } from './sync';

export function buildCli(): Command {
  return new Command('vecsqlite').version(version).description('vecsqlite command line').addCommand(syncCommand());
}

if (require.main === module) {
  buildCli().parseAsync(process.argv).catch((e: Error) => {
    // One line, then exit even if a library left a handle open.
    process.stderr.write(`vecsqlite: ${String(e?.message ?? e).replace(/\s*\n\s*/g, ' ').trim()}\n`, () => process.exit(1));
  });
}
