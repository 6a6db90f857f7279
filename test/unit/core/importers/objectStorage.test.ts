// Import from S3-compatible object storage against a real server: OpenStack Swift with its s3api
// middleware on 127.0.0.1 (started by test/services), through @aws-sdk/client-s3.
import * as assert from 'assert';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomFillSync } from 'crypto';
import * as path from 'path';
import { importFromObjectStorage } from '../../../../src/core/importers/objectStorage';
import { objectStorageSecretKey, S3Connection } from '../../../../src/core/store/s3/connection';
import { Registry } from '../../../../src/core/registry/registry';
import { startSwiftS3 } from '../../../services/services';
import { writeLightningCsv } from '../../helpers/makeLogs';
import { safetensorsBytes } from '../../helpers/makeWeights';
import { tempDir } from '../../helpers/tmp';
import { existsSync, readdirSync, readFileSync } from 'fs';
import { spawnSync } from 'child_process';
import { CLI_JS } from '../../helpers/paths';
import { sqlOf } from '../../helpers/sql';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('import from object storage (Swift s3api)', function () {
  this.timeout(180_000);
  let swift: Awaited<ReturnType<typeof startSwiftS3>>;
  let conn: S3Connection;
  let s3: S3Client;
  let work: string;
  let r: Registry;
  const weights = safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [256, 64], fill: 0.5 }]);
  const big = randomFillSync(Buffer.alloc(9 * 1024 * 1024 + 123)); // 9 MiB + a bit: 5 ranges of 2 MiB

  before(async () => {
    swift = await startSwiftS3();
    conn = {
      endpoint: swift.endpoint,
      region: swift.region,
      forcePathStyle: true,
      credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
    };
    s3 = new S3Client({ ...conn, region: conn.region! });
    await s3.send(new CreateBucketCommand({ Bucket: 'models' }));
    const put = (Key: string, Body: Buffer) => s3.send(new PutObjectCommand({ Bucket: 'models', Key, Body }));
    await put('runs/bert-sst2/model.safetensors', weights);
    const csvDir = tempDir();
    await writeLightningCsv(path.join(csvDir, 'metrics.csv'), { epochs: 3, stepsPerEpoch: 5 });
    await put('runs/bert-sst2/logs/metrics.csv', readFileSync(path.join(csvDir, 'metrics.csv')));
    await put('runs/bert-sst2/big.bin', big);
    await put('runs/other/model.safetensors', weights);
  });
  after(async () => {
    s3?.destroy();
    await swift?.stop();
  });
  beforeEach(async () => {
    work = tempDir();
    r = await Registry.open(path.join(work, '.modelreg'));
  });
  afterEach(() => r.close());

  it('imports a prefix: objects hashed while downloading (big ones in parallel ranges), formats and metrics detected', async () => {
    const phases = new Set<string>();
    const v = await importFromObjectStorage(r, conn, 's3://models/runs/bert-sst2', {
      partSize: 2 << 20,
      onProgress: (p) => phases.add(p.phase),
    });
    assert.strictEqual(v.ref, 'bert-sst2@v1');
    assert.deepStrictEqual([v.source.kind, v.format], ['object-storage', 'safetensors']);
    assert.match(v.source.uri, /^s3:\/\/models\/runs\/bert-sst2 \(http:\/\/127\.0\.0\.1:\d+\)$/);
    const files = await r.files(v.id);
    assert.deepStrictEqual(files.map((f) => f.path).sort(), ['big.bin', 'logs/metrics.csv', 'model.safetensors']);
    assert.strictEqual(files.find((f) => f.path === 'big.bin')!.sha256, sha(big));
    assert.strictEqual(files.find((f) => f.path === 'model.safetensors')!.sha256, sha(weights));
    assert.ok((await r.finalMetrics(v.id)).length > 0, 'metrics.csv was read');
    assert.ok(phases.has('downloading') && phases.has('committing'));
    assert.deepStrictEqual((await r.verify()).problems, []);
  });

  it('a single object, a missing prefix and bad credentials give clear errors and no version', async () => {
    const one = await importFromObjectStorage(r, conn, 's3://models/runs/other/model.safetensors');
    assert.deepStrictEqual([one.ref, one.fileCount], ['model@v1', 1]);
    await assert.rejects(
      importFromObjectStorage(r, conn, 's3://models/nothing-here/'),
      /s3:\/\/models\/nothing-here\/: no objects under this prefix/,
    );
    await assert.rejects(importFromObjectStorage(r, conn, 's3://no-such-bucket/x'), /no-such-bucket.*no such bucket/i);
    await assert.rejects(
      importFromObjectStorage(
        r,
        { ...conn, credentials: { accessKeyId: 'test:tester', secretAccessKey: 'wrong' } },
        's3://models/runs/other',
      ),
      /access denied|SignatureDoesNotMatch/i,
    );
    assert.deepStrictEqual(
      (await r.listModels()).map((m) => m.name),
      ['model'],
    );
  });

  it('imports the same prefix again without downloading what did not change (same key, ETag and size)', async () => {
    const put = (Key: string, Body: Buffer) => s3.send(new PutObjectCommand({ Bucket: 'models', Key, Body }));
    const first = randomFillSync(Buffer.alloc(3 << 20));
    await put('runs/again/model.safetensors', weights);
    await put('runs/again/big.bin', first);
    const downloaded = async () => {
      let bytes = 0;
      const v = await importFromObjectStorage(r, conn, 's3://models/runs/again/', {
        onProgress: (p) => p.phase === 'downloading' && (bytes = p.bytesDone),
      });
      return { v, bytes, download: v.details.download as { reusedObjects: number; bytesDownloaded: number } };
    };
    const a = await downloaded();
    assert.deepStrictEqual(a.download, {
      objects: 2,
      reusedObjects: 0,
      bytesDownloaded: weights.length + first.length,
    });
    const b = await downloaded();
    assert.deepStrictEqual([b.v.ref, b.download.reusedObjects, b.download.bytesDownloaded], ['again@v2', 2, 0]);
    assert.strictEqual(b.bytes, weights.length + first.length, 'progress still reaches the total');
    assert.deepStrictEqual(await r.files(b.v.id), await r.files(a.v.id));

    // big.bin replaced (same size, new bytes, so a new ETag): only it is fetched again.
    const second = randomFillSync(Buffer.alloc(3 << 20));
    await put('runs/again/big.bin', second);
    const c = await downloaded();
    assert.deepStrictEqual([c.download.reusedObjects, c.download.bytesDownloaded], [1, second.length]);
    assert.strictEqual((await r.files(c.v.id)).find((f) => f.path === 'big.bin')!.sha256, sha(second));

    // A stored object gc removed is fetched again, not trusted from the record.
    await r.deleteVersion('again@v1');
    await r.deleteVersion('again@v2');
    await r.deleteVersion('again@v3');
    await r.gc();
    const d = await downloaded();
    assert.deepStrictEqual([d.download.reusedObjects, d.download.bytesDownloaded], [0, weights.length + second.length]);
    assert.deepStrictEqual((await r.verify()).problems, []);
  });

  it('a hostile object name (.., a backslash) is refused before any byte is fetched; nothing lands outside the store', async () => {
    for (const key of [
      'hostile/run/../../escape.txt',
      'hostile2/run/a/../../../escape.txt',
      'hostile3/run/..\\escape.txt',
    ]) {
      await s3.send(new PutObjectCommand({ Bucket: 'models', Key: key, Body: Buffer.from('not yours') }));
      await s3.send(
        new PutObjectCommand({ Bucket: 'models', Key: key.replace(/run\/.*/, 'run/model.safetensors'), Body: weights }),
      );
      const prefix = key.slice(0, key.indexOf('run/') + 4);
      let fetched = 0;
      await assert.rejects(
        importFromObjectStorage(r, conn, `s3://models/${prefix}`, { onProgress: (p) => (fetched = p.bytesDone) }),
        (e: Error) => e.message.startsWith(`${key}: an object name that is not a safe relative path below the prefix`),
      );
      assert.strictEqual(fetched, 0, 'no download started');
    }
    assert.deepStrictEqual(await r.listModels(), []);
    assert.deepStrictEqual(readdirSync(path.join(r.dir, 'objects')), []);
    assert.ok(!existsSync(path.join(r.dir, 'escape.txt')) && !existsSync(path.join(r.dir, 'tmp', 'escape.txt')));
  });

  it('the server going away mid-download fails cleanly (no version); after a restart the import completes', async () => {
    let killed = false;
    const attempt = importFromObjectStorage(r, conn, 's3://models/runs/bert-sst2', {
      partSize: 1 << 20,
      parallel: 1,
      attempts: 2,
      onProgress: (p) => {
        if (!killed && p.phase === 'downloading' && p.bytesDone > 2 << 20) {
          killed = true;
          swift.kill();
        }
      },
    });
    await assert.rejects(attempt, /s3:\/\/models\/runs\/bert-sst2\/big\.bin: /);
    assert.deepStrictEqual(await r.listModels(), []);
    await swift.restart();
    const v = await importFromObjectStorage(r, conn, 's3://models/runs/bert-sst2', { partSize: 1 << 20 });
    assert.strictEqual((await r.files(v.id)).find((f) => f.path === 'big.bin')!.sha256, sha(big));
  });

  it('an endpoint written with user:password@ is recorded without them (source.uri, object cache) (issue 15 item 7e)', async () => {
    const withKeys = swift.endpoint.replace(
      '://',
      `://${encodeURIComponent(swift.accessKeyId)}:${encodeURIComponent(swift.secretAccessKey)}@`,
    );
    const v = await importFromObjectStorage(r, { ...conn, endpoint: withKeys }, 's3://models/runs/other');
    assert.strictEqual(v.source.uri, `s3://models/runs/other (${swift.endpoint})`);
    const locations = (await sqlOf(r).all<{ location: string }>('SELECT location FROM remote_objects')).map(
      (x) => x.location,
    );
    assert.ok(
      locations.length > 0 && locations.every((l) => l.startsWith(`${swift.endpoint}|models|`)),
      locations.join(' '),
    );
  });

  it('modelreg import s3://… --endpoint, credentials from the AWS environment variables', () => {
    const cli = CLI_JS;
    const env = {
      ...process.env,
      AWS_ACCESS_KEY_ID: swift.accessKeyId,
      AWS_SECRET_ACCESS_KEY: swift.secretAccessKey,
      AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: '1',
    };
    const run = spawnSync(
      process.execPath,
      [
        cli,
        '--registry',
        path.join(work, 'cli-reg'),
        'import',
        's3://models/runs/bert-sst2/',
        '--endpoint',
        swift.endpoint,
        '--model',
        'bert',
        '--json',
      ],
      { env, encoding: 'utf8' },
    );
    assert.strictEqual(run.status, 0, run.stderr);
    const v = JSON.parse(run.stdout);
    assert.deepStrictEqual([v.ref, v.source.kind, v.fileCount], ['bert@v1', 'object-storage', 3]);
    const bad = spawnSync(
      process.execPath,
      [cli, '--registry', path.join(work, 'cli-reg'), 'import', 's3://models/none/', '--endpoint', swift.endpoint],
      { env, encoding: 'utf8' },
    );
    assert.strictEqual(bad.status, 2);
    assert.match(bad.stderr, /s3:\/\/models\/none\/: no objects under this prefix/);
  });
});

