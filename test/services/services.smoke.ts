/**
 * Smoke test of the test services: each starts for real, does a round trip, stops.
 * Needs `bash scripts/services/install.sh` first. Not part of the unit suite (test/unit); run with
 *   npx tsc -p . && npx mocha --no-config --timeout 120000 out/test/services/services.smoke.js
 */
import * as assert from 'assert';
import { createHash, randomBytes } from 'crypto';
import * as net from 'net';
import { Readable } from 'stream';
import { gunzipSync } from 'zlib';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Client } from 'pg';
import * as tar from 'tar-stream';
import {
  OciRegistry,
  PostgresServer,
  pushTestImage,
  startOciRegistry,
  startPostgres,
  startSwiftS3,
  SwiftS3Server,
} from './services';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

async function timed<T>(label: string, start: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const result = await start();
  console.log(`      ${label} started in ${Math.round(performance.now() - t0)} ms`);
  return result;
}

/** Resolves true if something accepts TCP connections on host:port. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function untar(data: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c) => chunks.push(c as Buffer));
    stream.on('end', () => {
      if (header.type === 'file') files.set(header.name, Buffer.concat(chunks));
      next();
    });
    stream.resume();
  });
  const done = new Promise<void>((resolve, reject) => {
    extract.on('finish', () => resolve());
    extract.on('error', reject);
  });
  extract.end(data);
  await done;
  return files;
}

describe('test services: real servers on 127.0.0.1', function () {
  this.timeout(120_000);

  describe('PostgreSQL', () => {
    let pg: PostgresServer | undefined;
    before(async () => {
      pg = await timed('postgres', startPostgres);
    });
    after(async () => {
      await pg?.stop();
    });

    it('creates a table, inserts and selects', async () => {
      assert.match(pg!.url, /^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
      const client = new Client({ connectionString: pg!.url });
      await client.connect();
      try {
        const version = await client.query<{ server_version: string }>('SHOW server_version');
        console.log(`      server_version ${version.rows[0].server_version}`);
        await client.query(
          'CREATE TABLE models (id serial PRIMARY KEY, name text NOT NULL, size bigint NOT NULL, meta jsonb)',
        );
        await client.query('INSERT INTO models (name, size, meta) VALUES ($1, $2, $3), ($4, $5, $6)', [
          'resnet',
          12_345_678_901,
          { framework: 'onnx' },
          'bert',
          42,
          null,
        ]);
        const rows = await client.query('SELECT name, size::text AS size, meta FROM models ORDER BY id');
        assert.deepStrictEqual(rows.rows, [
          { name: 'resnet', size: '12345678901', meta: { framework: 'onnx' } },
          { name: 'bert', size: '42', meta: null },
        ]);
      } finally {
        await client.end();
      }
    });

    it('stop() shuts the server down', async () => {
      const port = Number(new URL(pg!.url).port);
      await pg!.stop();
      assert.strictEqual(await accepts('127.0.0.1', port), false);
    });
  });

  describe('Swift s3api', () => {
    let swift: SwiftS3Server | undefined;
    let s3: S3Client | undefined;
    before(async () => {
      swift = await timed('swift (s3api)', startSwiftS3);
      s3 = new S3Client({
        endpoint: swift.endpoint,
        region: swift.region,
        forcePathStyle: true,
        // Swift 2.30's s3api answers NotImplemented to aws-chunked uploads, which the SDK uses (for
        // its default CRC32 checksums) whenever the body is a stream; checksum only when required.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
        credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
      });
    });
    after(async () => {
      s3?.destroy();
      await swift?.stop();
    });

    it('buckets, put, multipart, list, ranged get, delete', async () => {
      const Bucket = 'models';
      await s3!.send(new CreateBucketCommand({ Bucket }));
      const buckets = await s3!.send(new ListBucketsCommand({}));
      assert.ok(buckets.Buckets?.some((b) => b.Name === Bucket));

      const small = Buffer.from('0123456789abcdefghij');
      await s3!.send(
        new PutObjectCommand({ Bucket, Key: 'runs/1/config.json', Body: small, ContentType: 'application/json' }),
      );

      // 12 MiB in three parts: 5 + 5 + 2 MiB (every part but the last must be >= 5 MiB).
      const big = randomBytes(12 << 20);
      const Key = 'runs/1/weights.bin';
      const { UploadId } = await s3!.send(new CreateMultipartUploadCommand({ Bucket, Key }));
      assert.ok(UploadId);
      const bounds = [0, 5 << 20, 10 << 20, 12 << 20];
      const parts = [];
      for (let i = 0; i < 3; i++) {
        const part = await s3!.send(
          new UploadPartCommand({
            Bucket,
            Key,
            UploadId,
            PartNumber: i + 1,
            Body: big.subarray(bounds[i], bounds[i + 1]),
          }),
        );
        parts.push({ PartNumber: i + 1, ETag: part.ETag });
      }
      const completed = await s3!.send(
        new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }),
      );
      assert.match(completed.ETag ?? '', /-3"?$/);
      const whole = await s3!.send(new GetObjectCommand({ Bucket, Key }));
      assert.strictEqual(whole.ContentLength, 12 << 20);
      assert.strictEqual(sha256(await whole.Body!.transformToByteArray()), sha256(big));

      const streamed = Buffer.from('# streamed, not under runs/\n');
      await s3!.send(
        new PutObjectCommand({
          Bucket,
          Key: 'other/readme.md',
          Body: Readable.from([streamed]),
          ContentLength: streamed.length,
        }),
      );
      const back = await s3!.send(new GetObjectCommand({ Bucket, Key: 'other/readme.md' }));
      assert.strictEqual(await back.Body!.transformToString(), streamed.toString());
      const listed = await s3!.send(new ListObjectsV2Command({ Bucket, Prefix: 'runs/1/' }));
      assert.deepStrictEqual(
        listed.Contents?.map((o) => [o.Key, o.Size]),
        [
          ['runs/1/config.json', small.length],
          ['runs/1/weights.bin', 12 << 20],
        ],
      );

      const ranged = await s3!.send(new GetObjectCommand({ Bucket, Key: 'runs/1/config.json', Range: 'bytes=5-9' }));
      assert.strictEqual(ranged.$metadata.httpStatusCode, 206);
      assert.strictEqual(ranged.ContentRange, `bytes 5-9/${small.length}`);
      assert.strictEqual(await ranged.Body!.transformToString(), '56789');
      const rangedBig = await s3!.send(
        new GetObjectCommand({ Bucket, Key, Range: `bytes=${(5 << 20) - 3}-${(5 << 20) + 2}` }),
      );
      assert.deepStrictEqual(
        Buffer.from(await rangedBig.Body!.transformToByteArray()),
        big.subarray((5 << 20) - 3, (5 << 20) + 3),
      );

      for (const k of ['runs/1/config.json', Key, 'other/readme.md'])
        await s3!.send(new DeleteObjectCommand({ Bucket, Key: k }));
      const empty = await s3!.send(new ListObjectsV2Command({ Bucket }));
      assert.strictEqual(empty.KeyCount, 0);
      await s3!.send(new DeleteBucketCommand({ Bucket }));
    });

    it('kill() takes the proxy down at once; restart() brings it back on the same endpoint, data kept', async () => {
      await s3!.send(new CreateBucketCommand({ Bucket: 'kept' }));
      await s3!.send(new PutObjectCommand({ Bucket: 'kept', Key: 'k', Body: 'survives' }));
      const port = Number(new URL(swift!.endpoint).port);
      swift!.kill();
      for (let i = 0; i < 50 && (await accepts('127.0.0.1', port)); i++) await new Promise((r) => setTimeout(r, 100));
      assert.strictEqual(await accepts('127.0.0.1', port), false);
      await assert.rejects(s3!.send(new ListBucketsCommand({})));

      const t0 = performance.now();
      await swift!.restart();
      console.log(`      proxy restarted in ${Math.round(performance.now() - t0)} ms`);
      const got = await s3!.send(new GetObjectCommand({ Bucket: 'kept', Key: 'k' }));
      assert.strictEqual(await got.Body!.transformToString(), 'survives');
    });
  });

  describe('OCI registry', () => {
    let registry: OciRegistry | undefined;
    before(async () => {
      registry = await timed('docker-registry', startOciRegistry);
    });
    after(async () => {
      await registry?.stop();
    });

    it('takes a pushed image and serves its manifest and layer', async () => {
      const files = {
        'model/weights.bin': randomBytes(256 << 10),
        'model/config.json': Buffer.from(JSON.stringify({ arch: 'resnet18', classes: 10 })),
        'README.md': Buffer.from('# test model\n'),
      };
      const digest = await pushTestImage(registry!.host, 'team/resnet', 'v1', files);
      assert.match(digest, /^sha256:[0-9a-f]{64}$/);

      const res = await fetch(`http://${registry!.host}/v2/team/resnet/manifests/v1`, {
        headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      assert.strictEqual(res.status, 200);
      assert.strictEqual(res.headers.get('docker-content-digest'), digest);
      assert.strictEqual(res.headers.get('content-type'), 'application/vnd.oci.image.manifest.v1+json');
      const body = Buffer.from(await res.arrayBuffer());
      assert.strictEqual(`sha256:${sha256(body)}`, digest);
      const manifest = JSON.parse(body.toString('utf8'));
      assert.strictEqual(manifest.layers.length, 1);
      assert.strictEqual(manifest.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');

      const configRes = await fetch(`http://${registry!.host}/v2/team/resnet/blobs/${manifest.config.digest}`);
      assert.strictEqual(configRes.status, 200);
      const config = JSON.parse(await configRes.text());
      assert.ok(Array.isArray(config.config.Entrypoint));
      assert.ok(config.config.ExposedPorts['8080/tcp']);
      assert.strictEqual(config.config.Labels['org.opencontainers.image.title'], 'team/resnet');

      const blobRes = await fetch(`http://${registry!.host}/v2/team/resnet/blobs/${manifest.layers[0].digest}`);
      assert.strictEqual(blobRes.status, 200);
      const blob = Buffer.from(await blobRes.arrayBuffer());
      assert.strictEqual(`sha256:${sha256(blob)}`, manifest.layers[0].digest);
      assert.strictEqual(blob.length, manifest.layers[0].size);
      assert.deepStrictEqual(blob.subarray(0, 2), Buffer.from([0x1f, 0x8b]), 'gzip magic');
      const layerTar = gunzipSync(blob);
      assert.strictEqual(`sha256:${sha256(layerTar)}`, config.rootfs.diff_ids[0]);
      const unpacked = await untar(layerTar);
      assert.deepStrictEqual([...unpacked.keys()].sort(), Object.keys(files).sort());
      for (const [name, data] of Object.entries(files)) assert.ok(unpacked.get(name)!.equals(data), name);

      const tags = await (await fetch(`http://${registry!.host}/v2/team/resnet/tags/list`)).json();
      assert.deepStrictEqual(tags, { name: 'team/resnet', tags: ['v1'] });
    });

    it('stop() shuts the registry down', async () => {
      const [host, port] = registry!.host.split(':');
      await registry!.stop();
      assert.strictEqual(await accepts(host, Number(port)), false);
    });
  });
});
