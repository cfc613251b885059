// MariaDB / MySQL for tests: VECSQLITE_MYSQL_URL (default mysql://root@127.0.0.1:3306/test).
// Each test file gets its own database, dropped at the end. When the server cannot be reached:
// in CI (CI set) the tests fail; elsewhere they say loudly that they did not run.
import mysql from 'mysql2/promise';

export const MYSQL_URL = process.env.VECSQLITE_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test';

export interface TestMysql {
  conn: mysql.Connection;
  database: string;
  url: string;
  /** Runs statements one by one. */
  exec(...sql: string[]): Promise<void>;
  close(): Promise<void>;
}

export async function openTestMysql(tag: string): Promise<TestMysql | null> {
  let admin: mysql.Connection;
  try {
    admin = await mysql.createConnection({ uri: MYSQL_URL, connectTimeout: 3000 });
  } catch (e) {
    if (process.env.CI) throw new Error(`MySQL/MariaDB is required in CI but ${MYSQL_URL} is unreachable: ${(e as Error).message}`);
    console.warn(`*** SKIPPED: MySQL/MariaDB at ${MYSQL_URL} is unreachable (${(e as Error).message}); the MySQL tests of ${tag} did not run ***`);
    return null;
  }
  const database = `vecsqlite_${tag}_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const u = new URL(MYSQL_URL);
  u.pathname = '/' + database;
  const url = u.toString();
  const conn = await mysql.createConnection({ uri: url, multipleStatements: false });
  return {
    conn,
    database,
    url,
    async exec(...sql: string[]) {
      for (const s of sql) await conn.query(s);
    },
    async close() {
      await conn.query(`DROP DATABASE \`${database}\``);
      await conn.end();
    },
  };
}

/** A guard for test bodies: returns false (after the loud warning) when MySQL is absent. */
export function haveMysql(m: TestMysql | null): m is TestMysql {
  return m !== null;
}
