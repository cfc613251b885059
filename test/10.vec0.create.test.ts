// vec0 CREATE: syntax, constructor errors, shadow tables (DDL, order), xShadowName, DROP, rename.
import { openDb, DB, openRef } from './helpers/db';

const createError = (db: DB, args: string): string | null => {
  try {
    db.exec(`create virtual table t using vec0(${args})`);
    db.exec('drop table t');
    return null;
  } catch (e) {
    return (e as Error).message;
  }
};

describe('vec0 CREATE', () => {
  // The reference's messages, checked literally and against 0.1.9 itself.
  const cases: [string, string | null][] = [
    ['a float[2]', null],
    ['a float32[2]', null],
    ['a f32 [ 2 ]', null],
    ['a int8[3]', null],
    ['a i8[3]', null],
    ['a bit[8]', null],
    ['a float[2] distance_metric=cosine', null],
    ['a float[2] distance_metric=l1 distance_metric=l2', null],
    ['id integer primary key, a float[2]', null],
    ['id text primary key, a float[2]', null],
    ['id te primary key, a float[2]', null],
    ['a float[2], chunk_size=8', null],
    ['a float[8193]', 'vec0 constructor error: Dimension on vector column too large, provided 8193, maximum 8192'],
    ['a float[0]', "vec0 constructor error: could not parse vector column 'a float[0]'"],
    ['a float[2] distance_metric=dot', "vec0 constructor error: could not parse vector column 'a float[2] distance_metric=dot'"],
    ['a bit[8] distance_metric=l2', "vec0 constructor error: could not parse vector column 'a bit[8] distance_metric=l2'"],
    ['_a float[2]', "vec0 constructor error: Could not parse '_a float[2]'"],
    ['a float[2], chunk_size=0', 'vec0 constructor error: chunk_size must be a non-zero positive integer'],
    ['a float[2], chunk_size=12', 'vec0 constructor error: chunk_size must be divisible by 8'],
    ['a float[2], chunk_size=8192', 'vec0 constructor error: chunk_size too large'],
    ['a float[2], chunk_size=', "vec0 constructor error: could not parse table option 'chunk_size='"],
    ['a float[2], foo=8', 'vec0 constructor error: Unknown table option: foo'],
    ['id integer primary key', 'vec0 constructor error: At least one vector column is required'],
    ['id integer primary key, x text primary key, a float[2]',
      'vec0 constructor error: More than one primary key definition was provided, vec0 only suports a single primary key column'],
    ['a float[2], a float[2]', "vec0 constructor error: could not declare virtual table, 'duplicate column name: a'"],
    ['distance float[2]', "vec0 constructor error: could not declare virtual table, 'duplicate column name: distance'"],
    // Issue 6: partition / metadata / aux definitions and the original's parser quirks.
    ['a float[2], p text partition key, q integer partition key, r int partition key', null],
    ['a float[2], p te partition key', null],
    ['a float[2], p text part key', null],
    ['a float[2], p text partition key extra', null],
    ['a float[2], b boolean, c bool, d int64, e integer64, f integer, g int, h float, i double, j float64, k2 f64, l text', null],
    ['a float[2], b i, c f, d t, e boo, f d', null],
    ['a float[2], b text not null, c integer default 5', null],
    ['a float[2], b float', null],
    ['a float[2], b float not null', "vec0 constructor error: could not parse vector column 'b float not null'"],
    ['a float[2], b float partition key', "vec0 constructor error: could not parse vector column 'b float partition key'"],
    ['a float[2] extra', "vec0 constructor error: could not parse vector column 'a float[2] extra'"],
    ['a float[2], +b text, +c int, +d integer, +e float, +f double, +g blob', null],
    ['a float[2], +b text extra, + c te', null],
    ['a float[2], +b', null],
    ['a float[2], +t', null],
    ['a float[2], +1 text', null],
    ['a float[2], +y', 'vec0 constructor error: chunk_size must be a non-zero positive integer'],
    ['a float[2], +y any', 'vec0 constructor error: chunk_size must be a non-zero positive integer'],
    ['a float[2], +b float64', 'vec0 constructor error: chunk_size must be a non-zero positive integer'],
    ['a float[2], +', "vec0 constructor error: Could not parse '+'"],
    ['a float[2], +_x text', "vec0 constructor error: Could not parse '+_x text'"],
    ['a float[2], b blob', 'vec0 constructor error: Unknown table option: b'],
    ['a float[2], x y z', 'vec0 constructor error: Unknown table option: x'],
    ['a float[2], b', "vec0 constructor error: Could not parse 'b'"],
    ['a float[2], chunk_size 8', null],
    ['a float[2], c= 16', null],
    ['a float[2], ch=x', 'vec0 constructor error: chunk_size must be a non-zero positive integer'],
    ['a float[2], c 12', 'vec0 constructor error: chunk_size must be divisible by 8'],
    ['a float[2], chunk_size = 16 x', "vec0 constructor error: could not parse table option 'chunk_size = 16 x'"],
    ['a float[2], chunk_sizex=8', 'vec0 constructor error: Unknown table option: chunk_sizex'],
    ['a float[2], chunk_size', "vec0 constructor error: Could not parse 'chunk_size'"],
    ['a float[2], p text partition key, p integer', "vec0 constructor error: could not declare virtual table, 'duplicate column name: p'"],
    ['a float[2], +k text', "vec0 constructor error: could not declare virtual table, 'duplicate column name: k'"],
  ];
  test.each(cases)('vec0(%s)', (args, expected) => {
    const ours = openDb();
    const ref = openRef();
    expect(createError(ours, args)).toBe(expected);
    expect(createError(ref, args)).toBe(expected);
  });

  test('17 vector columns are too many', () => {
    const cols = Array.from({ length: 17 }, (_, i) => `c${i} float[1]`).join(', ');
    expect(createError(openDb(), cols)).toBe('vec0 constructor error: Too many provided vector columns, maximum 16');
    expect(createError(openDb(), cols.split(', ').slice(0, 16).join(', '))).toBeNull();
  });

  test('partition keys, metadata and auxiliary columns: shadow DDL and order identical to 0.1.9', () => {
    const spec =
      'create virtual table v using vec0(p text partition key, n integer, +x text, a float[2], s text, q int partition key, +y blob, f float, b boolean, chunk_size=8)';
    const ours = openDb();
    const ref = openRef();
    ours.exec(spec);
    ref.exec(spec);
    const dump = (db: DB) => db.prepare('select type, name, tbl_name, rootpage, sql from sqlite_master order by rowid').all();
    expect(dump(ours)).toEqual(dump(ref));
    const names = (dump(ours) as any[]).map((r) => r.name);
    expect(names).toEqual(expect.arrayContaining(['v_metadatachunks00', 'v_metadatachunks01', 'v_metadatatext01', 'v_auxiliary']));
    expect((dump(ours) as any[]).find((r) => r.name === 'v_chunks').sql).toBe(
      'CREATE TABLE "v_chunks"(chunk_id INTEGER PRIMARY KEY AUTOINCREMENT,size INTEGER NOT NULL,sequence_id integer,partition00,partition01,validity BLOB NOT NULL, rowids BLOB NOT NULL)',
    );
    expect((dump(ours) as any[]).find((r) => r.name === 'v_auxiliary').sql).toBe(
      'CREATE TABLE "v_auxiliary"( rowid integer PRIMARY KEY , value00, value01)',
    );
    // Declared columns in declaration order.
    const cols = (db: DB) => db.prepare("select name from pragma_table_xinfo('v')").all().map((r: any) => r.name);
    expect(cols(ours)).toEqual(['rowid', 'p', 'n', 'x', 'a', 's', 'q', 'y', 'f', 'b', 'distance', 'k']);
    expect(cols(ours)).toEqual(cols(ref));
    // Shadow names as the original reports them.
    const shadows = (db: DB) => db.prepare("select name from pragma_table_list where type = 'shadow' order by name").all();
    expect(shadows(ours)).toEqual(shadows(ref));
    // DROP removes every shadow table.
    ours.exec('drop table v');
    expect(ours.prepare("select count(*) as c from sqlite_master where name like 'v%'").get()).toEqual({ c: 0 });
  });

  test('column-kind limits and parse quirks of partition / metadata / aux definitions', () => {
    const db = openDb();
    const parts = Array.from({ length: 5 }, (_, i) => `p${i} text partition key`).join(', ');
    expect(createError(db, `a float[2], ${parts}`)).toBe('vec0 constructor error: More than 4 partition key columns were provided');
    expect(createError(db, `a float[2], ${parts.split(', ').slice(0, 4).join(', ')}`)).toBeNull();
    const metas = Array.from({ length: 17 }, (_, i) => `m${i} integer`).join(', ');
    expect(createError(db, `a float[2], ${metas}`)).toBe('vec0 constructor error: More than 16 metadata columns were provided');
    expect(createError(db, `a float[2], ${metas.split(', ').slice(0, 16).join(', ')}`)).toBeNull();
    const auxs = Array.from({ length: 17 }, (_, i) => `+x${i} text`).join(', ');
    expect(createError(db, `a float[2], ${auxs}`)).toBe('vec0 constructor error: More than 16 auxiliary columns were provided');
    expect(createError(db, `a float[2], ${auxs.split(', ').slice(0, 16).join(', ')}`)).toBeNull();
    // Tokens after a metadata type are ignored (as 0.1.9): `pk text not null primary key` is metadata.
    db.exec('create virtual table m using vec0(a float[1], pk text not null primary key, c integer default 5, +z integer not null)');
    expect(db.prepare("select name from pragma_table_xinfo('m')").all().map((r: any) => r.name)).toEqual(['rowid', 'a', 'pk', 'c', 'z', 'distance', 'k']);
    expect(createError(db, 'a float[2], b text, b integer')).toBe("vec0 constructor error: could not declare virtual table, 'duplicate column name: b'");
    expect(createError(db, 'a float[2], distance integer')).toBe("vec0 constructor error: could not declare virtual table, 'duplicate column name: distance'");
  });

  test('shadow tables: exact DDL in the original order, info rows, declared columns', () => {
    const db = openDb();
    db.exec('create virtual table v using vec0(id text primary key, a float[2], b bit[16])');
    const rows = db.prepare("select type, name, sql from sqlite_master where tbl_name like 'v%' order by rowid").all();
    expect(rows).toEqual([
      { type: 'table', name: 'v', sql: 'CREATE VIRTUAL TABLE v using vec0(id text primary key, a float[2], b bit[16])' },
      { type: 'table', name: 'v_info', sql: 'CREATE TABLE "v_info" (key text primary key, value any)' },
      { type: 'index', name: 'sqlite_autoindex_v_info_1', sql: null },
      { type: 'table', name: 'v_chunks', sql: 'CREATE TABLE "v_chunks"(chunk_id INTEGER PRIMARY KEY AUTOINCREMENT,size INTEGER NOT NULL,validity BLOB NOT NULL,rowids BLOB NOT NULL)' },
      { type: 'table', name: 'v_rowids', sql: 'CREATE TABLE "v_rowids"(rowid INTEGER PRIMARY KEY AUTOINCREMENT,id TEXT UNIQUE NOT NULL,chunk_id INTEGER,chunk_offset INTEGER)' },
      { type: 'index', name: 'sqlite_autoindex_v_rowids_1', sql: null },
      { type: 'table', name: 'v_vector_chunks00', sql: 'CREATE TABLE "v_vector_chunks00"(rowid PRIMARY KEY,vectors BLOB NOT NULL)' },
      { type: 'index', name: 'sqlite_autoindex_v_vector_chunks00_1', sql: null },
      { type: 'table', name: 'v_vector_chunks01', sql: 'CREATE TABLE "v_vector_chunks01"(rowid PRIMARY KEY,vectors BLOB NOT NULL)' },
      { type: 'index', name: 'sqlite_autoindex_v_vector_chunks01_1', sql: null },
    ]);
    expect(db.prepare('select key, value from v_info order by rowid').all()).toEqual([
      { key: 'CREATE_VERSION', value: 'v0.1.9' },
      { key: 'CREATE_VERSION_MAJOR', value: 0 },
      { key: 'CREATE_VERSION_MINOR', value: 1 },
      { key: 'CREATE_VERSION_PATCH', value: 9 },
    ]);
    expect(db.prepare('select name, hidden, pk from pragma_table_xinfo(?)').all('v')).toEqual([
      { name: 'id', hidden: 0, pk: 1 },
      { name: 'a', hidden: 0, pk: 0 },
      { name: 'b', hidden: 0, pk: 0 },
      { name: 'distance', hidden: 1, pk: 0 },
      { name: 'k', hidden: 1, pk: 0 },
    ]);
    expect(() => db.prepare('select rowid from v').all()).toThrow('no such column: rowid');
  });

  test('xShadowName reports rowids, chunks, info but not vector_chunks (as the original)', () => {
    const db = openDb();
    db.exec('create virtual table v using vec0(a float[2])');
    const types = Object.fromEntries(
      db.prepare("select name, type from pragma_table_list where name like 'v%'").all().map((r: any) => [r.name, r.type]),
    );
    expect(types).toEqual({ v: 'virtual', v_info: 'shadow', v_chunks: 'shadow', v_rowids: 'shadow', v_vector_chunks00: 'table' });
    db.exec("insert into v(rowid, a) values (1, '[1,2]')");
  });

  test('DROP removes every shadow table; ALTER TABLE RENAME renames every one and keeps working', () => {
    const db = openDb();
    db.exec('create virtual table t1 using vec0(a float[2], b int8[2], chunk_size=8)');
    db.prepare("insert into t1(rowid, a, b) values (?, ?, vec_int8('[1,2]'))").run(1, '[1,2]');
    db.exec('alter table t1 rename to t2');
    expect(db.prepare("select name from sqlite_master where name like 't1%'").all()).toEqual([]);
    expect(db.prepare("select name from sqlite_master where name like 't2%' and type = 'table' order by rowid").all().map((r: any) => r.name))
      .toEqual(['t2', 't2_info', 't2_chunks', 't2_rowids', 't2_vector_chunks00', 't2_vector_chunks01']);
    db.prepare('delete from t2 where rowid = 1').run();
    db.prepare("insert into t2(rowid, a, b) values (?, ?, vec_int8('[1,2]'))").run(2, '[3,4]');
    expect(db.prepare("select rowid from t2 where a match '[3,4]' and k = 1").all()).toEqual([{ rowid: 2 }]);
    db.exec('drop table t2');
    expect(db.prepare("select name from sqlite_master where name like 't%'").all()).toEqual([]);
  });

  test('VACUUM keeps the table working', () => {
    const db = openDb();
    db.exec('create virtual table v using vec0(a float[2])');
    db.prepare('insert into v(rowid, a) values (?, ?)').run(7, '[1,1]');
    db.exec('vacuum');
    expect(db.prepare("select rowid, distance from v where a match '[1,1]' and k = 3").all()).toEqual([{ rowid: 7, distance: 0 }]);
  });
});
