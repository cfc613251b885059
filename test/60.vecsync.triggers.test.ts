// vecsync trigger builders: the reference's text in compat mode, and the fixed triggers executed
// on SQLite and on a real MariaDB for insert / update / delete / archive / reactivate / dataset
// move / replace, with hostile identifiers.
import Database from 'better-sqlite3';
import { vecsync } from '../src';
import { f32blob } from './helpers/db';
import { haveMysql, openTestMysql, type TestMysql } from './helpers/mysql';

const { sqliteShadowLogTriggers, mysqlShadowLogTriggers, shadowTableDDL, logTableDDL, seqTableDDL } = vecsync;
const KEYS = ['dataset_id', 'id', 'content', 'meta', 'embedding', 'embedding_model', 'scn', 'archived'];

describe('compat mode: the reference text', () => {
  test('SQLite builder (reference test 22)', () => {
    const t = sqliteShadowLogTriggers('main.shadow_vec_docs', '', '', { compat: true });
    expect(t).toHaveLength(3);
    expect(t[0]).toContain('CREATE TRIGGER IF NOT EXISTS main_shadow_vec_docs_ai AFTER INSERT');
    expect(t[0]).toContain('lower(hex(NEW.embedding))');
    expect(t[1]).toContain("'update'");
    expect(t[2]).toContain('OLD.dataset_id');
    expect(t[0]).toContain("ON CONFLICT(dataset_id) DO UPDATE SET next_scn = next_scn + 1;");
    expect(t[0]).toContain("        'main.shadow_vec_docs',\n");
  });
  test('MySQL builder (reference test 23)', () => {
    const t = mysqlShadowLogTriggers('shadow_vec_docs', '', '', { compat: true });
    expect(t).toHaveLength(3);
    expect(t[0]).toContain('CREATE TRIGGER shadow_vec_docs_ai AFTER INSERT');
    expect(t[0]).toContain('JSON_OBJECT(');
    expect(t[0]).toContain('ON DUPLICATE KEY UPDATE');
    expect(t[0]).toContain('SELECT next_scn INTO @vecsync_scn FROM vec_dataset_scn WHERE dataset_id = NEW.dataset_id;');
    expect(t[0].startsWith('CREATE TRIGGER shadow_vec_docs_ai AFTER INSERT ON shadow_vec_docs\nFOR EACH ROW\nBEGIN\n')).toBe(true);
  });
  test('compat mode refuses names it would interpolate raw', () => {
    expect(() => sqliteShadowLogTriggers("x'; drop table t; --", '', '', { compat: true })).toThrow(/compat mode interpolates names raw/);
    expect(() => mysqlShadowLogTriggers('a`b', '', '', { compat: true })).toThrow(/compat mode interpolates names raw/);
  });
  test('DDL builders match the reference text', () => {
    expect(shadowTableDDL('docs')).toBe('CREATE TABLE IF NOT EXISTS docs (\n    dataset_id TEXT NOT NULL,\n    id TEXT NOT NULL,\n    content TEXT,\n    meta TEXT,\n    embedding BLOB,\n    scn INTEGER NOT NULL DEFAULT 0,\n    embedding_model TEXT,\n    archived INTEGER NOT NULL DEFAULT 0,\n    PRIMARY KEY(dataset_id, id));');
    expect(seqTableDDL()).toBe('CREATE TABLE IF NOT EXISTS vec_dataset_scn (dataset_id TEXT PRIMARY KEY, next_scn INTEGER NOT NULL);');
    expect(logTableDDL()).toContain('PRIMARY KEY(dataset_id, shadow_table, scn)');
  });
});

type LogRow = { dataset_id: string; scn: number; op: string; document_id: string; payload: string };

function parseLog(rows: LogRow[]) {
  return rows.map((r) => ({ ds: r.dataset_id, scn: Number(r.scn), op: r.op, id: r.document_id, p: JSON.parse(String(r.payload)) }));
}

function sqliteUpstream(table: string, compat = false): Database.Database {
  const db = new Database(':memory:');
  db.exec(shadowTableDDL(table)); // quotes names that are not plain identifiers
  db.exec(seqTableDDL());
  db.exec(logTableDDL());
  for (const t of sqliteShadowLogTriggers(table, '', '', { compat })) db.exec(t);
  return db;
}

