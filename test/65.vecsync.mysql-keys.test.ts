// vecsync on a MariaDB upstream (shadow_sync.ddl): renames that the collation calls equal
// (`Doc1` -> `DOC1`, `doc2` -> `doc2 `) log a delete of the old key; a dataset id spelt
// differently from the existing one is refused; a deleted and re-created dataset continues its
// SCNs (a replica never skips its new rows); one dataset's bad row does not stop the others.
import Database from 'better-sqlite3';
import * as fs from 'fs';
import * as path from 'path';
import { vecsync } from '../src';
import { haveMysql, openTestMysql, type TestMysql } from './helpers/mysql';
import { localRows, normalise } from './helpers/upstream';

const { Replicator, MysqlLogSource, VecsyncApplyError, VecsyncDatasetsError } = vecsync;
const root = path.join(__dirname, '..');

describe('MariaDB upstream keys and datasets', () => {
  let my: TestMysql | null = null;
  const sources: vecsync.MysqlLogSource[] = [];
  beforeAll(async () => {
    my = await openTestMysql('keys');
    if (my) {
      const ddl = fs.readFileSync(path.join(root, 'db', 'schema', 'mysql', 'shadow_sync.ddl'), 'utf8');
      await my.exec(...vecsync.splitMysqlScript(ddl));
    }
  });
  afterAll(async () => {
    for (const s of sources) await s.close();
    await my?.close();
  });

  async function replica(datasets?: string[], onDatasetError?: (d: string, e: Error) => void) {
    const source = await MysqlLogSource.connect(my!.url);
    sources.push(source);
    const target = new Database(':memory:');
    const rep = new Replicator({ source, target, tables: [{ upstream: 'shadow_vec_docs', local: '_vec_docs' }], datasets, onDatasetError });
    return { rep, target };
  }

  async function upstreamRows(ds: string): Promise<string[]> {
    const [rows] = await my!.conn.query('SELECT dataset_id, id, content, meta, embedding, embedding_model, scn, archived FROM shadow_vec_docs WHERE dataset_id = ?', [ds]);
    return normalise((rows as Record<string, unknown>[]).map((r) => ({ ...r, embedding: (r.embedding as Buffer).length ? r.embedding : null })));
  }

  const ins = (ds: string, id: string, content = 'c') =>
    my!.conn.query('INSERT INTO shadow_vec_docs(dataset_id, id, content, embedding, embedding_model, scn) VALUES (?, ?, ?, ?, ?, 0)', [ds, id, content, Buffer.from([0, 0, 128, 63]), 'm']);

  test('renames differing only by case or trailing spaces log a delete of the old key', async () => {
    if (!haveMysql(my)) return;
    await my.exec("INSERT INTO vec_dataset(dataset_id) VALUES ('rn')");
    await ins('rn', 'Doc1');
    await ins('rn', 'doc2');
    const { rep, target } = await replica(['rn']);
    await rep.catchUp();
    await my.conn.query("UPDATE shadow_vec_docs SET id = 'DOC1' WHERE dataset_id = 'rn' AND id = 'Doc1'");
    await my.conn.query("UPDATE shadow_vec_docs SET id = 'doc2 ' WHERE dataset_id = 'rn' AND id = 'doc2'");
    const [log] = await my.conn.query("SELECT scn, op, CAST(document_id AS BINARY) AS d FROM vec_shadow_log WHERE dataset_id = 'rn' ORDER BY scn");
    expect((log as { scn: number; op: string; d: Buffer }[]).map((r) => `${r.scn}:${r.op}:${JSON.stringify(r.d.toString())}`)).toEqual([
      '1:insert:"Doc1"', '2:insert:"doc2"', '3:delete:"Doc1"', '4:update:"DOC1"', '5:delete:"doc2"', '6:update:"doc2 "',
    ]);
    await rep.catchUp();
    expect(target.prepare("SELECT id FROM _vec_docs WHERE dataset_id = 'rn' ORDER BY id").pluck().all()).toEqual(['DOC1', 'doc2 ']);
    expect(localRows(target, '_vec_docs')).toEqual(await upstreamRows('rn'));
    // A no-op update of the same bytes logs no delete.
    await my.conn.query("UPDATE shadow_vec_docs SET content = 'x' WHERE dataset_id = 'rn' AND id = 'DOC1'");
    const [ops] = await my.conn.query("SELECT op FROM vec_shadow_log WHERE dataset_id = 'rn' AND scn = 7");
    expect(ops).toEqual([{ op: 'update' }]);
  });

  test('a dataset id differing only by case or trailing spaces is refused upstream', async () => {
    if (!haveMysql(my)) return;
    await my.exec("INSERT INTO vec_dataset(dataset_id) VALUES ('ds1')");
    await ins('ds1', 'a');
    await expect(ins('DS1', 'b')).rejects.toThrow(`vecsync: dataset_id 'DS1' differs only by case or trailing spaces from the existing dataset 'ds1'; use the same spelling`);
    await expect(ins('ds1 ', 'b')).rejects.toThrow(/dataset_id 'ds1 ' differs only by case or trailing spaces/);
    await expect(my.conn.query("UPDATE shadow_vec_docs SET dataset_id = 'Ds1' WHERE dataset_id = 'ds1' AND id = 'a'")).rejects.toThrow(/differs only by case/);
    // Nothing of the refused statements was kept: the row, the log and the counter are as before.
    const [docs] = await my.conn.query("SELECT CAST(dataset_id AS BINARY) AS d, id FROM shadow_vec_docs WHERE dataset_id = 'ds1'");
    expect((docs as { d: Buffer; id: string }[]).map((r) => `${r.d.toString()}/${r.id}`)).toEqual(['ds1/a']);
    const [seq] = await my.conn.query("SELECT next_scn FROM vec_dataset_scn WHERE dataset_id = 'ds1'");
    expect(seq).toEqual([{ next_scn: 1 }]);
    const { rep, target } = await replica(['ds1']);
    await rep.catchUp();
    expect(localRows(target, '_vec_docs')).toEqual(await upstreamRows('ds1'));
  });

  test('a deleted and re-created dataset continues its SCNs; the replica follows both', async () => {
    if (!haveMysql(my)) return;
    await my.exec("INSERT INTO vec_dataset(dataset_id) VALUES ('re')");
    for (let i = 0; i < 10; i++) await ins('re', `old${i}`);
    const { rep, target } = await replica(['re']);
    await rep.catchUp();
    expect(rep.lastScn('re')).toBe(10);
    await my.exec("DELETE FROM vec_dataset WHERE dataset_id = 're'"); // documents deleted through the logged path
    await my.exec("INSERT INTO vec_dataset(dataset_id) VALUES ('re')");
    await ins('re', 'new0');
    await ins('re', 'new1');
    const [log] = await my.conn.query("SELECT scn, op, document_id FROM vec_shadow_log WHERE dataset_id = 're' AND scn > 10 ORDER BY scn");
    expect((log as { scn: number; op: string; document_id: string }[]).map((r) => `${r.scn}:${r.op}`)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `${11 + i}:delete`), '21:insert', '22:insert',
    ]);
    await rep.catchUp();
    expect(rep.lastScn('re')).toBe(22);
    expect(target.prepare("SELECT id FROM _vec_docs WHERE dataset_id = 're' ORDER BY id").pluck().all()).toEqual(['new0', 'new1']);
    expect(localRows(target, '_vec_docs')).toEqual(await upstreamRows('re'));
  });

  test('one dataset with a bad row does not stop the datasets after it', async () => {
    if (!haveMysql(my)) return;
    await my.exec("INSERT INTO vec_dataset(dataset_id) VALUES ('iso_a'), ('iso_b'), ('iso_c'), ('iso_d')");
    for (const ds of ['iso_a', 'iso_b', 'iso_c', 'iso_d']) await ins(ds, 'one');
    await my.conn.query("UPDATE shadow_vec_docs SET archived = 2 WHERE dataset_id = 'iso_b'"); // 0 / 1 only
    await my.conn.query("UPDATE shadow_vec_docs SET archived = 3 WHERE dataset_id = 'iso_d'");
    for (const ds of ['iso_a', 'iso_b', 'iso_c', 'iso_d']) await ins(ds, 'two');
    const all = ['iso_a', 'iso_b', 'iso_c', 'iso_d'];

    // Without a handler: every dataset is tried, then the failures are thrown together.
    const r1 = await replica(all);
    const err = await r1.rep.catchUp().then(() => null, (e) => e);
    expect(err).toBeInstanceOf(VecsyncDatasetsError);
    expect(err.failures.map((f: { dataset: string }) => f.dataset)).toEqual(['iso_b', 'iso_d']);
    expect(err.failures[0].error).toBeInstanceOf(VecsyncApplyError);
    expect(err.message).toMatch(/2 datasets failed .*dataset "iso_b" scn 2: payload archived must be 0 or 1, found 2.*\| .*dataset "iso_d" scn 2: payload archived must be 0 or 1, found 3/);
    for (const ds of ['iso_a', 'iso_c']) {
      expect(r1.rep.lastScn(ds)).toBe(2);
      expect(localRows(r1.target, '_vec_docs').filter((r) => r.startsWith(`["${ds}"`))).toEqual(await upstreamRows(ds));
    }
    expect(r1.rep.lastScn('iso_b')).toBe(0); // the bad entry's batch (here all of it) is not applied

    // With a handler: reported per dataset, result.failed lists them, nothing thrown.
    const seen: string[] = [];
    const r2 = await replica(all, (d, e) => seen.push(`${d}: ${e.message}`));
    const res = await r2.rep.catchUp();
    expect(res.failed.map((f) => f.dataset)).toEqual(['iso_b', 'iso_d']);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toContain('iso_b: vecsync: cannot apply shadow_vec_docs dataset "iso_b" scn 2: payload archived must be 0 or 1, found 2');
    expect(res.datasets).toMatchObject({ iso_a: 2, iso_c: 2 });
    // A single failing dataset is thrown as its own error.
    const r3 = await replica(['iso_b', 'iso_c']);
    await expect(r3.rep.catchUp()).rejects.toThrow(VecsyncApplyError);
    expect(r3.rep.lastScn('iso_c')).toBe(2);
  });
});
