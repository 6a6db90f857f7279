/** What the registry asks of any store of content-addressed objects (a folder, or a bucket for a team registry). */
export interface ObjectStore {
  has(sha256: string, signal?: AbortSignal): Promise<boolean>;
  /** Lets go of connections (a bucket's client). */
  close?(): void;
}
