/**
 * The runner: runs the queued runs of one batch, `jobs` at a time, each in its own process group
 * with its output to its log; imports a successful run's output as the next version of its model,
 * with its base as parent (lineage kind `train`) and what it was run with in `details.training`.
 * It is a detached process (runnerHost.ts); everything it knows is in the registry.
 */
import { spawn } from 'child_process';
import { createWriteStream, promises as fsp } from 'fs';
import * as path from 'path';
import { findRepository, runGit } from '../git/git';
import { importTrainingOutput } from '../importers/trainingOutput';
import { Registry } from '../registry/registry';
import { RunRecord } from '../registry/runTypes';
import { baseFolder, logFile } from './runs';

/** Variables of the runner's own environment a training command must not inherit. */
const RUNNER_ONLY_ENV = ['ELECTRON_RUN_AS_NODE', 'NODE_OPTIONS', 'VSCODE_IPC_HOOK', 'VSCODE_PID'];

export async function runBatch(registry: Registry, batch: string): Promise<void> {
  await registry.setRunner(batch, process.pid);
  const queued = (await registry.listRuns({ batch })).filter((r) => r.status === 'queued');
  if (!queued.length) return;
  const pool = Array.isArray(queued[0].details.devicePool) ? [...(queued[0].details.devicePool as string[])] : null;
  const slots = pool ? Math.min(queued[0].jobs, pool.length) : queued[0].jobs;
  const behindOthers = queued[0].details.queue === 'after-running';
  const active = new Set<Promise<void>>();
  for (const run of queued) {
    while (active.size >= slots) await Promise.race(active);
    if (behindOthers) await othersEnded(registry, batch);
    const device = pool ? pool.shift()! : null;
    const job: Promise<void> = runOne(registry, run, device)
      .catch(async (e: Error) => {
        await registry.endRun(run.id, { status: 'failed', error: `the runner failed: ${e.message}` });
      })
      .finally(() => {
        if (device !== null) pool!.push(device);
        active.delete(job);
      });
    active.add(job);
  }
  await Promise.all(active);
}

/** Queue (rather than Run): each run waits until no run of another batch is running. */
async function othersEnded(registry: Registry, batch: string): Promise<void> {
  while ((await registry.listRuns({ status: ['running'] })).some((r) => r.batch !== batch))
    await new Promise((resolve) => setTimeout(resolve, 1000));
}

async function runOne(registry: Registry, run: RunRecord, device: string | null): Promise<void> {
  if (!(await registry.claimRun(run.id, device))) return; // stopped while queued
  // From the id, not the row's `log` column: the row does not get to choose which file is written.
  const logPath = logFile(registry, run.id);
  await fsp.mkdir(path.dirname(logPath), { recursive: true });
  const log = createWriteStream(logPath, { flags: 'a' });
  await new Promise((resolve) => log.once('open', resolve));
  const started = Date.now();
  try {
    const baseBefore = run.base ? await linkBase(registry, run) : undefined;
    log.write(`$ ${run.argv.map(quote).join(' ')}\n`);
    const { code, signal, spawnError } = await execute(registry, run, device, log);
    const touched = baseBefore && (await changedBaseFiles(baseBefore));
    // Gone before the end is recorded: whoever sees the run ended sees no base folder left behind.
    await removeBase(registry, run);
    if (touched?.length)
      log.write(
        `modelreg: the command wrote to its read-only base folder (${touched.join(', ')}): those are stored objects; run modelreg verify\n`,
      );
    await new Promise((resolve) => log.end(resolve));
    const logObject = (await registry.store.ingestFile(logPath)).sha256;
    const now = await registry.requireRun(run.id);
    if (touched?.length) {
      const error = `the command changed files of its read-only base folder (${touched.join(', ')}); run modelreg verify`;
      await registry.endRun(run.id, { status: 'failed', exitCode: code, signal, error, logObject });
    } else if (now.stopRequested) {
      await registry.endRun(run.id, { status: 'stopped', exitCode: code, signal, logObject });
    } else if (spawnError || code !== 0) {
      const why = spawnError
        ? `cannot start ${run.argv[0]}: ${spawnError}`
        : signal
          ? `the command was ended by ${signal}`
          : `the command exited with code ${code}`;
      await registry.endRun(run.id, { status: 'failed', exitCode: code, signal, error: why, logObject });
    } else {
      await importResult(registry, run, { exitCode: code, durationMs: Date.now() - started, logObject });
    }
  } finally {
    if (!log.closed) log.end();
    await removeBase(registry, run);
  }
}

