// modelreg export --as triton|kserve and modelreg push-image, as a user runs them (the compiled CLI).
import * as assert from 'assert/strict';
import { execFile, spawnSync } from 'child_process';
import { readFileSync } from 'fs';
import * as path from 'path';
import { promisify } from 'util';
import { parse } from 'yaml';
import { importContainerImage } from '../../../src/core/importers/containerImage';
import { Registry } from '../../../src/core/registry/registry';
import { startOciRegistry } from '../../services/services';
import { affineBytes } from '../helpers/affineModel';
import { importOnnxModel } from '../helpers/importModel';
import { CLI_JS } from '../helpers/paths';
import { tempDir } from '../helpers/tmp';

const execFileAsync = promisify(execFile);

describe('modelreg export --as triton|kserve, push-image', function () {
  this.timeout(120_000);
  let work: string;
  let r: Registry;
  beforeEach(async () => {
    work = tempDir();
    r = await Registry.open(path.join(work, 'reg'));
  });
  afterEach(() => r.close());

  it('modelreg export --as triton / --as kserve (the team store as the default storageUri), exit 2 on a refusal', async () => {
    await importOnnxModel(r, work, 'affine', affineBytes());
    await r.close();
    const cli = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, [CLI_JS, '--registry', path.join(work, 'reg'), ...args], {
        encoding: 'utf8',
        env: { ...process.env, MODELREG_TEAM_STORE: '', ...env },
      });
    const t = cli(['export', 'affine', '--as', 'triton', path.join(work, 't'), '--max-batch', '32', '--json']);
    assert.equal(t.status, 0, t.stderr);
    assert.deepEqual(JSON.parse(t.stdout).maxBatchSize, 32);
    assert.match(readFileSync(path.join(work, 't', 'affine', 'config.pbtxt'), 'utf8'), /max_batch_size: 32/);
    const again = cli(['export', 'affine', '--as', 'triton', path.join(work, 't')]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /affine: already exists; nothing was written/);

    const k = cli(['export', 'affine@v1', '--as', 'kserve', path.join(work, 'k')], {
      MODELREG_TEAM_STORE: 's3://team-bucket/reg/',
    });
    assert.equal(k.status, 0, k.stderr);
    assert.match(k.stdout, /aws s3 sync .* s3:\/\/team-bucket\/reg\/triton --exclude inferenceservice\.yaml/);
    const doc = parse(readFileSync(path.join(work, 'k', 'inferenceservice.yaml'), 'utf8'));
    assert.equal(doc.spec.predictor.model.storageUri, 's3://team-bucket/reg/triton');

    const none = cli(['export', 'affine', '--as', 'kserve', path.join(work, 'k2')]);
    assert.equal(none.status, 0, none.stderr);
    assert.match(none.stderr, /edit storageUri in .*inferenceservice\.yaml/);
    const bad = cli(['export', 'affine', '--as', 'torchserve', path.join(work, 'k3')]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--as torchserve: is not an export kind; give archive, triton or kserve/);
    r = await Registry.open(path.join(work, 'reg'));
  });

  it('modelreg push-image --username (password from MODELREG_REGISTRY_PASSWORD) --json; a wrong password exits 2', async () => {
    const oci = await startOciRegistry({ auth: 'htpasswd' });
    try {
      const v = await importOnnxModel(r, work, 'affine', affineBytes());
      await r.close();
      const { username, password } = oci.credentials!;
      const args = [
        CLI_JS,
        '--registry',
        path.join(work, 'reg'),
        'push-image',
        'affine',
        `${oci.host}/team/affine:v1`,
        '--username',
        username,
      ];
      // Not spawnSync: execFile keeps this process (and the test's servers) answering.
      const { stdout } = await execFileAsync(process.execPath, [...args, '--json'], {
        env: { ...process.env, MODELREG_REGISTRY_PASSWORD: password },
      });
      const out = JSON.parse(stdout) as { ref: string; image: string; uploaded: number };
      assert.deepEqual([out.ref, out.uploaded], ['affine@v1', 2]);
      await assert.rejects(
        execFileAsync(process.execPath, args, { env: { ...process.env, MODELREG_REGISTRY_PASSWORD: 'wrong' } }),
        (e: { code: number; stderr: string }) =>
          e.code === 2 && /team\/affine: the registry refused access for user tester \(401\)/.test(e.stderr),
      );
      r = await Registry.open(path.join(work, 'reg'));
      const other = await Registry.open(path.join(work, 'other'));
      try {
        const back = await importContainerImage(other, out.image, { path: '/model', username, password });
        assert.deepEqual(
          (await other.files(back.id)).map((f) => f.sha256),
          (await r.files(v.id)).map((f) => f.sha256),
        );
      } finally {
        await other.close();
      }
    } finally {
      await oci.stop();
    }
  });
});
