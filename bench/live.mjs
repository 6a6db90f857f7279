// Live-curve benchmark (not a test): the latency from a metric-log write (one metrics.jsonl line
// appended and fsynced) to the followRunMetrics callback that holds its point, over 100 writes at
// irregular intervals; against a bare fs.watch on the same file measured on the same writes. Then
// the same on a log that already holds BENCH_LIVE_PREFILL_MB (default 100) of lines, to show an
// append costs the same whatever the log's size. Goal: ≤ 2 s at the 95th percentile.
import { appendFileSync, closeSync, fsyncSync, mkdtempSync, openSync, rmSync, watch, writeSync } from 'fs';
import os from 'os';
import path from 'path';
import { createRequire } from 'module';
import { fileURLToPath } from 'url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const require = createRequire(import.meta.url);
const { followRunMetrics } = require(path.join(repo, 'out/src/core/train/liveMetrics.js'));

const WRITES = Number(process.env.BENCH_LIVE_WRITES ?? 100);
const PREFILL_MB = Number(process.env.BENCH_LIVE_PREFILL_MB ?? 100);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

async function measure(label, prefillLines) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'modelreg-bench-live-'));
  const file = path.join(dir, 'metrics.jsonl');
  try {
    let first = 0;
    if (prefillLines) {
      const lines = [];
      // One series, padded with text the reader skips: 100 MB stays under the reader's 2,000,000 points.
      const pad = 'x'.repeat(60);
      for (let i = 0; i < prefillLines; i++) lines.push(`{"step": ${i}, "loss": ${1 / (i + 1)}, "note": "${pad}"}\n`);
      appendFileSync(file, lines.join(''));
      first = prefillLines;
    }
    let wanted = -1;
    let wroteAt = 0;
    let onLive;
    let onWatch;
    const stop = followRunMetrics(dir, (logs) => {
      const loss = logs.find((l) => l.source === 'metrics.jsonl')?.series.find((s) => s.key === 'loss');
      if (loss && loss.steps[loss.steps.length - 1] >= wanted) onLive?.(performance.now());
    });
    const watcher = watch(dir, () => onWatch?.(performance.now()));
    // Let the follower read what is already there before timing.
    if (prefillLines) await new Promise((r) => (onLive = r) && (wanted = prefillLines - 1));
    const live = [];
    const bare = [];
    for (let i = 0; i < WRITES; i++) {
      await sleep(20 + Math.random() * 200); // irregular, so writes do not line up with the poll
      wanted = first + i;
      const gotLive = new Promise((r) => (onLive = r));
      const gotWatch = new Promise((r) => (onWatch = r));
      wroteAt = performance.now();
      const fd = openSync(file, 'a');
      writeSync(fd, `{"step": ${wanted}, "loss": ${1 / (wanted + 1)}}\n`);
      fsyncSync(fd);
      closeSync(fd);
      const [l, w] = await Promise.all([gotLive, gotWatch]);
      onWatch = undefined;
      live.push(l - wroteAt);
      bare.push(w - wroteAt);
    }
    stop();
    watcher.close();
    const size = prefillLines ? ` (log of ${PREFILL_MB} MB)` : '';
    const f = (ms) => `${ms.toFixed(1).padStart(7)} ms`;
    const p95 = pct(live, 95);
    console.log(`\n${label}${size}, ${WRITES} writes`);
    console.log(
      `  reference  bare fs.watch event     p50 ${f(pct(bare, 50))}  p95 ${f(pct(bare, 95))}  max ${f(Math.max(...bare))}`,
    );
    console.log(
      `  modelreg   write → onSeries        p50 ${f(pct(live, 50))}  p95 ${f(p95)}  max ${f(Math.max(...live))}`,
    );
    console.log(`             goal p95 ≤ 2000 ms  ${p95 <= 2000 ? 'met' : 'NOT met'}`);
    console.log(
      `             ratio to the bare watch: p50 ${(pct(live, 50) / pct(bare, 50)).toFixed(0)}× (the 100 ms debounce is most of it)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await measure('Live metrics: metrics.jsonl append → callback', 0);
const lineBytes = 100;
await measure('Live metrics: the same on a big log', Math.round((PREFILL_MB * 1024 * 1024) / lineBytes));
