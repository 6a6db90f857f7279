// push-image against a real OCI registry (Debian's docker-registry on 127.0.0.1): the image read by
// skopeo (an independent client that checks every digest) and pulled back through import-image,
// whose files must hash as the version's do; with htpasswd and token auth as import-image is.
import * as assert from 'assert/strict';
import { execFile } from 'child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { IMAGE_MODEL_DIR, pushImage, TRITON_MODELS_DIR } from '../../../../src/core/engines/ociPush';
import { tritonConfig } from '../../../../src/core/engines/triton';
import { importContainerImage } from '../../../../src/core/importers/containerImage';
import { importTrainingOutput } from '../../../../src/core/importers/trainingOutput';
import { Registry } from '../../../../src/core/registry/registry';
import { startOciRegistry } from '../../../services/services';
import { safetensorsBytes } from '../../helpers/makeWeights';
import { mixedBytes } from '../../helpers/onnxModels';
import { tempDir } from '../../helpers/tmp';

const execFileAsync = promisify(execFile);

/** A version with an ONNX file, its config and a file in a subfolder. */
async function sampleVersion(r: Registry, work: string) {
  const dir = path.join(work, 'out');
  mkdirSync(path.join(dir, 'labels'), { recursive: true });
  writeFileSync(path.join(dir, 'model.onnx'), mixedBytes());
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ task: 'classification' }));
  writeFileSync(path.join(dir, 'labels', 'names.txt'), 'cat\ndog\n');
  return importTrainingOutput(r, dir, { model: 'mixed' });
}

const hashes = async (r: Registry, id: number) =>
  (await r.files(id)).map((f) => [f.path, f.sha256, f.size]).sort((a, b) => (a[0] < b[0] ? -1 : 1));

describe('push-image to docker-registry, pulled back by skopeo and import-image', function () {
  this.timeout(120_000);
  let oci: Awaited<ReturnType<typeof startOciRegistry>>;
  let work: string;
  let r: Registry;
  before(async () => {
    oci = await startOciRegistry();
  });
  after(() => oci?.stop());
  beforeEach(async () => {
    work = tempDir();
    r = await Registry.open(path.join(work, 'reg'));
  });
  afterEach(() => r.close());

  it("pushes one layer with the version's files under /model; skopeo copies it (digests checked) and import-image gets the same files", async () => {
    const v = await sampleVersion(r, work);
    const out = await pushImage(r, v.ref, `${oci.host}/team/mixed:v1`);
    assert.deepEqual([out.tag, out.uploaded, out.skipped], ['v1', 2, 0]);
    assert.equal(out.image, `${oci.host}/team/mixed@${out.digest}`);

    const { stdout } = await execFileAsync('skopeo', [
      'inspect',
      '--tls-verify=false',
      `docker://${oci.host}/team/mixed:v1`,
    ]);
    const seen = JSON.parse(stdout) as { Digest: string; Layers: string[]; Labels: Record<string, string>; Os: string };
    assert.deepEqual([seen.Digest, seen.Layers, seen.Os], [out.digest, [out.layer.digest], 'linux']);
    assert.equal(seen.Labels['modelreg.ref'], 'mixed@v1');
    // skopeo copy checks each blob against its digest as it reads it.
    const layout = path.join(work, 'layout');
    await execFileAsync('skopeo', [
      'copy',
      '--src-tls-verify=false',
      `docker://${oci.host}/team/mixed:v1`,
      `oci:${layout}:v1`,
    ]);
    assert.ok(readdirSync(path.join(layout, 'blobs', 'sha256')).includes(out.layer.digest.slice(7)));

    const other = await Registry.open(path.join(work, 'other'));
    try {
      const back = await importContainerImage(other, `${oci.host}/team/mixed:v1`, { path: IMAGE_MODEL_DIR });
      assert.deepEqual(await hashes(other, back.id), await hashes(r, v.id));
      assert.deepEqual([back.format, back.source.uri], ['onnx', out.image]);
      assert.equal(
        (back.details.runtime as { labels: Record<string, string> }).labels['org.opencontainers.image.version'],
        'v1',
      );
    } finally {
      await other.close();
    }
  });

  it('a re-push finds both blobs (HEAD) and sends only the manifest: the same digest under the new tag', async () => {
    const v = await sampleVersion(r, work);
    const first = await pushImage(r, v.ref, `${oci.host}/team/again:v1`);
    const second = await pushImage(r, v.ref, `${oci.host}/team/again:latest`);
    assert.deepEqual([second.uploaded, second.skipped, second.digest], [0, 2, first.digest]);
    const tags = (await (await fetch(`http://${oci.host}/v2/team/again/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(tags.tags.sort(), ['latest', 'v1']);
    // No layer file is left in the store's temp folder.
    assert.deepEqual(
      readdirSync(path.join(r.dir, 'tmp')).filter((n) => n.endsWith('-layer')),
      [],
    );
  });

  it('--layout triton: a Triton repository under /models (config.pbtxt as export writes it, VERSION/model.onnx the stored file)', async () => {
    const v = await sampleVersion(r, work);
    const out = await pushImage(r, v.ref, `${oci.host}/team/mixed-triton:v1`, { layout: 'triton', maxBatch: 4 });
    assert.equal(out.root, TRITON_MODELS_DIR);
    const { stdout } = await execFileAsync('skopeo', [
      'inspect',
      '--tls-verify=false',
      `docker://${oci.host}/team/mixed-triton:v1`,
    ]);
    assert.equal((JSON.parse(stdout) as { Labels: Record<string, string> }).Labels['modelreg.model-dir'], '/models');
    const other = await Registry.open(path.join(work, 'other'));
    try {
      const back = await importContainerImage(other, `${oci.host}/team/mixed-triton:v1`, {
        path: '/models/mixed',
        model: 'back',
      });
      const files = await other.files(back.id);
      assert.deepEqual(files.map((f) => f.path).sort(), ['1/model.onnx', 'config.pbtxt']);
      const onnx = (await r.files(v.id)).find((f) => f.path === 'model.onnx')!;
      assert.equal(files.find((f) => f.path === '1/model.onnx')!.sha256, onnx.sha256);
      const config = readFileSync(other.store.objectPath(files.find((f) => f.path === 'config.pbtxt')!.sha256), 'utf8');
      assert.equal(config, tritonConfig('mixed', v.signature, { maxBatch: 4 }).text);
    } finally {
      await other.close();
    }
    const st = path.join(work, 'st');
    mkdirSync(st);
    writeFileSync(
      path.join(st, 'model.safetensors'),
      safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [2], fill: 1 }]),
    );
    const sv = await importTrainingOutput(r, st, { model: 'st' });
    await assert.rejects(
      pushImage(r, sv.ref, `${oci.host}/team/st:v1`, { layout: 'triton' }),
      /st@v1: a safetensors version, not ONNX/,
    );
  });

  it('refuses a digest as the target, and names an unreachable registry', async () => {
    const v = await sampleVersion(r, work);
    await assert.rejects(
      pushImage(r, v.ref, `${oci.host}/team/m@sha256:${'a'.repeat(64)}`),
      /a push needs a tag \(REGISTRY\/REPOSITORY:TAG\), not a digest/,
    );
    await assert.rejects(
      pushImage(r, v.ref, '127.0.0.1:1/team/m:v1'),
      /127\.0\.0\.1:1\/team\/m: cannot reach the registry/,
    );
  });
});

