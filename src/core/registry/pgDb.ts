import type { Pool, PoolClient } from 'pg';
import { pgDriver } from '../util/lazyModules';
import { RegistryError } from '../errors';
import { SqlDb, SqlValue } from './db';

/**
 * The registry's SQL on PostgreSQL (the team registry). The registry writes one dialect, SQLite's;
 * the few differences are rewritten here so both backends run the same statements and migrations:
 * `?` → `$n`, LIKE → ILIKE (SQLite's LIKE ignores ASCII case), group_concat → string_agg, and in DDL
 * 64-bit integers, identity keys, doubles and BYTEA. Ids come back through `RETURNING id`.
 */

/** Serialises writers as SQLite's BEGIN IMMEDIATE does: every write transaction takes this lock first. */
const WRITE_LOCK = 0x6d6f64656c; // "model"
/** Where writers announce changes (NOTIFY) and watchers, such as the Team Registry view, listen. */
const CHANNEL = 'modelreg_changed';
/** Tables whose rows have an `id` the registry reads back after an insert. */
const ID_TABLES = /^\s*INSERT\s+INTO\s+(models|versions|alias_history|datasets|evaluations)\b/i;

/** int8 (COUNT, ids, sizes) and numeric (SUM) as JS numbers, like SQLite gives them; sizes stay far below 2^53. */
const parseNumber = (v: string) => Number(v);
const TYPES = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === 20 || oid === 1700 ? parseNumber : pgDriver().types.getTypeParser(oid, format ?? 'text'),
};

export class PgDb implements SqlDb {
  private constructor(
    private readonly pool: Pool,
    /** With the password, if one was given apart. */
    private readonly url: string,
    /** The connection string without its password, for messages. */
    readonly where: string,
  ) {
    this.onPool = this.over(pool);
  }

  private readonly onPool: Pick<SqlDb, 'all' | 'get' | 'run' | 'exec'>;

  /** `password` when not in the URL (otherwise PGPASSWORD or ~/.pgpass, as libpq does). */
  static async open(url: string, password?: string): Promise<PgDb> {
    const full = withPassword(url, password);
    const pool = new (pgDriver().Pool)({
      connectionString: full,
      max: 4,
      types: TYPES,
      connectionTimeoutMillis: 10_000,
      idleTimeoutMillis: 30_000,
    });
    const db = new PgDb(pool, full, redact(url));
    // An idle connection whose server went away reports here; without a listener the process dies.
    pool.on('error', () => undefined);
    try {
      await db.get('SELECT 1');
    } catch (e) {
      await pool.end().catch(() => undefined);
      // pg's words for "the server wants a password and none was given".
      if (/client password must be a string/.test((e as Error).message)) {
        throw new RegistryError(
          `${db.where} wants a password: give it in the extension (Enter Team Registry Credentials…), in PGPASSWORD or in ~/.pgpass`,
        );
      }
      throw e;
    }
    return db;
  }

  all<T>(sql: string, params: SqlValue[] = []): Promise<T[]> {
    return this.onPool.all<T>(sql, params);
  }
  get<T>(sql: string, params: SqlValue[] = []): Promise<T | undefined> {
    return this.onPool.get<T>(sql, params);
  }
  run(sql: string, params: SqlValue[] = []) {
    return this.onPool.run(sql, params);
  }
  exec(sql: string): Promise<void> {
    return this.onPool.exec(sql);
  }

