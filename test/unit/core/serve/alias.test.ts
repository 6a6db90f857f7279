// Alias-following: a server for m@production swaps to the version the alias moves to, with no failed
// request while clients keep sending; a pinned ref beside it stays where it was.
import * as assert from 'assert';
import * as path from 'path';
import { ortProcesses } from '../../../../src/core/onnxrt/session';
import { Registry } from '../../../../src/core/registry/registry';
import { serve } from '../../../../src/core/serve/server';
import { eventually } from '../../../helpers/eventually';
import { importOnnxModel } from '../../helpers/importModel';
import { tempDir } from '../../helpers/tmp';
import { affineBytes } from './models';

interface Answer {
  status: number;
  version?: string;
  y?: number[];
}

describe('modelreg serve: alias-following', function () {
  this.timeout(120_000);

  it('follows m@production to the new version under load: answers switch, metadata shows it, no request fails', async () => {
    const work = tempDir();
    const r = await Registry.open(path.join(work, 'registry'));
    await importOnnxModel(r, work, 'm', affineBytes([1, 1, 1], [0, 0, 0]));
    await importOnnxModel(r, work, 'm', affineBytes([1, 1, 1], [100, 100, 100]));
    await r.setAlias('m@v1', 'production');
    const logs: string[] = [];
    const spawned: { pid: number }[] = [];
    const onSpawn = (p: { pid: number }) => spawned.push(p);
    ortProcesses.on('spawn', onSpawn);
    const server = await serve(r, ['m@production', 'm@v1'], {
      port: 0,
      followIntervalMs: 100,
      log: (l) => logs.push(l),
    });
    const answers: Answer[] = [];
    let sending = true;
    const body = JSON.stringify({ inputs: [{ name: 'x', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] });
    const client = async () => {
      while (sending) {
        try {
          const res = await fetch(`${server.url}/v2/models/m/infer`, { method: 'POST', body });
          const a = (await res.json()) as { model_version?: string; outputs?: { data: number[] }[] };
          answers.push({ status: res.status, version: a.model_version, y: a.outputs?.[0].data });
        } catch {
          answers.push({ status: 0 });
        }
      }
    };
    try {
      const clients = Array.from({ length: 5 }, client);
      await eventually(() => assert.ok(answers.length >= 20));
      assert.deepStrictEqual(
        ((await (await fetch(`${server.url}/v2/models/m`)).json()) as { versions: string[] }).versions,
        ['1'],
      );

      await r.setAlias('m@v2', 'production');
      await eventually(() => assert.ok(answers.slice(-10).every((a) => a.version === '2')), { timeout: 30_000 });
      const moved = answers.length;
      await eventually(() => assert.ok(answers.length >= moved + 20));
      sending = false;
      await Promise.all(clients);

      assert.deepStrictEqual(
        answers.filter((a) => a.status !== 200),
        [],
      );
      // Each answer is the one its version gives: b = 0 on v1, b = 100 on v2.
      for (const a of answers) assert.deepStrictEqual(a.y, a.version === '1' ? [1, 2, 3] : [101, 102, 103]);
      assert.ok(answers.some((a) => a.version === '1') && answers.some((a) => a.version === '2'));

      const meta = (await (await fetch(`${server.url}/v2/models/m`)).json()) as { versions: string[] };
      assert.deepStrictEqual(meta.versions, ['2', '1']);
      assert.deepStrictEqual(
        server.models().map((m) => [m.ref, m.version]),
        [
          ['m@production', '2'],
          ['m@v1', '1'],
        ],
      );
      // The pinned ref still answers on version 1.
      const pinned = await fetch(`${server.url}/v2/models/m/versions/1/infer`, { method: 'POST', body });
      assert.strictEqual(((await pinned.json()) as { model_version: string }).model_version, '1');
      assert.ok(logs.some((l) => l.includes('m@production: now serving m@v2 (was m@v1)')));
      // Three sessions were started (m@production on v1, m@v1, then v2); the retired one has ended.
      assert.strictEqual(spawned.length, 3);
      const alive = (pid: number) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      await eventually(() => assert.deepStrictEqual(spawned.map((p) => alive(p.pid)).filter(Boolean).length, 2));
    } finally {
      ortProcesses.off('spawn', onSpawn);
      sending = false;
      await server.close();
      await r.close();
    }
  });
  it('refuses one version given twice (m@v1 m@1, or one alias twice) before loading anything; an alias beside a pin is served', async () => {
    const work = tempDir();
    const r = await Registry.open(path.join(work, 'registry'));
    try {
      await importOnnxModel(r, work, 'm', affineBytes([1, 1, 1], [0, 0, 0]));
      await r.setAlias('m@v1', 'production');
      const spawned: unknown[] = [];
      const onSpawn = (p: unknown) => spawned.push(p);
      ortProcesses.on('spawn', onSpawn);
      try {
        await assert.rejects(serve(r, ['m@v1', 'm@1'], { port: 0 }), /m@v1 and m@1 both name m@v1; give it once/);
        await assert.rejects(
          serve(r, ['m@production', 'm@production'], { port: 0 }),
          /m@production and m@production both name m@production; give it once/,
        );
        assert.strictEqual(spawned.length, 0, 'no session was started');
      } finally {
        ortProcesses.off('spawn', onSpawn);
      }
      const server = await serve(r, ['m@production', 'm@v1'], { port: 0 });
      await server.close();
    } finally {
      await r.close();
    }
  });
});
