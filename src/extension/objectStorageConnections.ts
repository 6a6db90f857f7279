// The object storage connections of the modelRegistry.objectStorage.connections setting and the keys
// kept for them in SecretStorage: read by "Import from Object Storage…" and by the team registry (its bucket).
import * as vscode from 'vscode';
import { S3Connection } from '../core';
import { objectStorageSecretKey } from '../core/store/s3/connection';

/** A connection from the modelRegistry.objectStorage.connections setting; its keys live in SecretStorage. */
export interface Connection {
  name: string;
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
  bucket?: string;
}

/** Keys are bound to the endpoint and bucket, never to the name: a setting that moves a name elsewhere gets none. */
export const secretKey = (c: Connection) => objectStorageSecretKey(c);
/** Where keys were kept before they were bound to the endpoint; never read (they could go anywhere), only deleted. */
export const legacySecretKey = (c: Connection) => `modelRegistry.objectStorage/${c.name}`;

/** A connection from settings by name (the team registry's bucket names one). */
export function objectStorageConnection(name: string): Connection | undefined {
  return connections().find((c) => c.name === name);
}

/** The keys stored for a connection, if any (otherwise the AWS chain applies). */
export async function storedKeys(secrets: vscode.SecretStorage, c: Connection): Promise<S3Connection['credentials']> {
  const stored = await secrets.get(secretKey(c));
  return stored ? JSON.parse(stored) : undefined;
}

/** Every connection in settings. */
export function connections(): Connection[] {
  return vscode.workspace.getConfiguration('modelRegistry').get<Connection[]>('objectStorage.connections') ?? [];
}
