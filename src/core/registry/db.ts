import * as sqlite3 from 'sqlite3';

export type SqlValue = string | number | bigint | null | Buffer;

/** The SQL operations the registry needs; one implementation per backend (SQLite now, PostgreSQL later). */
export interface SqlDb {
  all<T>(sql: string, params?: SqlValue[]): Promise<T[]>;
  get<T>(sql: string, params?: SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: SqlValue[]): Promise<{ changes: number; lastId: number }>;
  exec(sql: string): Promise<void>;
  /** Runs fn inside one write transaction; everything fn does through `tx` commits or rolls back together. */
  transaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /**
   * A database that other machines share (PostgreSQL) tells their watchers about a change; a local
   * one has no need (its folder's change stamp does that).
   */
  announce?(stamp: string): Promise<void>;
  /** Calls `onChange` with each change another connection announces, until the returned stop is called. */
  watch?(onChange: (stamp: string) => void, retryMs?: number): Promise<() => Promise<void>>;
}

const BUSY_TIMEOUT_MS = 10_000;

/** Runs op again while it fails with SQLITE_BUSY, backing off, for at most timeoutMs. */
async function retryBusy<T>(op: () => Promise<T>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 5; ; delay = Math.min(2 * delay, 100)) {
    try {
      return await op();
    } catch (e) {
      if ((e as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw e;
      await new Promise((resolve) => setTimeout(resolve, delay * (0.5 + Math.random())));
    }
  }
}

/**
 * SQLite through the async `sqlite3` driver. One connection per process; a promise queue keeps a
 * transaction's statements from interleaving with other callers' statements on that connection.
 */
export class SqliteDb implements SqlDb {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly db: sqlite3.Database) {}

  static async open(file: string): Promise<SqliteDb> {
    const db = await new Promise<sqlite3.Database>((resolve, reject) => {
      const d = new sqlite3.Database(file, (err) => (err ? reject(err) : resolve(d)));
    });
    const s = new SqliteDb(db);
    // Another process (CLI, second window) may hold the write lock briefly; wait instead of failing.
    db.configure('busyTimeout', BUSY_TIMEOUT_MS);
    try {
      // Switching a database to WAL takes an exclusive lock from inside a statement that already
      // reads it, so SQLite answers a conflict with SQLITE_BUSY at once instead of waiting (waiting
      // could deadlock). Two processes creating the registry together hit that: retry as the busy
      // timeout would. The mode is stored in the file, so an existing registry skips this.
      const mode = await s.get<{ journal_mode: string }>('PRAGMA journal_mode');
      if (mode?.journal_mode !== 'wal') await retryBusy(() => s.exec('PRAGMA journal_mode=WAL'), BUSY_TIMEOUT_MS);
      await s.exec('PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;');
    } catch (e) {
      await s.close().catch(() => undefined);
      throw e;
    }
    return s;
  }

  private locked<T>(op: () => Promise<T>): Promise<T> {
    const next = this.queue.then(op, op);
    this.queue = next.catch(() => undefined);
    return next;
  }

  all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return this.locked(() => this.rawAll<T>(sql, params));
  }
  get<T>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    return this.locked(() => this.rawGet<T>(sql, params));
  }
  run(sql: string, params: SqlValue[] = []) {
    return this.locked(() => this.rawRun(sql, params));
  }
  exec(sql: string): Promise<void> {
    return this.locked(() => this.rawExec(sql));
  }

  transaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T> {
    return this.locked(async () => {
      // IMMEDIATE takes the write lock up front, so two processes cannot both read-then-write.
      await this.rawExec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.inTransaction());
        await this.rawExec('COMMIT');
        return result;
      } catch (e) {
        await this.rawExec('ROLLBACK').catch(() => undefined);
        throw e;
      }
    });
  }

  close(): Promise<void> {
    return this.locked(() => new Promise<void>((resolve, reject) => this.db.close((e) => (e ? reject(e) : resolve()))));
  }

  /** A view of this connection for use inside a transaction: no queueing (the queue is held). */
  private inTransaction(): SqlDb {
    return {
      all: (sql, params = []) => this.rawAll(sql, params),
      get: (sql, params = []) => this.rawGet(sql, params),
      run: (sql, params = []) => this.rawRun(sql, params),
      exec: (sql) => this.rawExec(sql),
      transaction: () => Promise.reject(new Error('nested transactions are not supported')),
      close: () => Promise.reject(new Error('cannot close inside a transaction')),
    };
  }

  private rawAll<T>(sql: string, params: SqlValue[]): Promise<T[]> {
    return new Promise((resolve, reject) =>
      this.db.all(sql, params, (e, rows) => (e ? reject(e) : resolve(rows as T[]))),
    );
  }
  private rawGet<T>(sql: string, params: SqlValue[]): Promise<T | undefined> {
    return new Promise((resolve, reject) =>
      this.db.get(sql, params, (e, row) => (e ? reject(e) : resolve(row as T | undefined))),
    );
  }
  private rawRun(sql: string, params: SqlValue[]): Promise<{ changes: number; lastId: number }> {
    return new Promise((resolve, reject) =>
      this.db.run(sql, params, function (this: sqlite3.RunResult, e: Error | null) {
        if (e) reject(e);
        else resolve({ changes: this.changes, lastId: this.lastID });
      }),
    );
  }
  private rawExec(sql: string): Promise<void> {
    return new Promise((resolve, reject) => this.db.exec(sql, (e) => (e ? reject(e) : resolve())));
  }
}
