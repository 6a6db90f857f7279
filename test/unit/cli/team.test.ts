// `modelreg push/pull` and `--registry postgres://…` against a real PostgreSQL and Swift s3api, with
// concurrent pushers in separate processes: the team registry hands out consistent numbers.
import * as assert from 'assert';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { spawn } from 'child_process';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { s3Client } from '../../../src/core/store/s3/client';
import { startPostgres, startSwiftS3, teamCliEnv } from '../../services/services';
import { safetensorsBytes } from '../helpers/makeWeights';
import { makeGitRepo, tempDir } from '../helpers/tmp';
import { CLI_JS } from '../helpers/paths';

const cli = CLI_JS;

describe('modelreg push / pull (PostgreSQL + Swift s3api)', function () {
  this.timeout(240_000);
  let pg: Awaited<ReturnType<typeof startPostgres>>;
  let swift: Awaited<ReturnType<typeof startSwiftS3>>;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    [pg, swift] = await Promise.all([startPostgres(), startSwiftS3()]);
    const admin = s3Client({
      endpoint: swift.endpoint,
      region: swift.region,
      credentials: { accessKeyId: swift.accessKeyId, secretAccessKey: swift.secretAccessKey },
    });
    await admin.send(new CreateBucketCommand({ Bucket: 'team' }));
    admin.destroy();
    env = teamCliEnv(pg, swift);
  });
  after(() => Promise.all([pg?.stop(), swift?.stop()]));

  function modelreg(
    cwd: string,
    args: string[],
    extraEnv: NodeJS.ProcessEnv = {},
  ): Promise<{ code: number | null; out: string; err: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [cli, ...args], { cwd, env: { ...env, ...extraEnv } });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('close', (code) => resolve({ code, out, err }));
    });
  }
  async function ok(cwd: string, ...args: string[]): Promise<string> {
    const r = await modelreg(cwd, args);
    assert.strictEqual(r.code, 0, `modelreg ${args.join(' ')}: ${r.err}`);
    return r.out;
  }

  let seed = 100;
  /** A workspace with `count` imported versions of resnet (final accuracies base + i/100). */
  async function workspace(count: number, base = 0.5): Promise<string> {
    const ws = tempDir();
    makeGitRepo(ws);
    for (let i = 1; i <= count; i++) {
      const out = path.join(ws, `run${i}`);
      mkdirSync(out);
      writeFileSync(
        path.join(out, 'model.safetensors'),
        safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [32], fill: ++seed }]),
      );
      writeFileSync(path.join(out, 'metrics.json'), JSON.stringify({ accuracy: base + i / 100 }));
      await ok(ws, 'import', `run${i}`, '--model', 'resnet');
    }
    return ws;
  }

  it('two workspaces pushing the same model at once get distinct, gap-free team numbers; the same version pushed twice at once is recorded once', async () => {
    const [a, b] = await Promise.all([workspace(4), workspace(4)]);
    const pushAll = async (ws: string) => {
      for (let i = 1; i <= 4; i++) await ok(ws, 'push', `resnet@v${i}`);
    };
    await Promise.all([pushAll(a), pushAll(b), ok(a, 'push', 'resnet@v1'), ok(a, 'push', 'resnet@v1')]);
    const versions = JSON.parse(await ok(a, '--registry', pg.url, 'list', 'resnet', '--json')) as {
      number: number;
      details: { copiedFrom: { registry: string; ref: string } };
    }[];
    assert.deepStrictEqual(
      versions.map((v) => v.number).sort((x, y) => x - y),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    const from = versions.map((v) => `${v.details.copiedFrom.registry}|${v.details.copiedFrom.ref}`);
    assert.strictEqual(new Set(from).size, 8, 'each local version once');
    // Each workspace's versions keep their order in the team registry.
    for (const ws of [a, b]) {
      const mine = versions
        .filter((v) => v.details.copiedFrom.registry === path.join(ws, '.modelreg'))
        .sort((x, y) => x.number - y.number);
      assert.deepStrictEqual(
        mine.map((v) => v.details.copiedFrom.ref),
        ['resnet@v1', 'resnet@v2', 'resnet@v3', 'resnet@v4'],
      );
    }
  });

  it('push prints what it sent, pull brings a version into a new workspace, metadata commands run on the team registry', async () => {
    const a = await workspace(1, 0.9);
    const pushed = JSON.parse(await ok(a, 'push', 'resnet@v1', '--json'));
    assert.strictEqual(pushed.objectsSent, 2);
    assert.match(await ok(a, 'push', 'resnet'), /^Pushed resnet → resnet@v\d+ \(already there\)$/m);
    const teamRef = pushed.version.ref as string;
    await ok(a, '--registry', pg.url, 'alias', 'set', teamRef, 'production');
    const c = tempDir();
    const pulled = await ok(c, 'pull', 'resnet@production');
    assert.match(pulled, /^Pulled resnet@production → resnet@v1 \(2 objects received, .*; 0 already there\)/);
    const shown = JSON.parse(await ok(c, 'show', 'resnet@v1', '--json'));
    assert.deepStrictEqual(
      shown.metrics.map((m: { key: string; value: number }) => [m.key, m.value]),
      [['accuracy', 0.91]],
    );
    assert.strictEqual(shown.git.commit, pushed.version.git.commit);
    assert.match(await ok(c, 'verify'), /all intact/);
  });

  it('says what is missing or not possible on a team registry', async () => {
    const ws = tempDir();
    const noStore = await modelreg(ws, ['push', 'x'], { MODELREG_TEAM_STORE: '' });
    assert.strictEqual(noStore.code, 2);
    assert.match(noStore.err, /a team registry needs its bucket: --store s3:\/\/BUCKET\/PREFIX/);
    const noTeam = await modelreg(ws, ['pull', 'x'], { MODELREG_TEAM: '' });
    assert.match(noTeam.err, /which team registry\? --team postgres:/);
    const verify = await modelreg(ws, ['--registry', pg.url, 'verify']);
    assert.match(verify.err, /this command works on a local registry folder/);
    const missing = await modelreg(ws, ['--registry', pg.url, 'show', 'nothing@v1']);
    assert.match(
      missing.err,
      /no model named 'nothing' in the registry at postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres/,
    );
  });
});