describe('SQLite: the fixed triggers', () => {
  const emb = f32blob([1, -2.5]);
  test('every kind of write is logged with per-dataset SCNs from 1, full payloads in key order', () => {
    const db = sqliteUpstream('docs');
    const ins = db.prepare('insert into docs(dataset_id, id, content, meta, embedding, embedding_model, scn) values (?, ?, ?, ?, ?, ?, ?)');
    ins.run('A', 'd1', 'one', '{"k":1}', emb, 'm', 10);
    ins.run('A', 'd2', 'two', null, null, 'm', 11);
    ins.run('B', 'd1', 'b-one', null, emb, 'm', 12);
    db.prepare("update docs set content = 'uno' where dataset_id = 'A' and id = 'd1'").run();
    db.prepare("update docs set archived = 1 where dataset_id = 'A' and id = 'd2'").run(); // archive
    db.prepare("update docs set archived = 0 where dataset_id = 'A' and id = 'd2'").run(); // reactivate
    db.prepare("update docs set dataset_id = 'B' where dataset_id = 'A' and id = 'd2'").run(); // move
    db.prepare("delete from docs where dataset_id = 'B' and id = 'd1'").run();
    const log = parseLog(db.prepare('select * from vec_shadow_log order by dataset_id, scn').all() as LogRow[]);
    expect(log.map((l) => `${l.ds}${l.scn}:${l.op}:${l.id}`)).toEqual([
      'A1:insert:d1', 'A2:insert:d2', 'A3:update:d1', 'A4:update:d2', 'A5:update:d2', 'A6:delete:d2',
      'B1:insert:d1', 'B2:update:d2', 'B3:delete:d1',
    ]);
    for (const l of log) expect(Object.keys(l.p)).toEqual(KEYS);
    expect(log[0].p).toEqual({ dataset_id: 'A', id: 'd1', content: 'one', meta: '{"k":1}', embedding: emb.toString('hex'), embedding_model: 'm', scn: 10, archived: 0 });
    expect(log[0].p.embedding).toBe('0000803f000020c0');
    expect(log[1].p.embedding).toBeNull(); // the original logged ""
    expect(log[3].p.archived).toBe(1);
    expect(log[4].p.archived).toBe(0);
    expect(log[5].p).toMatchObject({ dataset_id: 'A', id: 'd2' }); // the move's delete in the old dataset
    expect(db.prepare('select dataset_id, next_scn from vec_dataset_scn order by 1').all()).toEqual([{ dataset_id: 'A', next_scn: 6 }, { dataset_id: 'B', next_scn: 3 }]);
  });

  test('a rolled-back write leaves no SCN gap', () => {
    const db = sqliteUpstream('docs');
    db.prepare("insert into docs(dataset_id, id) values ('A', '1')").run();
    expect(() => db.transaction(() => {
      db.prepare("insert into docs(dataset_id, id) values ('A', '2')").run();
      throw new Error('abort');
    })()).toThrow('abort');
    db.prepare("insert into docs(dataset_id, id) values ('A', '3')").run();
    expect(db.prepare("select scn from vec_shadow_log order by scn").pluck().all()).toEqual([1, 2]);
  });

  test('INSERT OR REPLACE logs the whole new row (and the delete, with recursive_triggers)', () => {
    const db = sqliteUpstream('docs');
    db.prepare("insert into docs(dataset_id, id, content) values ('A', '1', 'old')").run();
    db.prepare("insert or replace into docs(dataset_id, id, content) values ('A', '1', 'new')").run();
    let log = parseLog(db.prepare('select * from vec_shadow_log order by scn').all() as LogRow[]);
    expect(log.map((l) => l.op)).toEqual(['insert', 'insert']);
    expect(log[1].p.content).toBe('new');
    db.pragma('recursive_triggers = ON');
    db.prepare("insert or replace into docs(dataset_id, id, content) values ('A', '1', 'newer')").run();
    log = parseLog(db.prepare('select * from vec_shadow_log order by scn').all() as LogRow[]);
    expect(log.map((l) => l.op)).toEqual(['insert', 'insert', 'delete', 'insert']);
  });

  test('compat triggers keep the reference behaviour (documented gaps)', () => {
    const db = sqliteUpstream('docs', true);
    db.prepare("insert into docs(dataset_id, id) values ('A', '1')").run();
    db.prepare("update docs set dataset_id = 'B'").run();
    const log = parseLog(db.prepare('select * from vec_shadow_log order by dataset_id, scn').all() as LogRow[]);
    expect(log.map((l) => `${l.ds}:${l.op}`)).toEqual(['A:insert', 'B:update']); // no delete in A
    expect(log[0].p.embedding).toBe('');
  });

  test('hostile table names are quoted, not executed', () => {
    const hostile = `docs"; DROP TABLE victim; --'`;
    const db = sqliteUpstream(hostile);
    db.exec('create table victim(x)');
    db.prepare(`insert into "${hostile.replace(/"/g, '""')}"(dataset_id, id) values ('A', '1')`).run();
    const row = db.prepare('select shadow_table, op from vec_shadow_log').get() as { shadow_table: string; op: string };
    expect(row).toEqual({ shadow_table: hostile, op: 'insert' });
    expect(db.prepare("select count(*) from sqlite_schema where name = 'victim'").pluck().get()).toBe(1);
  });
});

