// A generated ComparisonModel for the compare page's dev preview: N versions × 5 metric keys with
// long noisy curves, parameters with differences, and code comparisons. Deterministic (seeded).

const COLORS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];
const KEYS = ['loss', 'eval_loss', 'accuracy', 'f1', 'learning_rate'];
const DIRECTIONS = { loss: 'lower', eval_loss: 'lower', accuracy: 'higher', f1: 'higher', learning_rate: null };

function rng(seed) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/** Full-resolution series per version and key, as the registry would store them. */
export function fullSeries(versions, points) {
  const out = [];
  versions.forEach((v, vi) => {
    const r = rng(42 + vi);
    const quality = 1 + vi * 0.18; // later versions train a bit better
    const secondsPerStep = 0.3 + vi * 0.05;
    for (const key of KEYS) {
      if (key === 'f1' && vi === 1) continue; // one version never logged f1
      const every = key === 'eval_loss' || key === 'f1' ? 50 : 1; // evaluation is sparse
      const n = Math.floor(points / every);
      const steps = [];
      const values = [];
      const times = [];
      for (let i = 0; i < n; i++) {
        const step = (i + 1) * every * 10;
        const t = step / (points * 10);
        const noise = (r() - 0.5) * 0.08;
        let y;
        if (key === 'loss') y = 2.3 * Math.exp(-4 * t * quality) + 0.15 + noise * (1 - t) + (r() < 0.002 ? 0.8 : 0);
        else if (key === 'eval_loss') y = 2.2 * Math.exp(-3.5 * t * quality) + 0.22 + noise / 3;
        else if (key === 'accuracy') y = Math.min(0.99, 0.1 + 0.8 * (1 - Math.exp(-5 * t * quality)) + noise / 4);
        else if (key === 'f1') y = Math.min(0.99, 0.05 + 0.78 * (1 - Math.exp(-4.5 * t * quality)) + noise / 5);
        else y = 1e-7 + (t < 0.05 ? (5e-5 * t) / 0.05 : 5e-5 * 0.5 * (1 + Math.cos(Math.PI * ((t - 0.05) / 0.95))));
        // A diverged stretch logged as NaN: the chart must break the line there.
        if (vi === 0 && key === 'loss' && t > 0.42 && t < 0.45) y = NaN;
        steps.push(step);
        values.push(y);
        times.push(step * secondsPerStep + (r() - 0.5) * 0.1);
      }
      const t0 = times[0];
      out.push({
        versionId: v.id,
        key,
        steps,
        values,
        relTimes: key === 'learning_rate' && vi === 2 ? null : times.map((x) => x - t0),
      });
    }
  });
  return out;
}

/** Min/max per bucket, like the extension: spikes survive downsampling; NaN kept as gaps. */
export function downsample(s, max, lo = -Infinity, hi = Infinity, axis = 'step') {
  const xs = axis === 'time' ? s.relTimes : s.steps;
  const idx = [];
  for (let i = 0; i < xs.length; i++) if (xs[i] >= lo && xs[i] <= hi) idx.push(i);
  let keep = idx;
  if (idx.length > max) {
    const buckets = Math.floor(max / 2);
    const size = idx.length / buckets;
    keep = [];
    for (let b = 0; b < buckets; b++) {
      const from = Math.floor(b * size);
      const to = Math.floor((b + 1) * size);
      let mn = -1;
      let mx = -1;
      let nan = -1;
      for (let j = from; j < to; j++) {
        const y = s.values[idx[j]];
        if (Number.isNaN(y)) {
          nan = idx[j];
          continue;
        }
        if (mn < 0 || y < s.values[mn]) mn = idx[j];
        if (mx < 0 || y > s.values[mx]) mx = idx[j];
      }
      if (mn < 0) {
        if (nan >= 0) keep.push(nan);
        continue;
      }
      keep.push(...(mn === mx ? [mn] : mn < mx ? [mn, mx] : [mx, mn]));
    }
  }
  return {
    versionId: s.versionId,
    key: s.key,
    steps: keep.map((i) => s.steps[i]),
    // JSON (what VS Code's postMessage uses) turns NaN into null.
    values: keep.map((i) => (Number.isNaN(s.values[i]) ? null : s.values[i])),
    relTimes: s.relTimes ? keep.map((i) => s.relTimes[i]) : null,
    totalPoints: s.steps.length,
  };
}

function version(i) {
  const created = new Date(Date.UTC(2026, 10, 10 + i, 9 + i, 30));
  return {
    id: 101 + i,
    ref: `bert-sentiment:v${i + 1}`,
    model: 'bert-sentiment',
    number: i + 1,
    aliases: i === 0 ? ['production'] : i === 2 ? ['candidate', 'latest'] : [],
    tags: i === 1 ? ['lr-sweep'] : i === 2 ? ['lr-sweep', 'fp16'] : [],
    format: 'safetensors',
    framework: i === 2 ? 'transformers 4.46' : 'transformers 4.44',
    sizeBytes: 438_000_000 + i * 1_250_000,
    parameterCount: 109_482_240 + (i === 2 ? 1_538 : 0),
    createdAt: created.toISOString(),
    source: { kind: 'folder', uri: `file:///home/ml/project/outputs/run-${i + 1}` },
    git:
      i === 3
        ? null
        : {
            commit: [
              '9f2c4e1a7b3d5e6f8a9b0c1d2e3f4a5b6c7d8e9f',
              'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
              '5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f',
            ][i % 3],
            shortCommit: ['9f2c4e1', 'a1b2c3d', '5e6f7a8'][i % 3],
            subject: [
              'Baseline fine-tuning recipe',
              'Lower the learning rate, add warmup',
              'Mixed precision and a larger batch',
            ][i % 3],
            author: ['Ada Lovelace', 'Grace Hopper', 'Alan Turing'][i % 3],
            date: new Date(created.getTime() - 3_600_000).toISOString(),
            branch: i === 0 ? 'main' : `exp/run-${i + 1}`,
            dirty: i === 2,
            remote: 'https://example.invalid/ml/project.git',
          },
    color: COLORS[i % COLORS.length],
  };
}

