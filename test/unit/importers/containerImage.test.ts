// Import from a container image against a real OCI registry (Debian's docker-registry on 127.0.0.1),
// with an image pushed by skopeo from an OCI layout built by the test.
import * as assert from 'assert';
import { execFile, spawnSync } from 'child_process';
import * as path from 'path';
import { promisify } from 'util';
import { applyEntry, importContainerImage, parseImageReference } from '../../../src/core/importers/containerImage';
import { Registry } from '../../../src/core/registry/registry';
import { FileEntry } from '../../../src/core/registry/types';
import { pushTestImage, startOciRegistry } from '../../services/services';
import { safetensorsBytes } from '../helpers/makeWeights';
import { tempDir } from '../helpers/tmp';

const execFileAsync = promisify(execFile);

describe('image references and layer whiteouts', () => {
  it('parses registry, repository and tag or digest', () => {
    assert.deepStrictEqual(parseImageReference('127.0.0.1:5000/team/bert:v3'), { registry: '127.0.0.1:5000', repository: 'team/bert', reference: 'v3' });
    assert.deepStrictEqual(parseImageReference('ubuntu'), { registry: 'registry-1.docker.io', repository: 'library/ubuntu', reference: 'latest' });
    const d = 'sha256:' + 'a'.repeat(64);
    assert.deepStrictEqual(parseImageReference(`ghcr.io/org/m@${d}`), { registry: 'ghcr.io', repository: 'org/m', reference: d });
    assert.throws(() => parseImageReference('Bad/Name'), /not an image reference/);
  });

  it('applies layers in order: files, whiteouts, opaque folders; nothing outside the path', () => {
    const files = new Map<string, FileEntry>();
    const f = (sha: string): FileEntry => ({ path: '', sha256: sha.repeat(64), size: 1, role: 'other' });
    applyEntry(files, '/model', '/model/a.bin', 'file', f('a'));
    applyEntry(files, '/model', '/model/sub/b.bin', 'file', f('b'));
    applyEntry(files, '/model', '/model/sub/c.bin', 'file', f('c'));
    applyEntry(files, '/model', '/etc/passwd', 'file', f('d'));
    applyEntry(files, '/model', '/model/../etc/shadow', 'file', f('e'));
    assert.deepStrictEqual([...files.keys()].sort(), ['a.bin', 'sub/b.bin', 'sub/c.bin']);
    applyEntry(files, '/model', '/model/sub/b.bin', 'whiteout');
    assert.deepStrictEqual([...files.keys()].sort(), ['a.bin', 'sub/c.bin']);
    applyEntry(files, '/model', '/model/sub', 'opaque');
    assert.deepStrictEqual([...files.keys()], ['a.bin']);
    applyEntry(files, '/model', '/model/a.bin', 'file', f('f'));
    assert.strictEqual(files.get('a.bin')!.sha256, 'f'.repeat(64), 'a later layer replaces the file');
  });
});