describe('MariaDB: the fixed triggers on a real server', () => {
  let my: TestMysql | null = null;
  beforeAll(async () => { my = await openTestMysql('triggers'); });
  afterAll(async () => { await my?.close(); });

  test('insert / update / archive / reactivate / move / replace / delete, hostile names', async () => {
    if (!haveMysql(my)) return;
    const table = 'docs`; drop table victim; --';
    const q = '`' + table.replace(/`/g, '``') + '`';
    await my.exec(
      'CREATE TABLE victim (x INT)',
      `CREATE TABLE vec_dataset_scn (dataset_id VARCHAR(191) PRIMARY KEY, next_scn BIGINT NOT NULL)`,
      `CREATE TABLE vec_shadow_log (dataset_id VARCHAR(191) NOT NULL, shadow_table VARCHAR(191) NOT NULL, scn BIGINT NOT NULL, op VARCHAR(10) NOT NULL, document_id VARCHAR(191) NOT NULL, payload LONGBLOB NOT NULL, PRIMARY KEY (dataset_id, shadow_table, scn))`,
      `CREATE TABLE ${q} (dataset_id VARCHAR(191) NOT NULL, id VARCHAR(191) NOT NULL, content TEXT, meta TEXT, embedding LONGBLOB, embedding_model VARCHAR(191), scn BIGINT NOT NULL DEFAULT 0, archived TINYINT NOT NULL DEFAULT 0, PRIMARY KEY (dataset_id, id))`,
      ...mysqlShadowLogTriggers(table),
    );
    const c = my.conn;
    await c.query(`INSERT INTO ${q}(dataset_id, id, content, embedding, embedding_model) VALUES ('A', 'd1', 'one', ?, 'm')`, [f32blob([1, -2.5])]);
    await c.query(`INSERT INTO ${q}(dataset_id, id, content) VALUES ('A', 'd2', 'two')`);
    await c.query(`UPDATE ${q} SET archived = 1 WHERE id = 'd2'`);
    await c.query(`UPDATE ${q} SET archived = 0 WHERE id = 'd2'`);
    await c.query(`UPDATE ${q} SET dataset_id = 'B' WHERE id = 'd2'`);
    await c.query(`REPLACE INTO ${q}(dataset_id, id, content) VALUES ('A', 'd1', 'uno')`);
    await c.query(`DELETE FROM ${q} WHERE id = 'd2'`);
    const [rows] = await c.query('SELECT dataset_id, scn, op, document_id, payload, shadow_table FROM vec_shadow_log ORDER BY dataset_id, scn');
    const log = parseLog(rows as LogRow[]);
    expect(log.map((l) => `${l.ds}${l.scn}:${l.op}:${l.id}`)).toEqual([
      'A1:insert:d1', 'A2:insert:d2', 'A3:update:d2', 'A4:update:d2', 'A5:delete:d2', 'A6:delete:d1', 'A7:insert:d1',
      'B1:update:d2', 'B2:delete:d2',
    ]);
    for (const l of log) expect(Object.keys(l.p).sort()).toEqual([...KEYS].sort());
    expect(log[0].p.embedding).toBe('0000803f000020c0');
    expect(log[1].p.embedding).toBeNull();
    expect(log[2].p.archived).toBe(1);
    expect((rows as { shadow_table: string }[])[0].shadow_table).toBe(table);
    const [victim] = await c.query("SHOW TABLES LIKE 'victim'");
    expect((victim as unknown[]).length).toBe(1);
  });
});
