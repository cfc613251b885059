// vecsync trigger names: distinct tables never share trigger names (`a-b` / `a_b`), one table
// named with or without its schema gets one trigger set (every write logged once), and bad
// arguments to the public builders raise VecsqliteError naming the argument.
import Database from 'better-sqlite3';
import { VecsqliteError, vecsync } from '../src';
import { haveMysql, openTestMysql, type TestMysql } from './helpers/mysql';

const { sqliteShadowLogTriggers, mysqlShadowLogTriggers, shadowTableDDL, logTableDDL, seqTableDDL, triggerNames } = vecsync;

function upstream(): Database.Database {
  const db = new Database(':memory:');
  db.exec(seqTableDDL() + logTableDDL());
  return db;
}

function logOf(db: Database.Database): string[] {
  return (db.prepare('SELECT shadow_table, dataset_id, scn, op, document_id FROM vec_shadow_log ORDER BY dataset_id, scn').all() as Record<string, unknown>[])
    .map((r) => `${r.shadow_table}|${r.dataset_id}|${r.scn}|${r.op}|${r.document_id}`);
}

describe('SQLite trigger names', () => {
  test('a-b and a_b each get their own triggers and both are logged', () => {
    const db = upstream();
    for (const t of ['a-b', 'a_b']) db.exec(shadowTableDDL(t));
    for (const t of ['a-b', 'a_b']) for (const s of sqliteShadowLogTriggers(t)) db.exec(s);
    const triggers = db.prepare("SELECT name, tbl_name FROM sqlite_schema WHERE type = 'trigger' ORDER BY name").all();
    expect(triggers).toEqual([
      { name: 'a-b_ad', tbl_name: 'a-b' }, { name: 'a-b_ai', tbl_name: 'a-b' }, { name: 'a-b_au', tbl_name: 'a-b' },
      { name: 'a_b_ad', tbl_name: 'a_b' }, { name: 'a_b_ai', tbl_name: 'a_b' }, { name: 'a_b_au', tbl_name: 'a_b' },
    ]);
    db.prepare('INSERT INTO "a-b"(dataset_id, id) VALUES (?, ?)').run('A', 'x');
    db.prepare('INSERT INTO a_b(dataset_id, id) VALUES (?, ?)').run('A', 'y');
    db.prepare("UPDATE a_b SET content = 'c'").run();
    db.prepare('DELETE FROM "a-b"').run();
    expect(logOf(db)).toEqual(['a-b|A|1|insert|x', 'a_b|A|2|insert|y', 'a_b|A|3|update|y', 'a-b|A|4|delete|x']);
  });

  test('docs and main.docs (and MAIN.docs) are one trigger set: every write logged once', () => {
    const db = upstream();
    db.exec(shadowTableDDL('docs'));
    for (const name of ['docs', 'main.docs', 'MAIN.docs']) for (const s of sqliteShadowLogTriggers(name)) db.exec(s);
    expect(db.prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'trigger'").pluck().get()).toBe(3);
    expect(sqliteShadowLogTriggers('main.docs')).toEqual(sqliteShadowLogTriggers('docs'));
    db.prepare("INSERT INTO docs(dataset_id, id) VALUES ('A', '1')").run();
    db.prepare("UPDATE docs SET id = '2'").run();
    db.prepare('DELETE FROM docs').run();
    expect(logOf(db)).toEqual(['docs|A|1|insert|1', 'docs|A|2|delete|1', 'docs|A|3|update|2', 'docs|A|4|delete|2']);
  });

  test('an attached schema gets its own triggers, writing to its own log', () => {
    const db = upstream();
    db.exec("ATTACH ':memory:' AS aux");
    db.exec(shadowTableDDL('docs') + shadowTableDDL('aux.docs'));
    db.exec('CREATE TABLE aux.vec_dataset_scn (dataset_id TEXT PRIMARY KEY, next_scn INTEGER NOT NULL)');
    db.exec(logTableDDL().replace('vec_shadow_log', 'aux.vec_shadow_log'));
    for (const name of ['docs', 'aux.docs']) for (const s of sqliteShadowLogTriggers(name)) db.exec(s);
    db.prepare("INSERT INTO aux.docs(dataset_id, id) VALUES ('A', 'in-aux')").run();
    db.prepare("INSERT INTO main.docs(dataset_id, id) VALUES ('A', 'in-main')").run();
    expect(logOf(db)).toEqual(['docs|A|1|insert|in-main']);
    expect(db.prepare('SELECT document_id FROM aux.vec_shadow_log').pluck().all()).toEqual(['in-aux']);
  });

  test('triggerNames: the name itself plus a suffix, so different tables never collide', () => {
    const names = ['a-b', 'a_b', 'a b', 'A_b', 'x_ai', 'x', 'x"y', 'ä', 'main.t', 't'];
    const seen = new Map<string, string>();
    for (const n of names) {
      const t = triggerNames(n);
      const key = `${t.schema ?? ''}.${t.table}`;
      for (const name of [t.insert, t.update, t.delete]) {
        const owner = seen.get(`${t.schema ?? ''}.${name}`);
        if (owner !== undefined) expect(owner).toBe(key); // only the same table may repeat a name
        seen.set(`${t.schema ?? ''}.${name}`, key);
      }
    }
    expect(triggerNames('main.t')).toEqual(triggerNames('t'));
    expect(triggerNames('aux.t')).toEqual({ schema: 'aux', table: 't', insert: 't_ai', update: 't_au', delete: 't_ad' });
    // MySQL identifiers stop at 64 characters: long names are cut and hashed, still distinct.
    const long1 = 'x'.repeat(62) + 'a';
    const long2 = 'x'.repeat(62) + 'b';
    const m1 = triggerNames(long1, 'mysql');
    const m2 = triggerNames(long2, 'mysql');
    expect(m1.insert.length).toBeLessThanOrEqual(64);
    expect(m1.insert).not.toBe(m2.insert);
    expect(triggerNames('x'.repeat(61), 'mysql').insert).toBe('x'.repeat(61) + '_ai');
  });
});

describe('bad arguments raise VecsqliteError naming the argument', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['sqliteShadowLogTriggers(42)', () => sqliteShadowLogTriggers(42 as never), /sqliteShadowLogTriggers: expected shadowTable to be a non-empty table name, received 42/],
    ['mysqlShadowLogTriggers(null)', () => mysqlShadowLogTriggers(null as never), /mysqlShadowLogTriggers: expected shadowTable .* received null/],
    ["sqliteShadowLogTriggers('')", () => sqliteShadowLogTriggers(''), /expected shadowTable to be a non-empty table name, received ""/],
    ['seqTable as a number', () => sqliteShadowLogTriggers('docs', 7 as never), /sqliteShadowLogTriggers: expected seqTable .* received 7/],
    ['logTable as an object', () => mysqlShadowLogTriggers('docs', '', {} as never), /mysqlShadowLogTriggers: expected logTable .* received \{\}/],
    ['unknown option', () => sqliteShadowLogTriggers('docs', '', '', { compt: true } as never), /sqliteShadowLogTriggers: unknown option "compt"/],
    ['compat not boolean', () => sqliteShadowLogTriggers('docs', '', '', { compat: 'yes' } as never), /expected options.compat to be a boolean/],
    ['schema without table', () => sqliteShadowLogTriggers('main.'), /expected shadowTable to be "table" or "schema.table", received "main."/],
    ['shadowTableDDL(undefined)', () => shadowTableDDL(undefined as never), /shadowTableDDL: expected table .* received undefined/],
    ['triggerBaseName(1n)', () => vecsync.triggerBaseName(1n as never), /triggerBaseName: expected shadowTable .* received 1n/],
    ['splitMysqlScript(5)', () => vecsync.splitMysqlScript(5 as never), /splitMysqlScript: expected text to be a string, received number/],
    ['decodePayload(null)', () => vecsync.decodePayload(null as never), /decodePayload: expected entry/],
    ['NUL in a name', () => mysqlShadowLogTriggers('a\u0000b'), /without NUL characters/],
  ];
  test.each(cases)('%s', (_name, fn, message) => {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VecsqliteError);
    expect((err as VecsqliteError).code).toBe((err as VecsqliteError).code === 'VECSQLITE_UNKNOWN_OPTION' ? 'VECSQLITE_UNKNOWN_OPTION' : 'VECSQLITE_INVALID_ARGUMENT');
    expect((err as Error).message).toMatch(message);
  });
});

