// The replication soak (bench/soak-vecsync.js), short: `vecsqlite sync --follow` SIGKILLed 5
// times under mixed upstream writes (renames, case / trailing-space renames, dataset moves,
// deletes, dataset deletion and re-creation); the replica must equal the upstream byte for byte
// with exact checkpoints. The long run (50 kills) is documented in docs/reliability.md.
// It runs lib/ as built by `npm test` (pretest); run `npm run build:ts` first when running this file alone.
import { execFileSync } from 'child_process';
import * as path from 'path';
import { haveMysql, openTestMysql } from './helpers/mysql';

const root = path.join(__dirname, '..');

test('5 SIGKILLs under mixed writes: replica equals upstream byte for byte', async () => {
  const probe = await openTestMysql('soakprobe'); // skips loudly without a server
  if (!haveMysql(probe)) return;
  await probe.close();
  let out = '';
  try {
    out = execFileSync(process.execPath, [path.join(root, 'bench', 'soak-vecsync.js'), '--kills', '5', '--writes', '20', '--seed', '68'], { encoding: 'utf8', timeout: 110000 });
  } catch (e) {
    throw new Error(`soak failed: ${String((e as { stdout?: string }).stdout)} ${String((e as { stderr?: string }).stderr)}`);
  }
  const summary = JSON.parse(out.split('\n').find((l) => l.startsWith('{"kind":"soak"'))!);
  expect(summary).toMatchObject({ ok: true, kills: 5, missing: 0, extra: 0, badCheckpoints: [] });
  expect(summary.rows).toBe(summary.modelRows);
  expect(summary.rows).toBeGreaterThan(0);
  // The workload really exercised the risky writes.
  for (const k of ['rename-case-or-space', 'move', 'delete', 'insert']) expect(summary.writes[k]).toBeGreaterThan(0);
}, 120000);