for (const auth of ['htpasswd', 'token'] as const) {
  describe(`push-image to a registry with ${auth} auth`, function () {
    this.timeout(120_000);
    let oci: Awaited<ReturnType<typeof startOciRegistry>>;
    let work: string;
    let r: Registry;
    before(async () => {
      oci = await startOciRegistry({ auth });
    });
    after(() => oci?.stop());
    beforeEach(async () => {
      work = tempDir();
      r = await Registry.open(path.join(work, 'reg'));
    });
    afterEach(() => r.close());

    it('pushes with the user name and password (a token for pull,push); without them a clear refusal', async () => {
      const v = await sampleVersion(r, work);
      const { username, password } = oci.credentials!;
      await assert.rejects(
        pushImage(r, v.ref, `${oci.host}/team/private:v1`),
        new RegExp(`${oci.host.replace(/\./g, '\\.')}/team/private: the registry wants a user name and password`),
      );
      const before = oci.tokenRequests?.length ?? 0;
      const out = await pushImage(r, v.ref, `${oci.host}/team/private:v1`, { username, password });
      assert.equal(out.uploaded, 2);
      // The registry asks for push and pull in either order.
      const actions = (t: { scopes: string[] }) =>
        t.scopes.flatMap((s) => (s.startsWith('repository:team/private:') ? s.split(':')[2].split(',').sort() : []));
      if (auth === 'token')
        assert.ok(
          oci
            .tokenRequests!.slice(before)
            .some((t) => t.status === 200 && t.user === username && actions(t).join() === 'pull,push'),
          JSON.stringify(oci.tokenRequests!.slice(before)),
        );
      const other = await Registry.open(path.join(work, 'other'));
      try {
        const back = await importContainerImage(other, `${oci.host}/team/private:v1`, {
          path: IMAGE_MODEL_DIR,
          username,
          password,
        });
        assert.deepEqual(await hashes(other, back.id), await hashes(r, v.id));
      } finally {
        await other.close();
      }
    });
  });
}
