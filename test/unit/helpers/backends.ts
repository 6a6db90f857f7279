// The registry's two SQL backends for tests that must hold on both: SQLite in the folder, and a real
// PostgreSQL (a fresh database per registry) with the same folder as its object store.
import { Registry } from '../../../src/core/registry/registry';
import { LocalStore } from '../../../src/core/store/localStore';
import { startPostgres } from '../../services/services';

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** Mocha hooks for the suite: start and stop the server. */
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  open(dir: string): Promise<Registry>;
}

export const sqliteBackend: Backend = {
  name: 'sqlite',
  setUp: async () => undefined,
  tearDown: async () => undefined,
  open: (dir) => Registry.open(dir),
};

export function postgresBackend(): Backend & { url(): string } {
  let server: Awaited<ReturnType<typeof startPostgres>> | undefined;
  let count = 0;
  return {
    name: 'postgres',
    async setUp() {
      server = await startPostgres();
    },
    async tearDown() {
      await server?.stop();
    },
    url: () => server!.url,
    async open(dir) {
      const url = await server!.createDatabase(`registry_${++count}`);
      const store = new LocalStore(dir);
      await store.init();
      return Registry.openTeam(url, store, dir);
    },
  };
}
