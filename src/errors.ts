/**
 * Errors thrown by the TypeScript layer of vecsqlite. `code` is a stable identifier that callers
 * can switch on; the message says what was expected and what was received.
 */
export type VecsqliteErrorCode =
  | 'VECSQLITE_LOAD_FAILED'
  | 'VECSQLITE_INVALID_ARGUMENT'
  | 'VECSQLITE_INVALID_BLOB'
  | 'VECSQLITE_UNKNOWN_OPTION';

export class VecsqliteError extends Error {
  readonly code: VecsqliteErrorCode;
  constructor(code: VecsqliteErrorCode, message: string) {
    super(message);
    this.name = 'VecsqliteError';
    this.code = code;
  }
}

/** Throws VECSQLITE_UNKNOWN_OPTION for keys of `options` not in `allowed` (catches typos). */
export function checkOptions(where: string, options: object | undefined, allowed: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object') {
    throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `${where}: expected options to be an object, received ${options === null ? 'null' : typeof options}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      const hint = allowed.find((a) => a.toLowerCase() === key.toLowerCase());
      throw new VecsqliteError(
        'VECSQLITE_UNKNOWN_OPTION',
        hint
          ? `${where}: misspelled option "${key}" should be "${hint}"`
          : `${where}: unknown option "${key}" (allowed: ${allowed.join(', ') || 'none'})`,
      );
    }
  }
}