// Issue 15 item 7a: the SecretStorage key of a connection's keys follows its endpoint and bucket, not its name.
describe('where object-storage keys are kept', () => {
  it('another endpoint or bucket under the same name is another key; the same endpoint written differently is the same', () => {
    const k = objectStorageSecretKey;
    const obs = k({ endpoint: 'https://obs.cn-north-4.myhuaweicloud.com', bucket: 'models' });
    assert.notStrictEqual(
      k({ endpoint: 'https://attacker.example.com', bucket: 'models' }),
      obs,
      'a new endpoint must not find the keys',
    );
    assert.notStrictEqual(
      k({ endpoint: 'http://obs.cn-north-4.myhuaweicloud.com', bucket: 'models' }),
      obs,
      'plain http is another endpoint',
    );
    assert.notStrictEqual(k({ endpoint: 'https://obs.cn-north-4.myhuaweicloud.com:8443', bucket: 'models' }), obs);
    assert.notStrictEqual(k({ endpoint: 'https://obs.cn-north-4.myhuaweicloud.com', bucket: 'other' }), obs);
    assert.notStrictEqual(k({ bucket: 'models' }), obs, 'AWS S3 (no endpoint) is its own');
    for (const same of [
      'https://OBS.cn-north-4.myhuaweicloud.com/',
      'https://obs.cn-north-4.myhuaweicloud.com:443',
      ' https://obs.cn-north-4.myhuaweicloud.com//',
    ])
      assert.strictEqual(k({ endpoint: same, bucket: 'models' }), obs, same);
    assert.strictEqual(
      k({ endpoint: 'https://obs.example.com', bucket: 'a/b' }) ===
        k({ endpoint: 'https://obs.example.com/a', bucket: 'b' }),
      false,
      'no two places share a key',
    );
  });
});