describe('import from a container image (docker-registry + skopeo)', function () {
  this.timeout(120_000);
  let oci: Awaited<ReturnType<typeof startOciRegistry>>;
  let digest: string;
  let r: Registry;
  const weights = safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [64, 8], fill: 2 }]);
  before(async () => {
    oci = await startOciRegistry();
    digest = await pushTestImage(oci.host, 'team/classifier', 'v1', { 'model/model.safetensors': weights, 'model/metrics.json': Buffer.from('{"accuracy": 0.88}'), 'app/serve.py': Buffer.from('print(1)') }, { labels: { 'org.opencontainers.image.source': 'https://example.com/repo' }, exposedPorts: ['8080/tcp'] });
  });
  after(() => oci?.stop());
  beforeEach(async () => {
    r = await Registry.open(path.join(tempDir(), 'reg'));
  });
  afterEach(() => r.close());

  it('pins the digest, records the runtime and extracts /model (and only /model)', async () => {
    const v = await importContainerImage(r, `${oci.host}/team/classifier:v1`, { path: '/model' });
    assert.deepStrictEqual([v.ref, v.source.kind, v.source.uri, v.format], ['classifier@v1', 'container-image', `${oci.host}/team/classifier@${digest}`, 'safetensors']);
    assert.deepStrictEqual((await r.files(v.id)).map((f) => f.path).sort(), ['metrics.json', 'model.safetensors']);
    const runtime = v.details.runtime as { image: string; tag: string; exposedPorts: string[]; labels: Record<string, string>; entrypoint: string[] };
    assert.strictEqual(runtime.image, `${oci.host}/team/classifier@${digest}`);
    assert.strictEqual(runtime.tag, 'v1');
    assert.deepStrictEqual(runtime.exposedPorts, ['8080/tcp']);
    assert.strictEqual(runtime.labels['org.opencontainers.image.source'], 'https://example.com/repo');
    assert.ok(Array.isArray(runtime.entrypoint));
    assert.ok((await r.finalMetrics(v.id)).some((m) => m.key === 'accuracy'));
  });

  it('by digest, runtime only, and clear errors for a missing tag or an empty path', async () => {
    const byDigest = await importContainerImage(r, `${oci.host}/team/classifier@${digest}`, { model: 'serving' });
    assert.deepStrictEqual([byDigest.fileCount, byDigest.format, (byDigest.details.runtime as { tag: string | null }).tag], [0, 'container-image', null]);
    await assert.rejects(importContainerImage(r, `${oci.host}/team/classifier:nope`), /team\/classifier:nope: manifest not found/);
    await assert.rejects(importContainerImage(r, `${oci.host}/team/classifier:v1`, { path: '/weights' }), /:\/weights: no files under this path in the image/);
    await assert.rejects(importContainerImage(r, '127.0.0.1:1/x/y:z'), /cannot reach the registry/);
    assert.deepStrictEqual((await r.listModels()).map((m) => m.name), ['serving']);
  });

  it('modelreg import-image … --path /model --json', () => {
    const cli = path.resolve(__dirname, '../../../src/cli/main.js');
    const run = spawnSync(process.execPath, [cli, '--registry', path.join(tempDir(), 'reg'), 'import-image', `${oci.host}/team/classifier:v1`, '--path', '/model', '--json'], { encoding: 'utf8' });
    assert.strictEqual(run.status, 0, run.stderr);
    const v = JSON.parse(run.stdout);
    assert.deepStrictEqual([v.ref, v.source.uri, v.files.length], ['classifier@v1', `${oci.host}/team/classifier@${digest}`, 2]);
  });

  it('applies later layers: a replaced file, a whiteout and an opaque folder', async () => {
    const one = safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [4], fill: 1 }]);
    const two = safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [4], fill: 2 }]);
    await pushTestImage(oci.host, 'team/layered', 'v1', { 'model/model.safetensors': one, 'model/old.txt': Buffer.from('old'), 'model/cache/a.bin': Buffer.from('a') }, {
      moreLayers: [{ 'model/model.safetensors': two, 'model/.wh.old.txt': Buffer.alloc(0) }, { 'model/cache/.wh..wh..opq': Buffer.alloc(0), 'model/cache/b.bin': Buffer.from('b') }],
    });
    const v = await importContainerImage(r, `${oci.host}/team/layered:v1`, { path: '/model' });
    const files = await r.files(v.id);
    assert.deepStrictEqual(files.map((f) => f.path).sort(), ['cache/b.bin', 'model.safetensors']);
    assert.strictEqual(files.find((f) => f.path === 'model.safetensors')!.size, two.length);
    const { createHash } = await import('crypto');
    assert.strictEqual(files.find((f) => f.path === 'model.safetensors')!.sha256, createHash('sha256').update(two).digest('hex'), 'the top layer wins');
  });
});

