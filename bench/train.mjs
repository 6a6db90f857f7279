// Training-runner benchmark (not a test): the wall time of `modelreg train --recipe bench -p lr=…`
// waiting to the end (queue, detached runner, the command, the import of its output, the wait's
// polling) against the same command run directly (`python3 train.py --out …`), interleaved, in one
// temp git repository with the sample's train.py. The import is what the runner adds on purpose: its
// share is taken from the run's recorded times (finished − started − the command's duration) and
// left out of the ratio; `modelreg import` of the direct output is printed beside it for reference.
// Goal: (runner − import) / direct ≤ 1.05. The runner's cost is fixed (two Node processes start, the
// registry opens, git records the code state): about 0.45 s on an idle 2-core machine, so the goal is
// met from runs of ~10 s; the last line also compares with training by hand (command + modelreg import). BENCH_TRAIN_REPS (default 5), BENCH_TRAIN_EPOCHS (8),
// BENCH_TRAIN_EPOCH_SECONDS (0.5): a run of ~4 s. Needs python3 with numpy, and `npm run build`.
import { execFileSync, spawn } from 'child_process';
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'fs';
import os from 'os';
import path from 'path';
import { fileURLToPath } from 'url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
// BENCH_TRAIN_CLI: another build's cli.js (its runnerHost.js beside it), to compare before and after a change.
const cli = path.resolve(process.env.BENCH_TRAIN_CLI ?? path.join(repo, 'dist', 'cli.js'));
const REPS = Number(process.env.BENCH_TRAIN_REPS ?? 5);
const EPOCHS = Number(process.env.BENCH_TRAIN_EPOCHS ?? 8);
const EPOCH_SECONDS = Number(process.env.BENCH_TRAIN_EPOCH_SECONDS ?? 0.5);
const GOAL = 1.05;

const work = mkdtempSync(path.join(os.tmpdir(), 'modelreg-bench-train-'));
const gitq = (...args) => execFileSync('git', args, { cwd: work, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });

/** Runs `cmd args` in the work repo, stdout and stderr to `logFile` (as the runner logs a run); its wall time in ms. */
function timed(cmd, args, logFile, env = {}) {
  return new Promise((resolve, reject) => {
    const fd = openSync(logFile, 'w');
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: work, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - t0;
      closeSync(fd);
      resolve({ code, ms, startedAt: Date.now() - ms });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

try {
  gitq('init', '-q', '-b', 'main');
  copyFileSync(path.join(repo, 'test', 'fixtures', 'sample', 'train.py'), path.join(work, 'train.py'));
  const recipe = {
    command: ['python3', 'train.py', '--out', '${output}', '--lr', '${param:lr}', '--epochs', '${param:epochs}'],
    params: { lr: 0.5, epochs: EPOCHS, epoch_seconds: EPOCH_SECONDS },
    output: 'outputs/${run}',
    metric: 'eval_accuracy',
    env: { PYTHONUNBUFFERED: '1' },
  };
  recipe.command.push('--epoch-seconds', '${param:epoch_seconds}');
  writeFileSync(path.join(work, 'modelreg.json'), JSON.stringify({ train: { bench: recipe } }, null, 2) + '\n');
  writeFileSync(path.join(work, '.gitignore'), 'outputs/\n.modelreg/\nlogs/\n');
  gitq('add', '-A');
  gitq(
    '-c',
    'user.name=Bench',
    '-c',
    'user.email=bench@example.com',
    '-c',
    'commit.gpgsign=false',
    'commit',
    '-qm',
    'x',
  );
  mkdirSync(path.join(work, 'logs'));

  const runner = [];
  const direct = [];
  const imports = [];
  const cliImports = [];
  const phases = { queue: [], start: [], command: [], import: [], wait: [] };
  // train.py's own span, from its output folder's creation (after python and numpy have started) to its
  // last file: the same in both unless the runner slows the script itself.
  const script = { runner: [], direct: [], runnerBefore: [], directBefore: [], runnerAfter: [], directAfter: [] };
  const span = (out) => {
    const made = statSync(path.join(work, out)).birthtimeMs;
    return { made, last: statSync(path.join(work, out, 'training_args.json')).mtimeMs };
  };
  // Rep 0 warms the caches (python, numpy, node, the registry's creation) and is not counted.
  for (let i = 0; i <= REPS; i++) {
    // A learning rate of its own per repetition: each run's weights differ, as real runs' do.
    const lr = (0.5 + i / 100).toFixed(2);
    const viaRunner = async () => {
      const out = path.join(work, 'logs', `runner-${i}.json`);
      const t = await timed(process.execPath, [cli, 'train', '--recipe', 'bench', '-p', `lr=${lr}`, '--json'], out);
      if (t.code !== 0) throw new Error(`modelreg train exited ${t.code}: see ${out}`);
      return t;
    };
    const viaPython = async () => {
      const args = ['train.py', '--out', `outputs/direct-${i}`, '--lr', lr, '--epochs', String(EPOCHS)];
      args.push('--epoch-seconds', String(EPOCH_SECONDS));
      const t = await timed('python3', args, path.join(work, 'logs', `direct-${i}.txt`), { PYTHONUNBUFFERED: '1' });
      if (t.code !== 0) throw new Error(`python3 train.py exited ${t.code}`);
      return t;
    };
    // Interleaved, the order alternating, so a drift of the machine hits both alike.
    let r, d;
    if (i % 2) {
      r = await viaRunner();
      d = await viaPython();
    } else {
      d = await viaPython();
      r = await viaRunner();
    }
    const imp = await timed(
      process.execPath,
      [cli, 'import', `outputs/direct-${i}`, '--model', 'direct', '--json'],
      path.join(work, 'logs', `import-${i}.json`),
    );
    if (imp.code !== 0) throw new Error(`modelreg import exited ${imp.code}`);
    const run = JSON.parse(readFileSync(path.join(work, 'logs', `runner-${i}.json`), 'utf8')).runs[0];
    if (run.status !== 'succeeded') throw new Error(`run ${run.id} ${run.status}: ${run.error}`);
    const queued = Date.parse(run.queuedAt);
    const started = Date.parse(run.startedAt);
    const finished = Date.parse(run.finishedAt);
    const version = JSON.parse(
      execFileSync(process.execPath, [cli, 'show', run.versionRef, '--json'], { cwd: work, encoding: 'utf8' }),
    );
    const commandMs = version.details.training.durationMs;
    const importMs = finished - started - commandMs;
    const label = i === 0 ? 'warm-up' : `rep ${i}`;
    console.log(
      `  ${label.padEnd(7)}  runner ${(r.ms / 1000).toFixed(2)} s  direct ${(d.ms / 1000).toFixed(2)} s  import (in the run) ${(importMs / 1000).toFixed(2)} s  modelreg import ${(imp.ms / 1000).toFixed(2)} s`,
    );
    if (i === 0) continue;
    runner.push(r.ms);
    direct.push(d.ms);
    imports.push(importMs);
    cliImports.push(imp.ms);
    phases.queue.push(queued - r.startedAt);
    phases.start.push(started - queued);
    phases.command.push(commandMs);
    phases.import.push(importMs);
    phases.wait.push(r.startedAt + r.ms - finished);
    const rs = span(path.relative(work, run.output));
    const ds = span(`outputs/direct-${i}`);
    script.runner.push(rs.last - rs.made);
    script.direct.push(ds.last - ds.made);
    script.runnerBefore.push(rs.made - started);
    script.directBefore.push(ds.made - d.startedAt);
    script.runnerAfter.push(finished - rs.last);
    script.directAfter.push(d.startedAt + d.ms - ds.last);
  }

  const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
  const [R, D, I] = [median(runner), median(direct), median(imports)];
  const ratio = (R - I) / D;
  console.log(
    `\nTraining run of ${EPOCHS} epochs × ${EPOCH_SECONDS} s, medians of ${REPS} (interleaved, ${os.cpus().length} cores)`,
  );
  console.log(
    `  where the runner's time goes: CLI start → queued ${s(median(phases.queue))}, queued → started (runner spawn, claim) ${s(median(phases.start))},`,
  );
  console.log(
    `    command (incl. log ingest) ${s(median(phases.command))}, import ${s(median(phases.import))}, ended → CLI exit (wait's poll, exit) ${s(median(phases.wait))}`,
  );
  const m = (xs) => s(median(xs));
  console.log(
    `  train.py's own span (output folder made → last file): ${m(script.runner)} under the runner, ${m(script.direct)} direct;`,
  );
  console.log(
    `    before it (started → folder; spawn → folder) ${m(script.runnerBefore)} vs ${m(script.directBefore)}, after it (→ ended; → exit) ${m(script.runnerAfter)} vs ${m(script.directAfter)}`,
  );
  console.log(`  modelreg import of the direct output (whole CLI, for reference): ${s(median(cliImports))}`);
  console.log(
    `train via runner: ${s(R)}; direct: ${s(D)}; import: ${s(I)}; ratio (runner − import)/direct = ${ratio.toFixed(3)} (goal ≤ ${GOAL}) ${ratio <= GOAL ? 'met' : 'NOT met'}`,
  );
  // What the runner saves the user: training by hand is the command, then `modelreg import` of its output.
  const byHand = D + median(cliImports);
  console.log(
    `fixed cost of the runner (runner − import − direct): ${s(R - I - D)}; by hand (direct + modelreg import): ${s(byHand)}, runner/by hand = ${(R / byHand).toFixed(3)} (goal ≤ ${GOAL}) ${R / byHand <= GOAL ? 'met' : 'NOT met'}`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
