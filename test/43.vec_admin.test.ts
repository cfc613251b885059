// vec_admin: works (the original fails in xBestIndex), returns
// reindexed:<count>, writes the blob, drops caches; malformed ops and hostile names are errors.
import { f32blob, openDb } from './helpers/db';

function setup() {
  const db = openDb();
  db.exec('CREATE VIRTUAL TABLE vec_knn USING vec(doc_id)');
  db.exec('CREATE VIRTUAL TABLE vec_admin USING vec_admin(op)');
  const ins = db.prepare('INSERT INTO _vec_vec_knn(dataset_id, id, embedding) VALUES (?,?,?)');
  ins.run('ds', 'a', f32blob([1, 0]));
  ins.run('ds', 'b', f32blob([0, 1]));
  ins.run('ds', 'none', null);
  ins.run('rootA', 'c', f32blob([1, 1]));
  return db;
}
const op = (db: ReturnType<typeof openDb>, arg: unknown) => db.prepare('SELECT op FROM vec_admin WHERE op MATCH ?').pluck().all(arg);

test('reindexed:<count> counts embedded rows of that dataset and stores a blob', () => {
  const db = setup();
  expect(db.prepare("SELECT op FROM vec_admin WHERE op MATCH 'main._vec_vec_knn:ds'").pluck().all()).toEqual(['reindexed:2']);
  expect(op(db, ' main._vec_vec_knn : rootA ')).toEqual(['reindexed:1']);
  expect(op(db, '_vec_vec_knn:rootA')).toEqual(['reindexed:1']);   // unqualified means main
  expect(op(db, 'main._vec_vec_knn:empty')).toEqual(['reindexed:0']);
  const keys = db.prepare('SELECT shadow_table_name, dataset_id FROM vector_storage ORDER BY dataset_id').all();
  expect(keys).toEqual([
    { shadow_table_name: 'main._vec_vec_knn', dataset_id: 'ds' },
    { shadow_table_name: 'main._vec_vec_knn', dataset_id: 'empty' },
    { shadow_table_name: 'main._vec_vec_knn', dataset_id: 'rootA' },
  ]);
  expect(db.prepare('SELECT count(*) FROM vec_admin').pluck().get()).toBe(0);
});

test('a reindex drops the cached index and the next query loads the new blob', () => {
  const db = setup();
  expect(db.prepare("SELECT doc_id FROM vec_knn WHERE dataset_id='ds' AND doc_id MATCH ?").pluck().all(f32blob([1, 0]))).toEqual(['a', 'b']);
  const s0 = JSON.parse(db.prepare('SELECT vec_stats()').pluck().get() as string);
  expect(op(db, 'main._vec_vec_knn:ds')).toEqual(['reindexed:2']);
  expect(db.prepare("SELECT doc_id FROM vec_knn WHERE dataset_id='ds' AND doc_id MATCH ?").pluck().all(f32blob([0, 1]))).toEqual(['b', 'a']);
  const s1 = JSON.parse(db.prepare('SELECT vec_stats()').pluck().get() as string);
  expect(s1.blob_loads - s0.blob_loads).toBe(1);
});

test('a bad row fails the reindex naming the row', () => {
  const db = setup();
  db.prepare("INSERT INTO _vec_vec_knn(dataset_id, id, embedding) VALUES ('ds','bad',?)").run(f32blob([1, 2, 3]));
  expect(() => op(db, 'main._vec_vec_knn:ds')).toThrow(/^vec: dataset 'ds' row 5 \(id 'bad'\): embedding dimension 3 differs from the dataset's 2$/);
});

test('malformed ops and hostile names give clear errors', () => {
  const db = setup();
  expect(() => op(db, 42)).toThrow(/^vec_admin: MATCH expects shadow table name as TEXT$/);
  expect(() => op(db, 'main._vec_vec_knn')).toThrow(/^vec_admin: MATCH expects 'shadow:dataset', got "main._vec_vec_knn"$/);
  expect(() => op(db, ':ds')).toThrow(/^vec_admin: MATCH expects 'shadow:dataset', got ":ds"$/);
  expect(() => op(db, 'main._vec_vec_knn:  ')).toThrow(/^vec_admin: MATCH expects 'shadow:dataset', got "main._vec_vec_knn:  "$/);
  expect(() => op(db, 'nope._vec_vec_knn:ds')).toThrow(/^vec_admin: unknown schema "nope"$/);
  expect(() => op(db, 'main._vec_missing:ds')).toThrow(/^vec_admin: no such table main._vec_missing$/);
  expect(() => op(db, 'main.vector_storage:ds')).toThrow(/^vec_admin: main.vector_storage is not a vec data table/);
  const hostile = ['main._vec_vec_knn; DROP TABLE _vec_vec_knn; --:ds', 'main."_vec_vec_knn":ds', "main._vec_vec_knn' OR 1=1 --:ds"];
  for (const h of hostile) expect(() => op(db, h)).toThrow(/^vec_admin: no such table /);
  expect(db.prepare('SELECT count(*) FROM _vec_vec_knn').pluck().get()).toBe(4);
  expect(op(db, null)).toEqual([]);
});
