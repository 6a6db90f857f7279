// Import from a container image against a real OCI registry (Debian's docker-registry on 127.0.0.1),
// with an image pushed by skopeo from an OCI layout built by the test.
import * as assert from 'assert';
import { execFile, spawnSync } from 'child_process';
import * as path from 'path';
import { promisify } from 'util';
import {
  applyEntry,
  importContainerImage,
  parseImageReference,
  tokenRealmProblem,
} from '../../../../src/core/importers/containerImage';
import { Registry } from '../../../../src/core/registry/registry';
import { FileEntry } from '../../../../src/core/registry/types';
import { pushTestImage, startOciRegistry } from '../../../services/services';
import { safetensorsBytes } from '../../helpers/makeWeights';
import { tempDir } from '../../helpers/tmp';
import { CLI_JS } from '../../helpers/paths';

const execFileAsync = promisify(execFile);

describe('image references and layer whiteouts', () => {
  it('parses registry, repository and tag or digest', () => {
    assert.deepStrictEqual(parseImageReference('127.0.0.1:5000/team/bert:v3'), {
      registry: '127.0.0.1:5000',
      repository: 'team/bert',
      reference: 'v3',
    });
    assert.deepStrictEqual(parseImageReference('ubuntu'), {
      registry: 'registry-1.docker.io',
      repository: 'library/ubuntu',
      reference: 'latest',
    });
    const d = 'sha256:' + 'a'.repeat(64);
    assert.deepStrictEqual(parseImageReference(`ghcr.io/org/m@${d}`), {
      registry: 'ghcr.io',
      repository: 'org/m',
      reference: d,
    });
    assert.throws(() => parseImageReference('Bad/Name'), /not an image reference/);
    // Credentials in the reference would end up in the version's source: refused, and not repeated in the message.
    assert.throws(
      () => parseImageReference('bot:pa55word@registry.example.com/team/m:v1'),
      (e: Error) =>
        /^not an image reference: registry\.example\.com\/…: credentials do not belong/.test(e.message) &&
        !e.message.includes('pa55word'),
    );
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
    digest = await pushTestImage(
      oci.host,
      'team/classifier',
      'v1',
      {
        'model/model.safetensors': weights,
        'model/metrics.json': Buffer.from('{"accuracy": 0.88}'),
        'app/serve.py': Buffer.from('print(1)'),
      },
      { labels: { 'org.opencontainers.image.source': 'https://example.com/repo' }, exposedPorts: ['8080/tcp'] },
    );
  });
  after(() => oci?.stop());
  beforeEach(async () => {
    r = await Registry.open(path.join(tempDir(), 'reg'));
  });
  afterEach(() => r.close());

  it('pins the digest, records the runtime and extracts /model (and only /model)', async () => {
    const v = await importContainerImage(r, `${oci.host}/team/classifier:v1`, { path: '/model' });
    assert.deepStrictEqual(
      [v.ref, v.source.kind, v.source.uri, v.format],
      ['classifier@v1', 'container-image', `${oci.host}/team/classifier@${digest}`, 'safetensors'],
    );
    assert.deepStrictEqual((await r.files(v.id)).map((f) => f.path).sort(), ['metrics.json', 'model.safetensors']);
    const runtime = v.details.runtime as {
      image: string;
      tag: string;
      exposedPorts: string[];
      labels: Record<string, string>;
      entrypoint: string[];
    };
    assert.strictEqual(runtime.image, `${oci.host}/team/classifier@${digest}`);
    assert.strictEqual(runtime.tag, 'v1');
    assert.deepStrictEqual(runtime.exposedPorts, ['8080/tcp']);
    assert.strictEqual(runtime.labels['org.opencontainers.image.source'], 'https://example.com/repo');
    assert.ok(Array.isArray(runtime.entrypoint));
    assert.ok((await r.finalMetrics(v.id)).some((m) => m.key === 'accuracy'));
  });

  it('by digest, runtime only, and clear errors for a missing tag or an empty path', async () => {
    const byDigest = await importContainerImage(r, `${oci.host}/team/classifier@${digest}`, { model: 'serving' });
    assert.deepStrictEqual(
      [byDigest.fileCount, byDigest.format, (byDigest.details.runtime as { tag: string | null }).tag],
      [0, 'container-image', null],
    );
    await assert.rejects(
      importContainerImage(r, `${oci.host}/team/classifier:nope`),
      /team\/classifier:nope: manifest not found/,
    );
    await assert.rejects(
      importContainerImage(r, `${oci.host}/team/classifier:v1`, { path: '/weights' }),
      /:\/weights: no files under this path in the image/,
    );
    await assert.rejects(importContainerImage(r, '127.0.0.1:1/x/y:z'), /cannot reach the registry/);
    assert.deepStrictEqual(
      (await r.listModels()).map((m) => m.name),
      ['serving'],
    );
  });

  it('modelreg import-image … --path /model --json', () => {
    const cli = CLI_JS;
    const run = spawnSync(
      process.execPath,
      [
        cli,
        '--registry',
        path.join(tempDir(), 'reg'),
        'import-image',
        `${oci.host}/team/classifier:v1`,
        '--path',
        '/model',
        '--json',
      ],
      { encoding: 'utf8' },
    );
    assert.strictEqual(run.status, 0, run.stderr);
    const v = JSON.parse(run.stdout);
    assert.deepStrictEqual(
      [v.ref, v.source.uri, v.files.length],
      ['classifier@v1', `${oci.host}/team/classifier@${digest}`, 2],
    );
  });

  it('ENV values that look like secrets, and credentials in URLs, are redacted before the version is stored (issue 15 item 7d)', async () => {
    await pushTestImage(
      oci.host,
      'team/with-secrets',
      'v1',
      { 'model/model.safetensors': weights },
      {
        env: [
          'PATH=/usr/bin:/bin',
          'HF_TOKEN=hf_s3cr3tvalue',
          'AWS_SECRET_ACCESS_KEY=aws-s3cr3t',
          'PGPASSWORD=pg-s3cr3t',
          'DATABASE_URL=postgres://app:db-s3cr3t@db:5432/app',
          'TOKENIZERS_PARALLELISM=false',
          'MODEL_DIR=/model',
        ],
        labels: {
          'org.opencontainers.image.source': 'https://bot:gh-s3cr3t@github.com/org/repo',
          'com.example.api-key': 'label-s3cr3t',
        },
      },
    );
    const v = await importContainerImage(r, `${oci.host}/team/with-secrets:v1`, { path: '/model' });
    const stored = await r.resolve(v.ref);
    const runtime = stored.details.runtime as { env: string[]; labels: Record<string, string> };
    assert.deepStrictEqual(runtime.env, [
      'PATH=/usr/bin:/bin',
      'HF_TOKEN=<redacted>',
      'AWS_SECRET_ACCESS_KEY=<redacted>',
      'PGPASSWORD=<redacted>',
      'DATABASE_URL=postgres://db:5432/app',
      'TOKENIZERS_PARALLELISM=false',
      'MODEL_DIR=/model',
    ]);
    assert.deepStrictEqual(runtime.labels, {
      'org.opencontainers.image.source': 'https://github.com/org/repo',
      'com.example.api-key': '<redacted>',
    });
    await r.close();
    // Not in the database file either (what push and export read from).
    const { readdirSync, readFileSync } = await import('fs');
    for (const f of readdirSync(r.dir).filter((n) => n.startsWith('registry.db')))
      assert.ok(!readFileSync(path.join(r.dir, f)).includes('s3cr3t'), `${f} holds a secret`);
    r = await Registry.open(r.dir);
  });

  it('applies later layers: a replaced file, a whiteout and an opaque folder', async () => {
    const one = safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [4], fill: 1 }]);
    const two = safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [4], fill: 2 }]);
    await pushTestImage(
      oci.host,
      'team/layered',
      'v1',
      { 'model/model.safetensors': one, 'model/old.txt': Buffer.from('old'), 'model/cache/a.bin': Buffer.from('a') },
      {
        moreLayers: [
          { 'model/model.safetensors': two, 'model/.wh.old.txt': Buffer.alloc(0) },
          { 'model/cache/.wh..wh..opq': Buffer.alloc(0), 'model/cache/b.bin': Buffer.from('b') },
        ],
      },
    );
    const v = await importContainerImage(r, `${oci.host}/team/layered:v1`, { path: '/model' });
    const files = await r.files(v.id);
    assert.deepStrictEqual(files.map((f) => f.path).sort(), ['cache/b.bin', 'model.safetensors']);
    assert.strictEqual(files.find((f) => f.path === 'model.safetensors')!.size, two.length);
    const { createHash } = await import('crypto');
    assert.strictEqual(
      files.find((f) => f.path === 'model.safetensors')!.sha256,
      createHash('sha256').update(two).digest('hex'),
      'the top layer wins',
    );
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
      digest = await pushTestImage(
        oci.host,
        'team/private',
        'v1',
        { 'model/model.safetensors': weights },
        { credentials: oci.credentials },
      );
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
      assert.deepStrictEqual(
        (await r.files(v.id)).map((f) => [f.path, f.size]),
        [['model.safetensors', weights.length]],
      );
      if (auth === 'token') {
        // One token, asked for with the service and scope from the challenge, and only for pull.
        assert.deepStrictEqual(oci.tokenRequests!.slice(before), [
          { user: username, service: 'modelreg-test-registry', scopes: ['repository:team/private:pull'], status: 200 },
        ]);
      }
    });

    it('a wrong password: an error naming the registry and the 401', async () => {
      const err = await importContainerImage(r, image, {
        path: '/model',
        username: oci.credentials!.username,
        password: 'wrong',
      }).then(
        () => assert.fail('imported with a wrong password'),
        (e: Error) => e,
      );
      // htpasswd: the registry refuses the retried request; token: the token server refuses.
      assert.strictEqual(
        err.message,
        `${oci.host}/team/private: ${auth === 'htpasswd' ? 'the registry refused access for user tester (401)' : 'the token service refused (401)'}`,
      );
      if (auth === 'token')
        assert.deepStrictEqual(oci.tokenRequests!.at(-1), {
          user: 'tester',
          service: 'modelreg-test-registry',
          scopes: ['repository:team/private:pull'],
          status: 401,
        });
      assert.deepStrictEqual(await r.listModels(), []);
    });

    it('no credentials: an error asking for a user name and password', async () => {
      const err = await importContainerImage(r, image, { path: '/model' }).then(
        () => assert.fail('imported without credentials'),
        (e: Error) => e,
      );
      // htpasswd: a Basic challenge; token: an anonymous token that grants nothing, and the registry still answers 401.
      assert.strictEqual(
        err.message,
        `${oci.host}/team/private: the registry wants a user name and password${auth === 'token' ? ' (401)' : ''}`,
      );
      if (auth === 'token')
        assert.deepStrictEqual(oci.tokenRequests!.at(-1), {
          user: null,
          service: 'modelreg-test-registry',
          scopes: ['repository:team/private:pull'],
          status: 200,
        });
    });

    it('modelreg import-image --username, the password from MODELREG_REGISTRY_PASSWORD', async () => {
      // Not spawnSync: the token server runs in this process and must keep answering.
      const cli = CLI_JS;
      const args = [
        cli,
        '--registry',
        path.join(tempDir(), 'reg'),
        'import-image',
        image,
        '--path',
        '/model',
        '--username',
        oci.credentials!.username,
        '--json',
      ];
      const { stdout } = await execFileAsync(process.execPath, args, {
        env: { ...process.env, MODELREG_REGISTRY_PASSWORD: oci.credentials!.password },
      });
      assert.strictEqual(JSON.parse(stdout).source.uri, `${oci.host}/team/private@${digest}`);
      await assert.rejects(
        execFileAsync(process.execPath, args, { env: { ...process.env, MODELREG_REGISTRY_PASSWORD: 'wrong' } }),
        (e: { stderr: string }) => /team\/private: the (registry|token service) refused/.test(e.stderr),
      );
    });
  });
}

