#!/usr/bin/env node
/**
 * The `vecsqlite` command line (package.json `bin`). Each command lives in its own file of this
 * directory and returns a commander `Command`; this entry only assembles them:
 *   vecsqlite import   load vectors from .npy, .fvecs/.bvecs, JSON Lines, CSV or Parquet into a vec0 table
 *   vecsqlite search   nearest rows to a vector, an embedded text, or a hybrid keyword + vector query
 *   vecsqlite index    build / rebuild the ANN index of a vec0 table, or show its stats
 *   vecsqlite bench    recall, QPS and latency (table + SVG/PNG charts)
 *   vecsqlite demo     real MiniLM document embeddings: vector, keyword and hybrid search
 *   vecsqlite sync     replicate a vecsync change log (MySQL / MariaDB or SQLite) into a SQLite file
 * Errors are one line on stderr (`vecsqlite: …`) with exit code 2 for bad input, 1 otherwise.
 */
import './peer';
import { Command } from 'commander';
import { version } from '../index';
import { syncCommand } from './sync';
import { importCommand } from './import';
import { searchCommand } from './search';
import { indexCommand } from './indexcmd';
import { benchCommand } from './bench';
import { demoCommand } from './demo';
import { CliError } from './common';

export function buildCli(): Command {
  return new Command('vecsqlite').version(version).description('vecsqlite command line')
    .addCommand(importCommand())
    .addCommand(searchCommand())
    .addCommand(indexCommand())
    .addCommand(benchCommand())
    .addCommand(demoCommand())
    .addCommand(syncCommand());
}

if (require.main === module) {
  buildCli().parseAsync(process.argv).catch((e: Error) => {
    // One line, then exit even if a library left a handle open.
    const code = e instanceof CliError ? e.exitCode : 1;
    process.stderr.write(`vecsqlite: ${String(e?.message ?? e).replace(/\s*\n\s*/g, ' ').trim()}\n`, () => process.exit(code));
  });
}
