// vec0 change log: a connection whose cache is behind other vecsqlite connections' commits
// re-reads only the chunks those commits touched (vec_stats().vec0_refreshes) instead of the
// whole table (vec0_loads). Every check compares the refreshed connection with a connection
// opened afterwards on a copy of the file (another file: it cannot share the refreshed cache,
// test/26), which loads the table whole from the chunk tables; and every case where
// the log cannot be trusted (a commit by sqlite-vec 0.1.9 in between, more commits than the
// log keeps, a damaged log) must fall back to a full reload.
import Database from 'better-sqlite3';
import * as path from 'path';
import { copyOfFile, openDb, openRef, rng, tempDir, DB } from './helpers/db';

const stats = (db: DB) => JSON.parse(db.prepare('select vec_stats()').pluck().get() as string);

interface Layout {
  name: string;
  ddl: string;
  text: boolean; // text primary key
  meta: boolean; // partition key p, metadata m (text) and n (integer)
}
const LAYOUTS: Layout[] = [
  { name: 'integer ids', ddl: 'v float[4], chunk_size=8', text: false, meta: false },
  { name: 'text primary key', ddl: 'id text primary key, v float[4], chunk_size=8', text: true, meta: false },
  {
    name: 'partition key and metadata',
    ddl: 'p integer partition key, v float[4], m text, n integer, chunk_size=8',
    text: false,
    meta: true,
  },
];

function open(file: string, l: Layout, create = false): DB {
  const db = openDb(file);
  if (create) {
    db.pragma('journal_mode = wal');
    db.exec(`create virtual table t using vec0(${l.ddl})`);
  }
  return db;
}

/** A connection to a copy of the database as committed now: it loads its own cache. */
const copyOf = (file: string, l: Layout): DB => open(copyOfFile(file), l);

/** Everything a reader can see of the table: a full scan and a few KNN queries. */
function view(db: DB, l: Layout): unknown {
  const id = l.text ? 'id' : 'rowid';
  const cols = l.meta ? `, p, m, n` : '';
  const scan = db.prepare(`select ${id} as id, vec_to_json(v) as v${cols} from t order by ${id}`).all();
  const knn: unknown[] = [];
  for (const q of ['[0,0,0,0]', '[1,-1,0.5,2]', '[-2,1,1,-1]']) {
    knn.push(db.prepare(`select ${id} as id, distance from t where v match ? and k = 5`).all(q));
    if (l.meta) {
      knn.push(db.prepare(`select rowid, distance from t where v match ? and k = 4 and p = 1`).all(q));
      knn.push(db.prepare(`select rowid, distance from t where v match ? and k = 4 and n > 3 and m != 'x'`).all(q));
    }
  }
  return { scan, knn };
}

/** One random write transaction on `db` (1 to 6 statements). */
function randomTxn(db: DB, l: Layout, r: () => number, nextId: () => number): void {
  const vec = () => JSON.stringify(Array.from({ length: 4 }, () => Math.round((r() * 4 - 2) * 100) / 100));
  const existing = () => {
    const ids = db.prepare(`select ${l.text ? 'id' : 'rowid'} as id from t`).all().map((x: any) => x.id);
    return ids.length ? ids[Math.floor(r() * ids.length)] : null;
  };
  const texts = ['x', 'short', 'a text longer than twelve bytes', 'another long metadata text value'];
  const metaVals = () => [Math.floor(r() * 3), texts[Math.floor(r() * texts.length)], Math.floor(r() * 8)];
  db.transaction(() => {
    const ops = 1 + Math.floor(r() * 6);
    for (let o = 0; o < ops; o++) {
      const x = r();
      const target = existing();
      if (x < 0.45 || target === null) {
        const id = nextId();
        if (l.text) db.prepare('insert into t(id, v) values (?, ?)').run(`k${id}`, vec());
        else if (l.meta) db.prepare('insert into t(rowid, p, v, m, n) values (?, ?, ?, ?, ?)').run(id, ...[metaVals()[0]], vec(), ...metaVals().slice(1));
        else db.prepare('insert into t(rowid, v) values (?, ?)').run(id, vec());
      } else if (x < 0.6) {
        if (l.text) db.prepare('insert or replace into t(id, v) values (?, ?)').run(target, vec());
        else db.prepare('update t set v = ? where rowid = ?').run(vec(), target);
      } else if (x < 0.7 && l.meta) {
        const [, m, n] = metaVals();
        db.prepare('update t set m = ?, n = ? where rowid = ?').run(m, n, target);
      } else if (x < 0.9) {
        db.prepare(`delete from t where ${l.text ? 'id' : 'rowid'} = ?`).run(target);
      } else {
        // A run of deletes: empties whole chunks (which are then deleted).
        const ids = db.prepare(`select ${l.text ? 'id' : 'rowid'} as id from t order by ${l.text ? 'id' : 'rowid'} limit 9`).all();
        for (const row of ids) db.prepare(`delete from t where ${l.text ? 'id' : 'rowid'} = ?`).run((row as any).id);
      }
    }
  })();
}