/** Runs the command in its own process group, stdout and stderr to the log. */
function execute(
  registry: Registry,
  run: RunRecord,
  device: string | null,
  log: NodeJS.WritableStream & { fd?: number },
): Promise<{ code: number | null; signal: string | null; spawnError?: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of RUNNER_ONLY_ENV) delete env[key];
  Object.assign(env, run.env, { MODELREG_RUN: run.id, MODELREG_OUTPUT: run.output });
  if (device !== null) env.CUDA_VISIBLE_DEVICES = device;
  return new Promise((resolve) => {
    const child = spawn(run.argv[0], run.argv.slice(1), {
      cwd: run.root,
      env,
      detached: true, // its own process group: stop signals the group, the script's children too
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.once('spawn', () => void registry.setRunPid(run.id, child.pid!));
    child.once('error', (e: NodeJS.ErrnoException) => {
      const what = e.code === 'ENOENT' ? 'not found (is it installed and on PATH?)' : e.message;
      log.write(`modelreg: cannot start ${run.argv[0]}: ${what}\n`);
      resolve({ code: null, signal: null, spawnError: what });
    });
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

type BaseSnapshot = Map<string, string>;

/** The base version's files, as hard links from the store, in a folder nobody may write to; returns their size and time. */
async function linkBase(registry: Registry, run: RunRecord): Promise<BaseSnapshot> {
  if (run.base?.id == null) throw new Error(`the base version ${run.base?.ref} is no longer in the registry`);
  const dir = baseFolder(registry, run.id);
  const files = await registry.files(run.base.id);
  for (const f of files) await registry.store.linkTo(f.sha256, path.join(dir, f.path));
  // Folders read-only too, deepest first, so the script cannot add or remove files in its base.
  const dirs = new Set<string>([dir]);
  for (const f of files)
    for (let d = path.dirname(path.join(dir, f.path)); d.startsWith(dir); d = path.dirname(d)) dirs.add(d);
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) await fsp.chmod(d, 0o555);
  const snapshot: BaseSnapshot = new Map();
  for (const f of files) snapshot.set(path.join(dir, f.path), await fileStamp(path.join(dir, f.path)));
  return snapshot;
}

/** Permissions do not bind a command running as root: a changed size or time says it wrote through the links. */
async function changedBaseFiles(before: BaseSnapshot): Promise<string[]> {
  const changed: string[] = [];
  for (const [file, stamp] of before) if ((await fileStamp(file)) !== stamp) changed.push(path.basename(file));
  return changed;
}

async function fileStamp(file: string): Promise<string> {
  const st = await fsp.stat(file).catch(() => undefined);
  return st ? `${st.size}:${st.mtimeMs}` : 'gone';
}

async function removeBase(registry: Registry, run: RunRecord): Promise<void> {
  const dir = baseFolder(registry, run.id);
  const makeWritable = async (d: string): Promise<void> => {
    await fsp.chmod(d, 0o755).catch(() => undefined);
    for (const e of await fsp.readdir(d, { withFileTypes: true }).catch(() => []))
      if (e.isDirectory()) await makeWritable(path.join(d, e.name));
  };
  await makeWritable(dir);
  await fsp.rm(dir, { recursive: true, force: true });
}

/** The output becomes the next version of the run's model, through the importer every import uses. */
async function importResult(
  registry: Registry,
  run: RunRecord,
  end: { exitCode: number | null; durationMs: number; logObject: string },
): Promise<void> {
  const training = {
    run: run.id,
    recipe: run.recipe,
    root: run.root,
    params: run.params,
    overridden: run.overridden,
    argv: run.argv,
    exitCode: end.exitCode,
    durationMs: end.durationMs,
    commit: run.git?.commit ?? null,
    dirty: run.git?.dirty ?? null,
    diff: run.git?.diff ?? null,
    log: end.logObject,
    ...(run.devices !== null ? { devices: run.devices } : {}),
    ...(run.details.rerunOf ? { rerunOf: run.details.rerunOf } : {}),
  };
  try {
    const version = await importTrainingOutput(registry, run.output, {
      model: run.model,
      boundary: run.root,
      refuseNoWeights: true,
      parent: run.base?.id != null ? { id: run.base.id, kind: 'train' } : undefined,
      params: { [`modelreg.json#train.${run.recipe}`]: run.params },
      details: { training },
    });
    await registry.endRun(run.id, {
      status: 'succeeded',
      exitCode: end.exitCode,
      versionId: version.id,
      logObject: end.logObject,
    });
    // A re-run's checkout has served: its output is in the store now. A failed one stays to be looked at.
    if (typeof run.details.worktree === 'string') await removeWorktree(run.details.worktree);
  } catch (e) {
    await registry.endRun(run.id, {
      status: 'failed',
      exitCode: end.exitCode,
      error: `the run ended well but its output was not imported: ${(e as Error).message}`,
      logObject: end.logObject,
    });
  }
}

async function removeWorktree(dir: string): Promise<void> {
  const repo = await findRepository(dir);
  if (repo) await runGit(repo, ['worktree', 'remove', '--force', dir]).catch(() => undefined);
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