// Issue 15 item 7b: Basic credentials go to a token service only over https (or loopback) on the
// registry's own host, unless the user allows that service.
describe('token services that may get the credentials', () => {
  it("tokenRealmProblem: https on the registry host (and Docker Hub's auth.docker.io) yes; http elsewhere or another host no", () => {
    const p = (registry: string, realm: string) => tokenRealmProblem(registry, new URL(realm));
    assert.strictEqual(p('ghcr.io', 'https://ghcr.io/token'), undefined);
    assert.strictEqual(p('registry.example.com:5000', 'https://registry.example.com/auth'), undefined);
    assert.strictEqual(p('registry-1.docker.io', 'https://auth.docker.io/token'), undefined);
    assert.strictEqual(p('127.0.0.1:5000', 'http://127.0.0.1:5001/token'), undefined);
    assert.strictEqual(p('registry.example.com', 'http://registry.example.com/token'), 'it is not https (http)');
    assert.strictEqual(
      p('registry.example.com', 'https://attacker.example.net/token'),
      "it is not the registry's host (registry.example.com)",
    );
    assert.strictEqual(p('127.0.0.1:5000', 'http://localhost:5001/token'), "it is not the registry's host (127.0.0.1)");
    assert.strictEqual(p('ghcr.io', 'ftp://ghcr.io/token'), 'it is not https (ftp)');
  });
});

