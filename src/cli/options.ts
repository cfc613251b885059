/** Option parsers shared by the `vecsqlite` commands (commander argument processors). */
import { InvalidArgumentError } from 'commander';

/** A positive integer option such as `--batch-size 500`. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, received "${value}"`);
  return n;
}

/** A repeatable option: every occurrence is appended to the list. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
