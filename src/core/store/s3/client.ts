/** The S3 client for a connection, and S3 errors turned into messages that name the place. */
import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { CancelledError, InputError } from '../../errors';
import { s3Sdk } from '../../util/lazyModules';
import { S3Connection } from './connection';

export function s3Client(c: S3Connection): S3Client {
  const config: S3ClientConfig = {
    region: c.region || 'us-east-1',
    forcePathStyle: c.forcePathStyle ?? !!c.endpoint,
    maxAttempts: 3,
    // Checksums only where the API requires them: many S3-compatible servers (Swift s3api, older
    // OBS/MinIO) reject the SDK's default aws-chunked checksummed transfers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  if (c.endpoint) config.endpoint = c.endpoint;
  if (c.credentials) config.credentials = c.credentials;
  return new (s3Sdk().S3Client)(config);
}

/** An S3 error as a clear one naming the place (cancel stays a cancel). */
export function storageError(where: string, e: unknown): Error {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  if (err.name === 'AbortError') return new CancelledError();
  const status = err.$metadata?.httpStatusCode;
  const what =
    err.name === 'NoSuchBucket'
      ? 'no such bucket'
      : err.name === 'AccessDenied' || status === 403
        ? 'access denied (check the credentials)'
        : (err.code ?? err.name ?? 'error');
  return new InputError(where, `${what}${err.message && err.message !== err.name ? `: ${err.message}` : ''}`);
}
