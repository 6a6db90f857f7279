/**
 * Remote objects: which stored object a bucket's key held when it was last downloaded (by ETag and
 * size), so importing the same objects again fetches nothing.
 */
import { RegistryCore as Core } from './core';

export interface RemoteObject {
  /** "<endpoint or aws>|<bucket>|<key>" */
  location: string;
  etag: string;
  size: number;
}

/** The object this location held with this ETag and size, if it was downloaded before. */
export async function knownRemoteObject(core: Core, o: RemoteObject): Promise<string | undefined> {
  const row = await core.sql.get<{ sha256: string }>(
    'SELECT sha256 FROM remote_objects WHERE location = ? AND etag = ? AND size = ?',
    [o.location, o.etag, o.size],
  );
  return row?.sha256;
}

/** Remembers what a location held when downloaded (replacing what it held before). */
export async function rememberRemoteObject(core: Core, o: RemoteObject, sha256: string): Promise<void> {
  await core.write(
    (tx) =>
      tx.run(
        `INSERT INTO remote_objects (location, etag, size, sha256, seen_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (location) DO UPDATE SET etag = excluded.etag, size = excluded.size, sha256 = excluded.sha256, seen_at = excluded.seen_at`,
        [o.location, o.etag, o.size, sha256, new Date().toISOString()],
      ),
    // A download cache is shown nowhere; the import that uses it stamps when its version is recorded.
    () => false,
  );
}