  async transaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch((e) => Promise.reject(this.unreachable(e)));
    let broken = false;
    try {
      await this.query(client, 'BEGIN', undefined);
      await this.query(client, `SELECT pg_advisory_xact_lock(${WRITE_LOCK})`, undefined);
      const tx: SqlDb = {
        ...this.over(client),
        transaction: () => Promise.reject(new Error('nested transactions are not supported')),
        close: () => Promise.reject(new Error('cannot close inside a transaction')),
      };
      const result = await fn(tx);
      await this.query(client, 'COMMIT', undefined);
      return result;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw e;
    } finally {
      client.release(broken);
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  async announce(stamp: string): Promise<void> {
    await this.run(`SELECT pg_notify('${CHANNEL}', ?)`, [stamp]);
  }

  /**
   * LISTENs on a connection of its own (a pooled one would be handed to others). When the server
   * goes away it tries again every `retryMs`; once back it reports a change with an empty stamp,
   * since what happened meanwhile is unknown.
   */
  async watch(onChange: (stamp: string) => void, retryMs = 5000): Promise<() => Promise<void>> {
    let stopped = false;
    let current: import('pg').Client | undefined;
    let timer: NodeJS.Timeout | undefined;
    const schedule = () => {
      if (!stopped && !timer)
        timer = setTimeout(() => ((timer = undefined), void listen().then(() => onChange(''), schedule)), retryMs);
    };
    const listen = async () => {
      const client = new (pgDriver().Client)({ connectionString: this.url });
      client.on('error', () => undefined); // followed by 'end'
      client.on('end', () => client === current && ((current = undefined), schedule()));
      client.on('notification', (n) => n.channel === CHANNEL && onChange(n.payload ?? ''));
      try {
        await client.connect();
        await client.query(`LISTEN ${CHANNEL}`);
      } catch (e) {
        await client.end().catch(() => undefined);
        throw e;
      }
      if (stopped) return void (await client.end());
      current = client;
    };
    await listen();
    return async () => {
      stopped = true;
      clearTimeout(timer);
      await current?.end();
    };
  }

  /** The statements on the pool, or on one client (a transaction's). */
  private over(on: Pool | PoolClient): Pick<SqlDb, 'all' | 'get' | 'run' | 'exec'> {
    return {
      all: <T>(sql: string, params: SqlValue[] = []) => this.query(on, sql, params).then((r) => r.rows as T[]),
      get: <T>(sql: string, params: SqlValue[] = []) =>
        this.query(on, sql, params).then((r) => r.rows[0] as T | undefined),
      run: async (sql, params = []) => {
        const returning = ID_TABLES.test(sql) && !/\bRETURNING\b/i.test(sql);
        const r = await this.query(on, returning ? `${sql} RETURNING id` : sql, params);
        return { changes: r.rowCount ?? 0, lastId: returning && r.rows.length ? Number(r.rows[0].id) : 0 };
      },
      exec: (sql) => this.query(on, toPostgresDdl(sql), undefined).then(() => undefined),
    };
  }

  private async query(on: Pool | PoolClient, sql: string, params: SqlValue[] | undefined) {
    try {
      return await on.query(
        params ? toPostgres(sql) : sql,
        params?.map((p) => (typeof p === 'bigint' ? p.toString() : p)),
      );
    } catch (e) {
      throw isConnectionError(e) ? this.unreachable(e) : e;
    }
  }

  private unreachable(e: unknown): RegistryError {
    return new RegistryError(
      `the team registry database ${this.where} is unreachable: ${(e as Error).message || (e as { code?: string }).code}`,
    );
  }
}

/** The SQLite-dialect statement the registry writes, as PostgreSQL reads it (string literals left alone). */
export function toPostgres(sql: string): string {
  let n = 0;
  return mapOutsideStrings(sql, (code) =>
    code
      .replace(/\?/g, () => `$${++n}`)
      .replace(/\bLIKE\b/g, 'ILIKE')
      .replace(/\bgroup_concat\(/g, 'string_agg(')
      .replace(/\bchar\(31\)/g, 'chr(31)'),
  );
}

/** SQLite column types as PostgreSQL's: 64-bit integers (sizes pass 2^31), identity keys, doubles, BYTEA. */
export function toPostgresDdl(sql: string): string {
  return mapOutsideStrings(sql, (code) =>
    code
      .replace(/\bINTEGER PRIMARY KEY\b/g, 'BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY')
      .replace(/\bINTEGER\b/g, 'BIGINT')
      .replace(/\bREAL\b/g, 'DOUBLE PRECISION')
      .replace(/\bBLOB\b/g, 'BYTEA')
      .replace(/\)\s*WITHOUT ROWID/g, ')'),
  );
}

function mapOutsideStrings(sql: string, f: (code: string) => string): string {
  // Split into code and '…' literals ('' inside a literal is a quote); only code is rewritten.
  return sql
    .split(/('(?:[^']|'')*')/)
    .map((part, i) => (i % 2 ? part : f(part)))
    .join('');
}

function isConnectionError(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? '';
  // No SQLSTATE (a socket error), class 08 (connection exception), 57P01-03 (server shutting down).
  return (
    /^(E[A-Z]+|08...|57P0[123])$/.test(code) ||
    /Connection terminated|connection timeout|Client has encountered a connection error/i.test(
      (e as Error).message ?? '',
    )
  );
}

/** pg lets a connection string's fields override separate ones, so a password given apart goes into the URL. */
function withPassword(url: string, password: string | undefined): string {
  if (!password) return url;
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://…';
  }
}
