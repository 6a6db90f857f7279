// `modelreg serve` through the real CLI: ready line (--json), answers over HTTP, a log line per
// request on stderr, a generated token printed once for a non-loopback host, SIGTERM closes cleanly.
import * as assert from 'assert';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { eventually } from '../../helpers/eventually';
import { affineBytes } from '../core/serve/models';
import { CLI_JS } from '../helpers/paths';
import { makeGitRepo, tempDir } from '../helpers/tmp';

interface Ready {
  url: string;
  models: { name: string; version: string; ref: string; inputs: unknown[]; outputs: unknown[] }[];
  token?: string;
}

describe('modelreg serve', function () {
  this.timeout(120_000);
  let ws: string;
  const running: ChildProcess[] = [];

  before(() => {
    ws = tempDir();
    makeGitRepo(ws);
    mkdirSync(path.join(ws, 'models', 'm'), { recursive: true });
    writeFileSync(path.join(ws, 'models', 'm', 'model.onnx'), affineBytes([2, 2, 2], [1, 1, 1]));
    const r = spawnSync(process.execPath, [CLI_JS, 'import', 'models/m', '--model', 'm'], {
      cwd: ws,
      encoding: 'utf8',
    });
    assert.strictEqual(r.status, 0, r.stderr);
  });
  after(() => {
    for (const c of running) if (c.exitCode === null) c.kill('SIGKILL');
  });

  /** Starts the CLI; resolves with its first stdout line once it has one. */
  function start(...args: string[]) {
    const child = spawn(process.execPath, [CLI_JS, 'serve', ...args], { cwd: ws });
    running.push(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, exited, out: () => out, err: () => err };
  }

  it('--json prints {url, models} once ready; answers; one log line per request on stderr; SIGTERM exits 0', async () => {
    const s = start('m@v1', '--port', '0', '--json', '--max-batch', '8', '--batch-delay-ms', '2');
    const ready = await eventually(() => JSON.parse(s.out().split('\n')[0]) as Ready, { timeout: 60_000 });
    assert.match(ready.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.strictEqual(ready.token, undefined);
    assert.deepStrictEqual(ready.models, [
      {
        name: 'm',
        version: '1',
        ref: 'm@v1',
        inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }],
        outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 3] }],
      },
    ]);
    const res = await fetch(`${ready.url}/v2/models/m/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }),
    });
    assert.deepStrictEqual(((await res.json()) as { outputs: { data: number[] }[] }).outputs[0].data, [3, 5, 7]);
    await eventually(() => assert.match(s.err(), /^\S+Z POST \/v2\/models\/m\/infer m 1 200 \S+ms$/m));
    s.child.kill('SIGTERM');
    assert.strictEqual(await s.exited, 0, s.err());
    assert.doesNotMatch(s.err(), /error/i);
  });

  it('a non-loopback host gets a generated token, printed once; requests without it are 401', async () => {
    const s = start('m', '--host', '0.0.0.0', '--port', '0');
    const url = await eventually(() => /serving on (http:\/\/\S+) /.exec(s.out())![1], { timeout: 60_000 });
    const token = await eventually(() => /token \(shown once\): (\S+)/.exec(s.out())![1]);
    assert.strictEqual(s.out().split(token).length - 1, 2); // the line and the header example, nothing more
    assert.match(s.out(), new RegExp(`/v2/models/m/versions/1 {2}\\(m\\)`));
    const port = new URL(url).port;
    assert.strictEqual((await fetch(`http://127.0.0.1:${port}/v2/health/ready`)).status, 401);
    const ok = await fetch(`http://127.0.0.1:${port}/v2/health/ready`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    assert.strictEqual(ok.status, 200);
    s.child.kill('SIGINT');
    assert.strictEqual(await s.exited, 0, s.err());
  });

  it('--json carries a generated token in its ready line, and nowhere else', async () => {
    const s = start('m@v1', '--host', '0.0.0.0', '--port', '0', '--json');
    const ready = await eventually(() => JSON.parse(s.out().split('\n')[0]) as Ready, { timeout: 60_000 });
    assert.ok(ready.token && ready.token.length >= 32);
    const port = new URL(ready.url).port;
    const ok = await fetch(`http://127.0.0.1:${port}/v2/models/m`, {
      headers: { Authorization: `Bearer ${ready.token}` },
    });
    assert.strictEqual(ok.status, 200);
    s.child.kill('SIGTERM');
    assert.strictEqual(await s.exited, 0, s.err());
    assert.strictEqual(s.out().trim().split('\n').length, 1);
    assert.ok(!s.err().includes(ready.token));
  });

  it('refuses a version that does not exist, exit 2, naming it', async () => {
    const s = start('m@v5', '--port', '0');
    assert.strictEqual(await s.exited, 2);
    assert.match(s.err(), /^modelreg: model 'm' has no version v5/);
  });
});