function params(versions) {
  const rows = [];
  const common = {
    model_name: '"bert-base-uncased"',
    max_seq_length: '128',
    seed: '42',
    weight_decay: '0.01',
    adam_beta1: '0.9',
    adam_beta2: '0.999',
    adam_epsilon: '1e-8',
    gradient_accumulation_steps: '1',
    logging_steps: '10',
    eval_steps: '500',
    save_steps: '1000',
    dataloader_num_workers: '4',
    label_smoothing_factor: '0',
    max_grad_norm: '1',
    optim: '"adamw_torch"',
    lr_scheduler_type: '"cosine"',
    report_to: '["tensorboard"]',
    output_dir: '"outputs/run"',
  };
  for (const [k, v] of Object.entries(common))
    rows.push({ key: `training_args.json › ${k}`, values: versions.map(() => v), differs: false });
  const differing = {
    learning_rate: (i) => ['5e-05', '3e-05', '3e-05', '2e-05'][i % 4],
    warmup_ratio: (i) => (i === 0 ? '0' : '0.06'),
    per_device_train_batch_size: (i) => (i === 2 ? '64' : '32'),
    fp16: (i) => (i === 2 ? 'true' : 'false'),
    num_train_epochs: () => '3',
    gradient_checkpointing: (i) => (i === 2 ? 'true' : null),
  };
  for (const [k, f] of Object.entries(differing)) {
    const values = versions.map((_, i) => f(i));
    rows.push({ key: `training_args.json › ${k}`, values, differs: new Set(values).size > 1 });
  }
  rows.push({
    key: 'config.json › architectures',
    values: versions.map(() => '["BertForSequenceClassification"]'),
    differs: false,
  });
  rows.push({
    key: 'config.json › hidden_dropout_prob',
    values: versions.map((_, i) => (i === 1 ? '0.2' : '0.1')),
    differs: versions.length > 1,
  });
  return rows.sort((a, b) => a.key.localeCompare(b.key));
}

function code(versions) {
  return versions.slice(1).map((v, j) => {
    const base = versions[0];
    const c = {
      baseVersionId: base.id,
      headVersionId: v.id,
      baseRef: base.ref,
      headRef: v.ref,
      files: [],
      commits: [],
    };
    if (!v.git) return { ...c, unavailable: `${v.ref} was not imported from a git repository` };
    if (j === 0) {
      c.files = [
        { path: 'train.py', insertions: 24, deletions: 9, binary: false },
        { path: 'configs/finetune.yaml', insertions: 3, deletions: 3, binary: false },
        { path: 'src/data/tokenize.py', insertions: 41, deletions: 2, binary: false },
        { path: 'assets/confusion.png', insertions: 0, deletions: 0, binary: true },
      ];
      c.commits = [
        {
          hash: 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
          subject: 'Lower the learning rate, add warmup',
          author: 'Grace Hopper',
          date: '2026-11-11T09:12:00Z',
        },
        {
          hash: 'c0ffee00112233445566778899aabbccddeeff00',
          subject: 'Cache tokenized datasets',
          author: 'Grace Hopper',
          date: '2026-11-10T17:40:00Z',
        },
      ];
    } else {
      c.files = [
        { path: 'train.py', insertions: 12, deletions: 30, binary: false },
        { path: 'configs/finetune.yaml', insertions: 5, deletions: 1, binary: false },
      ];
      c.commits = [
        {
          hash: '5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f',
          subject: 'Mixed precision and a larger batch',
          author: 'Alan Turing',
          date: '2026-11-12T08:02:00Z',
        },
      ];
    }
    return c;
  });
}

/** The model the extension would post, plus the full series for answering window requests. */
export function makeFixture({ versions: count = 3, points = 2000, fullPoints = 10000, overrides = {} } = {}) {
  const versions = Array.from({ length: count }, (_, i) => version(i));
  const full = fullSeries(versions, fullPoints);
  const series = full.map((s) => downsample(s, points));
  const metrics = KEYS.map((key) => {
    const direction = overrides[key] !== undefined ? overrides[key] : DIRECTIONS[key];
    const values = versions.map((v) => {
      const s = full.find((x) => x.versionId === v.id && x.key === key);
      if (!s) return null;
      for (let i = s.values.length - 1; i >= 0; i--)
        if (!Number.isNaN(s.values[i])) return Number(s.values[i].toPrecision(6));
      return null;
    });
    let best = [];
    if (direction) {
      const present = values.filter((x) => x !== null);
      const target = direction === 'lower' ? Math.min(...present) : Math.max(...present);
      best = values.flatMap((x, i) => (x === target ? [i] : []));
    }
    return { key, direction, directionOverridden: overrides[key] !== undefined, values, best };
  }).sort((a, b) => a.key.localeCompare(b.key));
  // A metric with final values only (no curve), to show a table row without a chart.
  metrics.push({
    key: 'test_accuracy',
    direction: 'higher',
    directionOverridden: false,
    values: versions.map((_, i) => (i === 1 ? null : 0.88 + i * 0.012)),
    best: [],
  });
  const last = metrics[metrics.length - 1];
  const present = last.values.filter((x) => x !== null);
  last.best = last.values.flatMap((x, i) => (x === Math.max(...present) ? [i] : []));
  return {
    model: { versions, metrics, series, params: params(versions), code: code(versions), maxPoints: points },
    full,
  };
}
