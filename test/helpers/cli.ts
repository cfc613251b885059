// Runs the compiled `vecsqlite` command line (lib/cli/index.js, built by pretest) in a child process.
import { spawnSync } from 'child_process';
import * as path from 'path';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const bin = path.join(__dirname, '..', '..', 'lib', 'cli', 'index.js');

export function cli(args: string[], cwd?: string): CliResult {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd, timeout: 120000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the command with --json and parses its output; throws with stderr when it fails. */
export function cliJson<T = Record<string, unknown>>(args: string[], cwd?: string): T {
  const r = cli([...args, '--json'], cwd);
  if (r.code !== 0) throw new Error(`vecsqlite ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
