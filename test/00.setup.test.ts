// The package is importable from CommonJS and ESM, versions agree, the binary is the one we built.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vs from '../src';
import { openDb } from './helpers/db';

const root = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

describe('package', () => {
  test('version agrees between package.json, native/version.h, the addon and SQL', () => {
    const header = fs.readFileSync(path.join(root, 'native', 'version.h'), 'utf8');
    expect(header).toContain(`#define VECSQLITE_VERSION "${pkg.version}"`);
    expect(vs.version).toBe(pkg.version);
    const addon = require(vs.getLoadablePath());
    expect(addon.version).toBe(pkg.version);
    const db = openDb();
    expect(db.prepare('select vecsqlite_version()').pluck().get()).toBe(pkg.version);
  });

  test('isa() names a known variant and SQL reports the same one', () => {
    expect(['scalar', 'avx2', 'avx512', 'neon']).toContain(vs.isa());
    const db = openDb();
    expect(db.prepare('select vecsqlite_isa()').pluck().get()).toBe(vs.isa());
  });

  test('CommonJS require and ESM import of the compiled package expose the same API', () => {
    // lib/ is compiled by `pretest`; run both module systems in fresh processes.
    const cjs = execFileSync(process.execPath, ['-e', `const v=require(${JSON.stringify(root)}); console.log(Object.keys(v).sort().join(','))`]).toString().trim();
    const esm = execFileSync(process.execPath, ['--input-type=module', '-e', `import * as v from ${JSON.stringify(path.join(root, 'lib', 'index.mjs'))}; import { load, encodeEmbedding } from 'vecsqlite'; console.log(typeof load, typeof encodeEmbedding, Object.keys(v).filter(k => k !== 'default').sort().join(','))`], { cwd: root }).toString().trim();
    for (const name of ['load', 'getLoadablePath', 'isa', 'version', 'encodeEmbedding', 'decodeEmbedding', 'distance', 'topK', 'VecsqliteError']) {
      expect(cjs.split(',')).toContain(name);
    }
    expect(esm).toBe(`function function ${cjs}`);
  });
});