// The same registry with auth: HTTP basic (htpasswd, bcrypt) and the distribution token flow (a
// Bearer challenge naming a token server that signs JWTs the registry checks against its cert).
for (const auth of ['htpasswd', 'token'] as const) {
  describe(`import from a registry with ${auth} auth (docker-registry + skopeo)`, function () {
    this.timeout(120_000);
    let oci: Awaited<ReturnType<typeof startOciRegistry>>;
    let digest: string;
    let r: Registry;
    let image: string;
    const weights = safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [16, 4], fill: 3 }]);
    before(async () => {
      oci = await startOciRegistry({ auth });
      image = `${oci.host}/team/private:v1`;
      digest = await pushTestImage(oci.host, 'team/private', 'v1', { 'model/model.safetensors': weights }, { credentials: oci.credentials });
    });
    after(() => oci?.stop());
    beforeEach(async () => {
      r = await Registry.open(path.join(tempDir(), 'reg'));
    });
    afterEach(() => r.close());

    it('imports with the right user name and password', async () => {
      const { username, password } = oci.credentials!;
      const before = oci.tokenRequests?.length ?? 0;
      const v = await importContainerImage(r, image, { path: '/model', username, password });
      assert.deepStrictEqual([v.source.uri, v.format], [`${oci.host}/team/private@${digest}`, 'safetensors']);
      assert.deepStrictEqual((await r.files(v.id)).map((f) => [f.path, f.size]), [['model.safetensors', weights.length]]);
      if (auth === 'token') {
        // One token, asked for with the service and scope from the challenge, and only for pull.
        assert.deepStrictEqual(oci.tokenRequests!.slice(before), [{ user: username, service: 'modelreg-test-registry', scopes: ['repository:team/private:pull'], status: 200 }]);
      }
    });

    it('a wrong password: an error naming the registry and the 401', async () => {
      const err = await importContainerImage(r, image, { path: '/model', username: oci.credentials!.username, password: 'wrong' }).then(
        () => assert.fail('imported with a wrong password'),
        (e: Error) => e,
      );
      // htpasswd: the registry refuses the retried request; token: the token server refuses.
      assert.strictEqual(err.message, `${oci.host}/team/private: ${auth === 'htpasswd' ? 'the registry refused access for user tester (401)' : 'the token service refused (401)'}`);
      if (auth === 'token') assert.deepStrictEqual(oci.tokenRequests!.at(-1), { user: 'tester', service: 'modelreg-test-registry', scopes: ['repository:team/private:pull'], status: 401 });
      assert.deepStrictEqual(await r.listModels(), []);
    });

    it('no credentials: an error asking for a user name and password', async () => {
      const err = await importContainerImage(r, image, { path: '/model' }).then(
        () => assert.fail('imported without credentials'),
        (e: Error) => e,
      );
      // htpasswd: a Basic challenge; token: an anonymous token that grants nothing, and the registry still answers 401.
      assert.strictEqual(err.message, `${oci.host}/team/private: the registry wants a user name and password${auth === 'token' ? ' (401)' : ''}`);
      if (auth === 'token') assert.deepStrictEqual(oci.tokenRequests!.at(-1), { user: null, service: 'modelreg-test-registry', scopes: ['repository:team/private:pull'], status: 200 });
    });

    it('modelreg import-image --username, the password from MODELREG_REGISTRY_PASSWORD', async () => {
      // Not spawnSync: the token server runs in this process and must keep answering.
      const cli = path.resolve(__dirname, '../../../src/cli/main.js');
      const args = [cli, '--registry', path.join(tempDir(), 'reg'), 'import-image', image, '--path', '/model', '--username', oci.credentials!.username, '--json'];
      const { stdout } = await execFileAsync(process.execPath, args, { env: { ...process.env, MODELREG_REGISTRY_PASSWORD: oci.credentials!.password } });
      assert.strictEqual(JSON.parse(stdout).source.uri, `${oci.host}/team/private@${digest}`);
      await assert.rejects(execFileAsync(process.execPath, args, { env: { ...process.env, MODELREG_REGISTRY_PASSWORD: 'wrong' } }), (e: { stderr: string }) => /team\/private: the (registry|token service) refused/.test(e.stderr));
    });
  });
}