describe('MariaDB trigger names', () => {
  let my: TestMysql | null = null;
  beforeAll(async () => { my = await openTestMysql('trgnames'); });
  afterAll(async () => { await my?.close(); });

  const table = (name: string) => `CREATE TABLE \`${name}\` (dataset_id VARCHAR(64) NOT NULL, id VARCHAR(64) NOT NULL, content TEXT, meta TEXT, embedding BLOB, embedding_model VARCHAR(64), scn BIGINT NOT NULL DEFAULT 0, archived TINYINT NOT NULL DEFAULT 0, PRIMARY KEY (dataset_id, id))`;

  test('a-b and a_b both logged; a second set for db.docs is refused, not doubled', async () => {
    if (!haveMysql(my)) return;
    const c = my.conn;
    await my.exec(
      'CREATE TABLE vec_dataset_scn (dataset_id VARCHAR(64) NOT NULL PRIMARY KEY, next_scn BIGINT NOT NULL)',
      'CREATE TABLE vec_shadow_log (dataset_id VARCHAR(64) NOT NULL, shadow_table VARCHAR(191) NOT NULL, scn BIGINT NOT NULL, op VARCHAR(10) NOT NULL, document_id VARCHAR(64) NOT NULL, payload LONGBLOB NOT NULL, PRIMARY KEY (dataset_id, shadow_table, scn))',
      table('a-b'), table('a_b'), table('docs'),
    );
    for (const t of ['a-b', 'a_b', 'docs']) for (const s of mysqlShadowLogTriggers(t)) await c.query(s);
    await expect(c.query(mysqlShadowLogTriggers(`${my.database}.docs`)[0])).rejects.toThrow(/already exists/);
    await c.query("INSERT INTO `a-b`(dataset_id, id) VALUES ('A', 'x')");
    await c.query("INSERT INTO a_b(dataset_id, id) VALUES ('A', 'y')");
    await c.query("INSERT INTO docs(dataset_id, id) VALUES ('A', 'z')");
    const [rows] = await c.query('SELECT shadow_table, scn, op, document_id FROM vec_shadow_log ORDER BY scn');
    expect((rows as Record<string, unknown>[]).map((r) => `${r.shadow_table}|${r.scn}|${r.op}|${r.document_id}`)).toEqual(['a-b|1|insert|x', 'a_b|2|insert|y', 'docs|3|insert|z']);
  });
});
