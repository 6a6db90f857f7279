// Import from a bucket inside the real extension host: a Swift s3api server on 127.0.0.1, a training
// output uploaded to it, "Import from Object Storage" run with the connection, the version in the tree.
import * as assert from 'assert';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import * as vscode from 'vscode';
import { pushTestImage, startOciRegistry, startSwiftS3 } from '../services/services';
import { safetensorsBytes } from '../unit/helpers/makeWeights';
import { api } from './helpers';

describe('Import from object storage and container images', function () {
  this.timeout(120_000);
  it('imports a bucket prefix as a model version whose source is the bucket', async () => {
    const a = await api();
    const swift = await startSwiftS3();
    try {
      const connection = {
        endpoint: swift.endpoint,
        region: swift.region,
        forcePathStyle: true,
        credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
      };
      const s3 = new S3Client({ ...connection, requestChecksumCalculation: 'WHEN_REQUIRED' });
      await s3.send(new CreateBucketCommand({ Bucket: 'team-models' }));
      await s3.send(
        new PutObjectCommand({
          Bucket: 'team-models',
          Key: 'vit/run7/model.safetensors',
          Body: safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [32, 32], fill: 1 }]),
        }),
      );
      await s3.send(
        new PutObjectCommand({
          Bucket: 'team-models',
          Key: 'vit/run7/metrics.json',
          Body: Buffer.from('{"accuracy": 0.91}'),
        }),
      );
      s3.destroy();
      const v = await vscode.commands.executeCommand<{
        ref: string;
        source: { kind: string; uri: string };
        format: string;
      }>('modelRegistry.importFromObjectStorage', { connection, uri: 's3://team-models/vit/run7/', model: 'os-vit' });
      assert.deepStrictEqual([v?.ref, v?.source.kind, v?.format], ['os-vit@v1', 'object-storage', 'safetensors']);
      a.tree.refresh();
      const roots = await a.tree.getChildren();
      const model = roots.find((n) => a.tree.getTreeItem(n).label === 'os-vit');
      assert.ok(model, 'the model is in the tree');
      assert.deepStrictEqual(
        (await a.tree.getChildren(model)).map((n) => a.tree.getTreeItem(n).label),
        ['v1'],
      );
    } finally {
      await swift.stop();
    }
  });

  it('imports a container image: pinned digest as the source, the model files from /model', async () => {
    const oci = await startOciRegistry();
    try {
      const digest = await pushTestImage(oci.host, 'serving/vit', 'v2', {
        'model/model.safetensors': safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [8, 8], fill: 3 }]),
      });
      const v = await vscode.commands.executeCommand<{ ref: string; source: { uri: string }; fileCount: number }>(
        'modelRegistry.importFromImage',
        { image: `${oci.host}/serving/vit:v2`, path: '/model', model: 'img-vit' },
      );
      assert.deepStrictEqual(
        [v?.ref, v?.source.uri, v?.fileCount],
        ['img-vit@v1', `${oci.host}/serving/vit@${digest}`, 1],
      );
    } finally {
      await oci.stop();
    }
  });
});
