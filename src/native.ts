/**
 * Locates and loads the compiled `vecsqlite.node`: the same file is the Node-API addon and the
 * SQLite loadable extension. Lookup (node-gyp-build) under the package root, or under the
 * directory named by VECSQLITE_PREBUILD: build/Release, build/Debug, prebuilds/<platform>-<arch>.
 */
import * as path from 'path';
import { VecsqliteError } from './errors';

export interface NativeBinding {
  isa(): string;
  distance(a: ArrayBufferView, b: ArrayBufferView, metric: string): number;
  topK(query: ArrayBufferView, matrix: ArrayBufferView, k: number, metric: string): { indices: Uint32Array; distances: Float32Array };
  firstNonFinite(v: Float32Array): number;
  version: string;
}

/** The package root: lib/ (compiled) and src/ (ts-jest) both sit one level below it. */
export const packageRoot = path.join(__dirname, '..');

let cachedPath: string | undefined;
let cachedBinding: NativeBinding | undefined;

function loadFailure(cause: unknown, what: string): VecsqliteError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const lines = [
    `Could not ${what} for ${process.platform}-${process.arch} (Node ${process.version}, N-API ${process.versions.napi}).`,
    `Cause: ${reason}`,
    'Possible solutions:',
    '- Build from source: npm rebuild vecsqlite (needs python3, make and a C++17 compiler)',
    '- Set VECSQLITE_PREBUILD=<dir> to use a build elsewhere (<dir>/build/Release or <dir>/prebuilds/<platform>-<arch>)',
    '- If VECSQLITE_ISA is set, unset it or choose an ISA this CPU supports (scalar always works)',
  ];
  return new VecsqliteError('VECSQLITE_LOAD_FAILED', lines.join('\n'));
}

/** Absolute path of the compiled `.node` file (also a SQLite loadable extension). */
export function nativePath(): string {
  if (cachedPath === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const gypBuild = require('node-gyp-build') as { path(dir: string): string };
      cachedPath = gypBuild.path(packageRoot);
    } catch (e) {
      throw loadFailure(e, 'find the vecsqlite native module');
    }
  }
  return cachedPath;
}

/** The Node-API side of the native module, loaded once. */
export function binding(): NativeBinding {
  if (cachedBinding === undefined) {
    const file = nativePath();
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      cachedBinding = require(file) as NativeBinding;
    } catch (e) {
      throw loadFailure(e, `load ${file}`);
    }
  }
  return cachedBinding;
}
