// SQL on a registry's database through a connection of the test's own: the registry keeps its
// connection private, and a test that inspects or tampers with rows should not borrow it.
import * as path from 'path';
import { SqlDb, SqliteDb, SqlValue } from '../../../src/core/registry/db';
import { PgDb } from '../../../src/core/registry/pgDb';
import type { Registry } from '../../../src/core/registry/registry';
import type { ObjectStore } from '../../../src/core/store/types';

/** Each statement opens a connection (SQLite file, or the team database), runs, and closes it. */
export function sqlOf(r: Registry<ObjectStore>) {
  const open = (): Promise<SqlDb> =>
    /^postgres(ql)?:\/\//.test(r.location) ? PgDb.open(r.location) : SqliteDb.open(path.join(r.dir, 'registry.db'));
  const once = async <T>(f: (db: SqlDb) => Promise<T>): Promise<T> => {
    const db = await open();
    try {
      return await f(db);
    } finally {
      await db.close();
    }
  };
  return {
    all: <T>(sql: string, params?: SqlValue[]) => once((db) => db.all<T>(sql, params)),
    get: <T>(sql: string, params?: SqlValue[]) => once((db) => db.get<T>(sql, params)),
    run: (sql: string, params?: SqlValue[]) => once((db) => db.run(sql, params)),
    exec: (sql: string) => once((db) => db.exec(sql)),
  };
}
