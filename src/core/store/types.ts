/** What the registry asks of any store of content-addressed objects (a folder, or a bucket for a team registry). */
export interface ObjectStore {
  has(sha256: string, signal?: AbortSignal): Promise<boolean>;
  /** Every stored object's digest (for gc). */
  list(): AsyncGenerator<string>;
  /** When the object was last written or reused (ms since the epoch); undefined when it is gone. */
  modifiedMs(sha256: string): Promise<number | undefined>;
  /** Removes an object; returns the bytes freed. */
  remove(sha256: string): Promise<number>;
  /** Lets go of connections (a bucket's client). */
  close?(): void;
}
