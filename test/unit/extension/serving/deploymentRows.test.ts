import * as assert from 'assert';
import type { DeploymentSnapshot } from '../../../../src/core';
import { deploymentRow, servedModelRow, totals } from '../../../../src/extension/serving/deploymentRows';
import { tensorsPerLine } from '../../../../src/shared/request/snippets';

const model = {
  name: 'm',
  version: '3',
  ref: 'm@production',
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 3] }],
  outputs: [],
};
const snap = (p: Partial<DeploymentSnapshot>): DeploymentSnapshot => ({
  id: 1,
  spec: { refs: ['m@production'], registryDir: '/r', port: 8000, maxBatch: 8, batchDelayMs: 2 },
  status: 'ready',
  url: 'http://127.0.0.1:8000',
  models: [model],
  startedAt: 0,
  metrics: [],
  ...p,
});

describe('Deployments view rows', () => {
  it('a ready server: address, uptime, requests, p50/p95, errors only when there are some', () => {
    const row = deploymentRow(
      snap({ metrics: [{ model: 'm', version: '3', requests: 12, failures: 0, p50Ms: 2.345, p95Ms: 18.2 }] }),
      65_000,
    );
    assert.strictEqual(row.label, 'm@production');
    assert.strictEqual(row.description, 'ready · 127.0.0.1:8000 · 1:05 · 12 req · p50 2.3 ms · p95 18 ms');
    assert.strictEqual(row.contextValue, 'deployment.ready');
    assert.match(row.tooltip, /m@production → m version 3/);
    assert.match(row.tooltip, /batches of up to 8 rows, 2 ms/);
    const failing = deploymentRow(
      snap({ metrics: [{ model: 'm', version: '3', requests: 5, failures: 2, p50Ms: undefined, p95Ms: undefined }] }),
      0,
    );
    assert.strictEqual(failing.description, 'ready · 127.0.0.1:8000 · 0:00 · 5 req · p50 – · p95 – · 2 errors');
  });

  it('a crashed or failed server says why; its menu offers Restart', () => {
    const row = deploymentRow(snap({ status: 'crashed', url: undefined, error: 'the server was killed (SIGKILL)' }), 0);
    assert.strictEqual(row.description, 'crashed · the server was killed (SIGKILL)');
    assert.strictEqual(row.contextValue, 'deployment.crashed');
    assert.strictEqual(row.icon, 'error');
  });

  it('totals over versions; a served version row tells whether it follows an alias', () => {
    assert.deepStrictEqual(
      totals([
        { model: 'a', version: '1', requests: 2, failures: 1, p50Ms: 1, p95Ms: 4 },
        { model: 'b', version: '1', requests: 3, failures: 0, p50Ms: 2, p95Ms: undefined },
      ]),
      { requests: 5, failures: 1, p50Ms: 2, p95Ms: 4 },
    );
    assert.deepStrictEqual(servedModelRow(model, []).label, 'm v3');
    assert.strictEqual(servedModelRow(model, []).description, 'follows m@production');
    assert.strictEqual(servedModelRow({ ...model, ref: 'm@v3' }, []).description, 'pinned');
    assert.match(servedModelRow(model, []).tooltip, /inputs: x FP32\[-1, 3\]/);
  });
});

describe('request panel text', () => {
  it('one tensor per line; other keys as they are; not an object: plain JSON', () => {
    const text = tensorsPerLine({
      id: 'a',
      inputs: [
        { name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] },
        { name: 'y', shape: [1], datatype: 'BYTES', data: ['s'] },
      ],
    });
    assert.strictEqual(
      text,
      '{\n "id": "a",\n "inputs": [\n  {"name":"x","shape":[1,2],"datatype":"FP32","data":[1,2]},\n  {"name":"y","shape":[1],"datatype":"BYTES","data":["s"]}\n ]\n}',
    );
    assert.deepStrictEqual(JSON.parse(text).inputs[1].data, ['s']);
    assert.strictEqual(tensorsPerLine([1]), '[\n 1\n]');
  });
});
