// The server in a process of its own (what the Deployments view runs): ready with its URL and models,
// metrics read over HTTP, a crash seen as one and started again, a port in use told before anything
// else, and a server that stops when its parent's pipe closes.
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import { Registry } from '../../../../src/core/registry/registry';
import { ServerProcess } from '../../../../src/core/serve/serverProcess';
import { eventually } from '../../../helpers/eventually';
import { importOnnxModel } from '../../helpers/importModel';
import { CLI_JS } from '../../helpers/paths';
import { tempDir } from '../../helpers/tmp';
import { affineBytes } from './models';

describe('modelreg serve in its own process (ServerProcess)', function () {
  this.timeout(120_000);
  let registryDir: string;
  const started: ServerProcess[] = [];
  before(async () => {
    const work = tempDir();
    registryDir = path.join(work, 'registry');
    const r = await Registry.open(registryDir);
    await importOnnxModel(r, work, 'm', affineBytes([2, 2, 2], [1, 1, 1]));
    await r.setAlias('m@v1', 'production');
    await r.close();
  });
  after(() => Promise.all(started.map((s) => s.stop(1000))));
  const deploy = (spec: Partial<ConstructorParameters<typeof ServerProcess>[0]> = {}) => {
    const s = new ServerProcess({ refs: ['m@production'], registryDir, port: 0, ...spec }, CLI_JS);
    started.push(s);
    return s;
  };
  const infer = (url: string) =>
    fetch(`${url}/v2/models/m/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }),
    });

  it('is ready with its URL and models; metrics count its requests; Stop ends it; a crash is seen and Restart works', async () => {
    const s = deploy({ maxBatch: 4, batchDelayMs: 1 });
    const changes: string[] = [];
    s.on('change', () => changes.push(s.status));
    await s.start();
    assert.strictEqual(s.status, 'ready');
    assert.match(s.url!, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepStrictEqual(
      s.models.map((m) => [m.name, m.version, m.ref]),
      [['m', '1', 'm@production']],
    );
    for (let i = 0; i < 3; i++) assert.strictEqual((await infer(s.url!)).status, 200);
    const [m] = await s.readMetrics();
    assert.deepStrictEqual([m.model, m.version, m.requests, m.failures], ['m', '1', 3, 0]);
    assert.ok(m.p50Ms! > 0 && m.p95Ms! >= m.p50Ms!, JSON.stringify(m));
    await eventually(() =>
      assert.ok(
        s.log.some((l) => /POST \/v2\/models\/m\/infer/.test(l) || / m 1 200 /.test(l)),
        s.log.join('\n'),
      ),
    );

    process.kill(s.pid!, 'SIGKILL'); // as onnxruntime taking the server down would
    await eventually(() => assert.strictEqual(s.status, 'crashed'));
    assert.match(s.error!, /the server was killed \(SIGKILL\)/);
    await s.start();
    assert.strictEqual(s.status, 'ready');
    assert.strictEqual((await infer(s.url!)).status, 200);
    await s.stop();
    assert.strictEqual(s.status, 'stopped');
    assert.deepStrictEqual(changes.slice(0, 2), ['starting', 'ready']);
    assert.ok(changes.includes('crashed') && changes.at(-1) === 'stopped', changes.join(' '));
  });

  it('a port in use fails the start with the reason, naming the address', async () => {
    const busy = http.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const s = deploy({ port });
      await assert.rejects(s.start(), new RegExp(`127\\.0\\.0\\.1:${port} is in use; give another --port`));
      assert.strictEqual(s.status, 'failed');
    } finally {
      busy.close();
    }
  });

  it("a wrong ref fails the start with the registry's message", async () => {
    const s = deploy({ refs: ['nope@v1'] });
    await assert.rejects(s.start(), /nope/);
    assert.strictEqual(s.status, 'failed');
  });

  it('modelreg serve --stop-with-stdin stops when its parent closes the pipe', async () => {
    const child = spawn(process.execPath, [
      CLI_JS,
      '--registry',
      registryDir,
      'serve',
      'm@v1',
      '--port',
      '0',
      '--json',
      '--stop-with-stdin',
    ]);
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await eventually(() => assert.ok(out.includes('\n')), { timeout: 60_000 });
    child.stdin.end();
    assert.strictEqual(await exited, 0);
  });
});