describe.each(LAYOUTS)('vec0 refresh from the change log: $name', (l) => {
  test('random commits by another connection: refreshed, never reloaded, same as a fresh load', () => {
    const file = path.join(tempDir(), 'r.db');
    const a = open(file, l, true);
    const b = open(file, l);
    let id = 1;
    const nextId = () => id++;
    const r = rng(7);
    for (let i = 0; i < 30; i++) randomTxn(b, l, r, nextId);
    view(a, l); // a's cache is loaded
    const l0 = stats(a).vec0_loads;
    const f0 = stats(a).vec0_refreshes;
    for (let round = 0; round < 40; round++) {
      const commits = 1 + Math.floor(r() * 3); // a falls up to 3 commits behind
      for (let c = 0; c < commits; c++) randomTxn(b, l, r, nextId);
      const fresh = copyOf(file, l);
      expect({ round, v: view(a, l) }).toEqual({ round, v: view(fresh, l) });
      fresh.close();
    }
    // Fresh connections load their own caches; a only ever refreshed.
    const s = stats(a);
    expect(s.vec0_refreshes - f0).toBe(40);
    expect(s.vec0_loads - l0).toBe(40); // the 40 `fresh` connections, none by a
    // And a's own writes still work on the refreshed cache.
    randomTxn(a, l, r, nextId);
    const fresh = copyOf(file, l);
    expect(view(a, l)).toEqual(view(fresh, l));
    expect(view(b, l)).toEqual(view(fresh, l));
    fresh.close();
    a.close();
    b.close();
  });
});

