/**
 * The AWS SDK and the PostgreSQL driver, loaded on first use. Together they are a third of the
 * bundle and about 200 ms of start-up, and most runs (the CLI's local commands, the tree opening)
 * never reach a bucket or a team database. Types come from `import type`, which costs nothing.
 */
import type * as S3 from '@aws-sdk/client-s3';
import type * as S3Storage from '@aws-sdk/lib-storage';
import type * as Pg from 'pg';

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const s3Sdk = (): typeof S3 => require('@aws-sdk/client-s3');
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const s3Storage = (): typeof S3Storage => require('@aws-sdk/lib-storage');
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const pgDriver = (): typeof Pg => require('pg');