describe('a registry whose token service is on another host (docker-registry + token server)', function () {
  this.timeout(120_000);
  let oci: Awaited<ReturnType<typeof startOciRegistry>>;
  let r: Registry;
  let image: string;
  let realm: URL;
  const withUser = () => oci.tokenRequests!.filter((t) => t.user !== null);
  before(async () => {
    oci = await startOciRegistry({ auth: 'token', tokenRealmHost: 'localhost' });
    image = `${oci.host}/team/private:v1`;
    await pushTestImage(
      oci.host,
      'team/private',
      'v1',
      { 'model/model.safetensors': safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [4], fill: 1 }]) },
      { credentials: oci.credentials },
    );
    realm = new URL(
      /realm="([^"]+)"/.exec((await fetch(`http://${oci.host}/v2/`)).headers.get('www-authenticate') ?? '')![1],
    );
    assert.strictEqual(realm.hostname, 'localhost');
  });
  after(() => oci?.stop());
  beforeEach(async () => {
    r = await Registry.open(path.join(tempDir(), 'reg'));
    oci.tokenRequests!.length = 0;
  });
  afterEach(() => r.close());

  it('refuses to send the credentials, naming the token service and how to allow it; the token server never saw them', async () => {
    const { username, password } = oci.credentials!;
    await assert.rejects(importContainerImage(r, image, { path: '/model', username, password }), (e: Error) => {
      assert.strictEqual(
        e.message,
        `${oci.host}/team/private: the registry asks to send your credentials to the token service ${realm.origin}, and it is not the registry's host (127.0.0.1); they were not sent. If you trust that service, allow it: --allow-token-realm ${realm.host}`,
      );
      return true;
    });
    assert.deepStrictEqual(withUser(), []);
    assert.deepStrictEqual(await r.listModels(), []);
  });

  it('allowed by host, or confirmed: the credentials go and the import works; declined: cancelled, nothing sent', async () => {
    const { username, password } = oci.credentials!;
    const v = await importContainerImage(r, image, {
      path: '/model',
      username,
      password,
      allowTokenRealms: [realm.host],
    });
    assert.strictEqual(v.format, 'safetensors');
    assert.deepStrictEqual(
      withUser().map((t) => [t.user, t.status]),
      [['tester', 200]],
    );
    const asked: string[] = [];
    await assert.rejects(
      importContainerImage(r, image, {
        path: '/model',
        username,
        password,
        confirmTokenRealm: async (u, why) => (asked.push(`${u} ${why}`), false),
      }),
      /cancelled/,
    );
    assert.deepStrictEqual(asked, [`${realm.origin} it is not the registry's host (127.0.0.1)`]);
    assert.strictEqual(withUser().length, 1, 'declined: nothing more sent');
    const again = await importContainerImage(r, image, {
      path: '/model',
      username,
      password,
      model: 'confirmed',
      confirmTokenRealm: async () => true,
    });
    assert.strictEqual(again.ref, 'confirmed@v1');
  });

  it('modelreg import-image: refused with exit 2 and the flag to allow it; --allow-token-realm HOST imports', async () => {
    const cli = CLI_JS;
    const args = [
      cli,
      '--registry',
      path.join(tempDir(), 'reg'),
      'import-image',
      image,
      '--path',
      '/model',
      '--username',
      oci.credentials!.username,
      '--json',
    ];
    const env = { ...process.env, MODELREG_REGISTRY_PASSWORD: oci.credentials!.password };
    await assert.rejects(execFileAsync(process.execPath, args, { env }), (e: { code: number; stderr: string }) => {
      assert.strictEqual(e.code, 2);
      assert.match(
        e.stderr,
        new RegExp(
          `token service ${realm.origin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*they were not sent.*--allow-token-realm ${realm.host}`,
        ),
      );
      return true;
    });
    assert.deepStrictEqual(withUser(), []);
    const { stdout } = await execFileAsync(process.execPath, [...args, '--allow-token-realm', realm.host], { env });
    assert.strictEqual(JSON.parse(stdout).format, 'safetensors');
  });
});
