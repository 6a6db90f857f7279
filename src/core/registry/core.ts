/**
 * The registry's core: its SQL connection, the one write path, and opening (migrations, identity).
 * The modules beside this one (models, versions, aliases…) read through `sql` and write only through
 * `write()`, which commits and then stamps the change, so no writer can forget the stamp. Nothing
 * outside `src/core/registry/` sees this object: `Registry` keeps it private.
 */
import { randomBytes } from 'crypto';
import { promises as fsp } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { RegistryError } from '../errors';
import { LocalStore } from '../store/localStore';
import { ObjectStore } from '../store/types';
import { SqlDb } from './db';
import { migrate } from './migrations';

/** What the modules read with: statements that cannot write outside a transaction of the write path. */
export type SqlReader = Pick<SqlDb, 'get' | 'all'>;

export class RegistryCore<S extends ObjectStore = ObjectStore> {
  readonly #db: SqlDb;
  /** Reads; writes go through write(). */
  readonly sql: SqlReader;

  private constructor(
    /** The local folder: the registry itself, or a team registry's local working folder (temp files, logs). */
    readonly dir: string,
    db: SqlDb,
    readonly store: S,
    /** What messages call this registry: its folder, or the team database's address. */
    readonly location: string,
    /** The registry's identity, kept in its database (and, for a local one, in its folder's marker). */
    readonly id: string,
    /** True when this open gave the database its identity (a new registry, or one from before identities). */
    readonly identityIsNew: boolean,
  ) {
    this.#db = db;
    this.sql = { get: (s, p) => db.get(s, p), all: (s, p) => db.all(s, p) };
  }

  /** Migrates the database and reads (or gives it) its identity; closes `db` on failure. */
  static async open<T extends ObjectStore>(
    dir: string,
    db: SqlDb,
    store: T,
    location: string,
  ): Promise<RegistryCore<T>> {
    try {
      await migrate(db);
      const identity = await db.transaction(async (tx) => {
        const row = await tx.get<{ id: string }>('SELECT id FROM registry_identity');
        if (row) return { id: row.id, created: false };
        const id = randomBytes(16).toString('hex');
        await tx.run('INSERT INTO registry_identity (one, id, created_at) VALUES (1, ?, ?)', [
          id,
          new Date().toISOString(),
        ]);
        return { id, created: true };
      });
      return new RegistryCore(dir, db, store, location, identity.id, identity.created);
    } catch (e) {
      await db.close();
      throw e;
    }
  }

  /**
   * The one write path: runs `fn` in a write transaction, commits, then stamps the change (the file
   * other windows watch, and NOTIFY on a team registry). `changed` may say from the result that the
   * transaction changed nothing anyone sees, so there is nothing to announce.
   */
  async write<T>(fn: (tx: SqlDb) => Promise<T>, changed: (result: T) => boolean = () => true): Promise<T> {
    const result = await this.#db.transaction(fn);
    if (changed(result)) await this.stamp();
    return result;
  }

  get changeStamp(): string {
    return path.join(this.dir, 'last-change');
  }

  /** What this process last wrote to the change stamp: a watcher can tell its own changes from others'. */
  lastStamp: string | undefined;

  private async stamp(): Promise<void> {
    this.lastStamp = `${new Date().toISOString()} ${os.hostname()} ${process.pid}`;
    await fsp.writeFile(this.changeStamp, this.lastStamp);
    await this.#db.announce?.(this.lastStamp);
  }

  /** Follows changes other connections announce (a team registry); undefined where the database cannot. */
  async watch(onChange: (stamp: string) => void, retryMs?: number): Promise<(() => Promise<void>) | undefined> {
    return this.#db.watch?.(onChange, retryMs);
  }

  /** The local store, for work on files (gc, verify): a team registry's bucket has none. */
  localStore(what: string): LocalStore {
    if (!(this.store instanceof LocalStore))
      throw new RegistryError(`${what} works on a local registry, not on the team registry ${this.location}`);
    return this.store;
  }

  close(): Promise<void> {
    this.store.close?.();
    return this.#db.close();
  }
}