describe('vec0 refresh: when the change log cannot be used', () => {
  const l = LAYOUTS[0];
  function setup() {
    const file = path.join(tempDir(), 'f.db');
    const a = open(file, l, true);
    const b = open(file, l);
    const ins = b.prepare('insert into t(rowid, v) values (?, ?)');
    for (let i = 1; i <= 40; i++) ins.run(i, JSON.stringify([i, 0, 0, 0]));
    view(a, l);
    return { file, a, b };
  }
  const near = (db: DB) =>
    db.prepare("select rowid from t where v match '[0,0,0,0]' and k = 3").all().map((x: any) => x.rowid);
  /** After `commit` on another connection, `a` sees `want` through exactly one refresh. */
  const expectRefresh = (a: DB, commit: () => void, want: number[]) => {
    const f0 = stats(a).vec0_refreshes;
    commit();
    expect(near(a)).toEqual(want);
    expect(stats(a).vec0_refreshes).toBe(f0 + 1);
  };

  test('a commit by sqlite-vec 0.1.9 between two vecsqlite commits: full reload', () => {
    const { file, a, b } = setup();
    b.exec('delete from t where rowid = 5');
    const ref = openRef(file);
    ref.exec('delete from t where rowid = 1'); // moves neither token nor sequences: the fingerprint
    ref.close();
    b.exec('delete from t where rowid = 9');
    const l0 = stats(a).vec0_loads;
    expect(near(a)).toEqual([2, 3, 4]);
    expect(stats(a).vec0_loads).toBe(l0 + 1);
    const fresh = copyOf(file, l);
    expect(view(a, l)).toEqual(view(fresh, l));
    fresh.close();
    // From the reloaded cache, the next vecsqlite commit is a refresh again.
    expectRefresh(a, () => b.prepare('insert into t(rowid, v) values (?, ?)').run(100, '[0,0,0,0.5]'), [100, 2, 3]);
    a.close();
    b.close();
  });

  test('an insert by sqlite-vec 0.1.9 after the last vecsqlite commit: full reload', () => {
    const { file, a, b } = setup();
    b.exec('delete from t where rowid = 2');
    const ref = openRef(file);
    ref.prepare('insert into t(rowid, v) values (?, ?)').run(200n, '[0,0,0,0.1]');
    ref.close();
    const l0 = stats(a).vec0_loads;
    expect(near(a)).toEqual([200, 1, 3]);
    expect(stats(a).vec0_loads).toBe(l0 + 1);
    a.close();
    b.close();
  });

  // The ring keeps the last 64 commits (vec0_changelog.h, kSlots).
  test('64 commits behind: a refresh; 65 behind: full reload', () => {
    const { file, a, b } = setup();
    const ins = b.prepare('insert into t(rowid, v) values (?, ?)');
    for (let i = 0; i < 64; i++) ins.run(1000 + i, JSON.stringify([0, 0, 0, 100 + i]));
    let l0 = stats(a).vec0_loads;
    const f0 = stats(a).vec0_refreshes;
    expect(stats(a).vec0_loads).toBe(l0);
    let fresh = copyOf(file, l);
    expect(view(a, l)).toEqual(view(fresh, l));
    fresh.close();
    expect(stats(a).vec0_refreshes).toBe(f0 + 1);
    expect(stats(a).vec0_loads).toBe(l0 + 1); // only the fresh connection's load
    for (let i = 0; i < 64; i++) b.exec(`delete from t where rowid = ${1000 + i}`);
    b.exec('delete from t where rowid = 40'); // the 65th commit
    l0 = stats(a).vec0_loads;
    fresh = copyOf(file, l);
    expect(view(a, l)).toEqual(view(fresh, l));
    fresh.close();
    expect(stats(a).vec0_loads).toBe(l0 + 2); // a's reload and the fresh connection's load
    // The ring holds one row per slot and a head, no more.
    const plain = new Database(file, { readonly: true });
    const keys = plain.prepare("select key from t_info where key like 'vecsqlite_change%' order by key").pluck().all();
    plain.close();
    expect(keys).toEqual([...Array.from({ length: 64 }, (_, i) => `vecsqlite_change_${String(i).padStart(2, '0')}`), 'vecsqlite_change_head']);
    a.close();
    b.close();
  });

  test('a damaged change log: full reload, and the next commit starts a new log', () => {
    const { file, a, b } = setup();
    b.exec('delete from t where rowid = 1');
    const plain = new Database(file); // no extension: the shadow tables are writable
    // The newest entry's row: the chain from a's marker to the table's now runs through it.
    plain.prepare("update t_info set value = ? where key = 'vecsqlite_change_' || " +
      "printf('%02d', (select value from t_info where key = 'vecsqlite_change_head') % 64)").run(Buffer.from([1, 2, 3]));
    plain.close();
    const l0 = stats(a).vec0_loads;
    expect(near(a)).toEqual([2, 3, 4]);
    expect(stats(a).vec0_loads).toBe(l0 + 1);
    expectRefresh(a, () => b.exec('delete from t where rowid = 2'), [3, 4, 5]);
    a.close();
    b.close();
  });

  test('the change log is not part of what the original reads: 0.1.9 opens the file unchanged', () => {
    const { file, a, b } = setup();
    b.exec('delete from t where rowid = 1');
    a.close();
    b.close();
    const ref = openRef(file);
    expect(near(ref)).toEqual([2, 3, 4]);
    ref.close();
  });
});
