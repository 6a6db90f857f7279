// Compare-panel benchmark (not a test): 10 versions × 5 metrics × 100k steps in a real registry.
// Measures the extension-side work from "Compare" to the message posted (build + downsample +
// serialise), against reading the same rows with raw SQL in the same run, and the points posted.
import { mkdtempSync, rmSync } from 'fs';
import os from 'os';
import path from 'path';
import { createRequire } from 'module';
import { fileURLToPath } from 'url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const { Registry } = require(path.join(repo, 'out/src/core/registry/registry.js'));
const { buildComparison } = require(path.join(repo, 'out/src/core/compare/comparison.js'));

const VERSIONS = 10;
const KEYS = ['loss', 'eval_loss', 'accuracy', 'f1', 'learning_rate'];
const STEPS = 100_000;
const work = mkdtempSync(path.join(os.tmpdir(), 'modelreg-bench-compare-'));
try {
  const registry = await Registry.open(path.join(work, '.modelreg'));
  const ids = [];
  const steps = Array.from({ length: STEPS }, (_, i) => i);
  const t0 = Date.parse('2026-11-01T00:00:00Z') / 1000;
  for (let v = 0; v < VERSIONS; v++) {
    const { id } = await registry.beginVersion('bench', { kind: 'training-output', uri: `/bench/${v}` });
    const series = KEYS.map((key, k) => ({
      key,
      steps,
      values: steps.map((s) => Math.exp(-s / (20000 + 1000 * v)) * (k + 1) + 0.01 * Math.sin(s * 0.37 + v)),
      wallTimes: steps.map((s) => t0 + s * 0.05),
    }));
    await registry.completeVersion(id, {
      files: [],
      metrics: [{ source: 'metrics.csv', series }],
      format: null,
      framework: null,
      parameterCount: null,
      git: null,
      params: { 'hparams.yaml': { lr: 10 ** -v, seed: 42 } },
      signature: {},
      details: {},
    });
    ids.push(id);
  }

  const time = async (fn, runs = 5) => {
    let best = Infinity;
    let result;
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      result = await fn();
      best = Math.min(best, performance.now() - t);
    }
    return { ms: best, result };
  };
  const raw = await time(() =>
    registry.db.all(`SELECT step_data, value_data, wall_time_data FROM metrics WHERE version_id IN (${ids.join(',')})`),
  );
  const built = await time(async () => {
    const model = await buildComparison(registry, ids);
    return { model, json: JSON.stringify({ type: 'comparison', payload: model }) };
  });
  const { model, json } = built.result;
  const perSeries = model.series.map((s) => s.steps.length);
  console.log(
    `\nCompare ${VERSIONS} versions × ${KEYS.length} metrics × ${STEPS.toLocaleString('en')} steps (best of 5)`,
  );
  console.log(
    `  reference  raw SQL read of the ${VERSIONS * KEYS.length} packed series   ${raw.ms.toFixed(0).padStart(5)} ms`,
  );
  console.log(
    `  modelreg   command → message ready to post             ${built.ms.toFixed(0).padStart(5)} ms   goal < 300 ms  ${built.ms < 300 ? 'met' : 'NOT met'}`,
  );
  console.log(`             ratio to the raw read                         ${(built.ms / raw.ms).toFixed(2)}×`);
  console.log(
    `  points posted per series: max ${Math.max(...perSeries)}, min ${Math.min(...perSeries)} (goal ≤ 2000)  ${Math.max(...perSeries) <= 2000 ? 'met' : 'NOT met'}`,
  );
  console.log(`  message size ${(json.length / 1024 / 1024).toFixed(2)} MiB`);
  await registry.close();
} finally {
  rmSync(work, { recursive: true, force: true });
}
