/**
 * Training runs: queue them, start the detached runner that runs them (runner.ts), stop one, retry
 * one, wait for a batch. A run's state is a row in the local registry, so it outlives the window
 * or terminal that started it; the runner records its own pid, so one that died is noticed.
 */
import { spawn } from 'child_process';
import { randomBytes } from 'crypto';
import { existsSync, FSWatcher, openSync, closeSync, promises as fsp, realpathSync, watch } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CancelledError, RegistryError } from '../errors';
import { findRepository, runGit } from '../git/git';
import { gitProvenance } from '../git/provenance';
import { Registry } from '../registry/registry';
import { isActiveStatus, NewRun, ParamValue, RunRecord } from '../registry/runTypes';
import { VersionRecord } from '../registry/types';
import { isProcessAlive } from '../store/localStore';
import { isInside } from '../util/paths';

/** How long a stopped run gets between SIGINT and SIGKILL, unless told otherwise. */
export const DEFAULT_STOP_GRACE_MS = 10_000;

/** One run a recipe expands to (recipe.ts's expandRecipe), with the id its placeholders used. */
export interface PlannedRun {
  id: string;
  argv: string[];
  env: Record<string, string>;
  output: string;
  params: Record<string, ParamValue>;
  overridden: string[];
}

export interface TrainingRequest {
  recipe: { name: string; model: string; metric?: string | null };
  /** The folder holding modelreg.json: the runs' working folder, and the boundary of their output. */
  root: string;
  base: VersionRecord | null;
  runs: PlannedRun[];
  /** How many run at once; the rest wait in the queue. */
  jobs: number;
  /** Device ids handed out one per running job as CUDA_VISIBLE_DEVICES (at most one job per device). */
  devices?: string[];
  /** Extra facts for the runs' details (a re-run's origin). */
  details?: Record<string, unknown>;
}

/**
 * A run id as a folder name. Ids come from rows of a registry that may have come with a cloned
 * repository: '../../x' must not lead a read (the log) or a removal (the base folder) out of runs/.
 */
function safeRunId(id: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(id) || id === '.' || id === '..')
    throw new RegistryError(`run id '${id}' is not a plain name: refusing to use it as a folder`);
  return id;
}

/** Where a run keeps its log and its read-only view of the base version. */
export function runFolder(registry: Registry, id: string): string {
  return path.join(registry.dir, 'runs', safeRunId(id));
}

/**
 * The run's live log: stdout and stderr of its command. Always derived from the id, never the row's
 * `log` column, which a crafted registry could point at ~/.ssh/id_rsa.
 */
export function logFile(registry: Registry, id: string): string {
  return path.join(runFolder(registry, id), 'log.txt');
}

/** The real path of `p`, or of its nearest existing folder joined with the rest (an output not written yet). */
function realPathOrParent(p: string): string | undefined {
  const rest: string[] = [];
  for (let at = p; ; at = path.dirname(at)) {
    try {
      return path.join(realpathSync(at), ...rest);
    } catch {
      if (path.dirname(at) === at) return undefined;
      rest.unshift(path.basename(at));
    }
  }
}

/**
 * The run's output folder to read progress and curves from, or undefined when the row points
 * elsewhere: its root must be inside one of `folders` (the folders the user opened) and its output,
 * links followed, inside its root. A crafted row must not make us read /etc or a link out of the
 * repository. Returns the resolved path, so the reader reads what was checked.
 */
export function readableRunOutput(run: Pick<RunRecord, 'root' | 'output'>, folders: string[]): string | undefined {
  if (!path.isAbsolute(run.root) || !path.isAbsolute(run.output)) return undefined;
  let root: string;
  try {
    root = realpathSync(run.root);
  } catch {
    return undefined;
  }
  const opened = folders.flatMap((f) => {
    try {
      return [realpathSync(f)];
    } catch {
      return [];
    }
  });
  if (!opened.some((f) => isInside(f, root))) return undefined;
  const output = realPathOrParent(run.output);
  return output !== undefined && isInside(root, output) ? output : undefined;
}

/**
 * Whether `pid` is the command the runner started for run `id`: the runner puts MODELREG_RUN=<id>
 * in its environment. A crafted row's pid (or a pid reused since the run ended) has no such variable,
 * so Stop does not signal some other process group of the user. Where there is no /proc (macOS,
 * Windows) it cannot be told and is taken as the run, as before.
 */
export async function isRunProcess(pid: number, id: string): Promise<boolean> {
  // 0, 1 and negatives would name our own group, init, or every process: never a run's.
  if (!Number.isInteger(pid) || pid <= 1) return false;
  if (!existsSync('/proc/self/environ')) return true;
  const environ = await fsp.readFile(`/proc/${pid}/environ`).catch(() => undefined);
  return !!environ && environ.toString('utf8').split('\0').includes(`MODELREG_RUN=${id}`);
}

export function baseFolder(registry: Registry, id: string): string {
  return path.join(runFolder(registry, id), 'base');
}

/** A new batch id: the time and a little randomness, as a run id has them. */
function newBatchId(recipe: string): string {
  return `batch-${newRunId(recipe).slice(-20)}`;
}

/** A new run id: the recipe's name (made path-safe), the time, and a little randomness. */
export function newRunId(recipe: string, at = new Date()): string {
  const safe = recipe.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 40) || 'run';
  const stamp = at.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${safe}-${stamp}-${randomBytes(2).toString('hex')}`;
}

/**
 * Queues the runs and starts a runner for them. The code state is recorded once for the batch: the
 * commit, and when tracked files differ from it, their diff as an object (untracked files are not in it).
 */
export async function startTraining(
  registry: Registry,
  req: TrainingRequest,
): Promise<{ batch: string; runs: RunRecord[] }> {
  if (!req.runs.length) throw new RegistryError('nothing to train: the recipe expanded to no runs');
  const jobs = Math.max(1, Math.floor(req.jobs));
  const batch = newBatchId(req.recipe.name);
  const git = await codeState(registry, req.root);
  await fsp.mkdir(path.join(registry.dir, 'runs'), { recursive: true });
  const rows: NewRun[] = req.runs.map((r) => ({
    id: r.id,
    batch,
    recipe: req.recipe.name,
    model: req.recipe.model,
    root: req.root,
    base: req.base && { id: req.base.id, ref: req.base.ref },
    params: r.params,
    overridden: r.overridden,
    argv: r.argv,
    env: r.env,
    output: r.output,
    log: logFile(registry, r.id),
    metric: req.recipe.metric ?? null,
    jobs,
    devices: null,
    git,
    details: { ...(req.devices?.length ? { devicePool: req.devices } : {}), ...req.details },
  }));
  await registry.insertRuns(rows);
  spawnRunner(registry, batch);
  return { batch, runs: await registry.listRuns({ batch }) };
}

/** Runs an ended run again, as a batch of its own: same recipe, parameters, command and code state. */
export async function retryRun(registry: Registry, id: string): Promise<RunRecord> {
  const run = await registry.requireRun(id);
  if (isActiveStatus(run.status))
    throw new RegistryError(`run ${id} is ${run.status}: only an ended run can be retried`);
  const fresh = newRunId(run.recipe);
  const batch = newBatchId(run.recipe);
  // ${run} (in the output, the command, the base folder's path) named the old run: it names the new one
  // now, so a retry never writes into the failed run's output. Run ids are unique, so this swaps nothing else.
  const swap = (s: string) => s.split(run.id).join(fresh);
  await registry.requeueRun(id, {
    id: fresh,
    batch,
    log: logFile(registry, fresh),
    argv: run.argv.map(swap),
    env: Object.fromEntries(Object.entries(run.env).map(([k, v]) => [k, swap(v)])),
    output: swap(run.output),
  });
  spawnRunner(registry, batch);
  return registry.requireRun(fresh);
}

async function codeState(registry: Registry, root: string): Promise<NewRun['git']> {
  const { git } = await gitProvenance(root);
  if (!git) return null;
  if (!git.dirty) return { commit: git.commit, dirty: false, diff: null };
  const repo = await findRepository(root);
  const file = path.join(registry.dir, 'runs', `diff-${process.pid}-${randomBytes(4).toString('hex')}.patch`);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  try {
    // --output keeps the bytes as git wrote them (no decoding); --binary so binary changes apply too.
    await runGit(repo!, ['diff', '--binary', '--no-ext-diff', '--no-textconv', `--output=${file}`, git.commit, '--']);
    const { sha256 } = await registry.store.ingestFile(file);
    return { commit: git.commit, dirty: true, diff: sha256 };
  } finally {
    await fsp.rm(file, { force: true });
  }
}

/** The runner's script, beside this module (out/… in tests, dist/ in the bundles). */
export function runnerScript(): string {
  const script = path.join(__dirname, 'runnerHost.js');
  if (!existsSync(script)) throw new Error(`training runner script missing: ${script} (rebuild the extension)`);
  return script;
}

/**
 * Starts the runner of a batch as a detached process (its own session, no pipe to us), so closing
 * the window or the terminal neither stops nor loses the runs. Its own output goes to a file.
 */
function spawnRunner(registry: Registry, batch: string): void {
  const logFile = path.join(registry.dir, 'runs', `${batch}.runner.log`);
  const out = openSync(logFile, 'a');
  try {
    const child = spawn(process.execPath, [runnerScript(), registry.dir, batch], {
      detached: true,
      stdio: ['ignore', out, out],
      // In the extension host process.execPath may be Electron: this makes it a plain Node.
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    child.unref();
  } finally {
    closeSync(out);
  }
}

/** True while any process of the group led by `pid` lives (a negative pid names the group). */
export function groupAlive(pid: number): boolean {
  return isProcessAlive(-pid);
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(test: () => boolean | Promise<boolean>, ms: number, every = 50): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await test()) return true;
    if (Date.now() >= end) return false;
    await sleep(every);
  }
}

/**
 * Stops a run: a queued one leaves the queue; a running one gets SIGINT on its whole process group
 * (so a script's own children stop too), then SIGKILL after `graceMs`. A pid that is not the run's
 * command (isRunProcess) is not signalled: the run is recorded as stopped, its error says why.
 * Returns the run as recorded.
 */
export async function stopRun(registry: Registry, id: string, opts: { graceMs?: number } = {}): Promise<RunRecord> {
  const grace = opts.graceMs ?? DEFAULT_STOP_GRACE_MS;
  let run = await registry.requireRun(id);
  if (run.status === 'queued') {
    await registry.markStopRequested(id);
    if (await registry.endRun(id, { status: 'stopped', error: 'stopped before it started' }))
      return registry.requireRun(id);
    run = await registry.requireRun(id); // the runner took it meanwhile
  }
  if (run.status !== 'running') return run;
  if (run.runner && run.runner.host !== os.hostname())
    throw new RegistryError(`run ${id} runs on ${run.runner.host}: stop it there`);
  await registry.markStopRequested(id);
  // Claimed but not yet started: the runner records the pid right after spawning.
  await waitUntil(async () => (run = await registry.requireRun(id)).pid !== null || run.status !== 'running', 5000);
  if (run.pid !== null && run.status === 'running') {
    const pid = run.pid;
    if (await isRunProcess(pid, id)) {
      signalGroup(pid, 'SIGINT');
      if (!(await waitUntil(() => !groupAlive(pid), grace))) {
        signalGroup(pid, 'SIGKILL');
        await waitUntil(() => !groupAlive(pid), 5000);
      }
    } else if (!Number.isInteger(pid) || pid <= 1 || isProcessAlive(pid) || groupAlive(pid)) {
      // Someone else's process (a crafted row, or a pid reused): end the run as stopped, signal nothing.
      // If the runner is running this run after all, its own end loses to this one; it was asked to stop.
      await registry.endRun(id, {
        status: 'stopped',
        error: `stopped without a signal: process ${pid} is not this run's command (no MODELREG_RUN=${id} in its environment)`,
      });
      return registry.requireRun(id);
    }
    // Otherwise the command has ended already: the runner records the end.
  }
  // The runner records the end; if it is gone, nobody will.
  const recorded = await waitUntil(async () => (await registry.requireRun(id)).status !== 'running', 5000, 100);
  if (!recorded) await registry.endRun(id, { status: 'stopped', error: 'stopped (the runner did not record it)' });
  return registry.requireRun(id);
}

/**
 * Waits until every run of the batch has ended, calling `onChange` with each run whose status
 * changed. The runs go on when the wait is cancelled: they belong to the runner, not to the waiter.
 * It looks again as soon as the registry's change stamp moves (the runner's every write stamps it),
 * and every `pollMs` regardless: fs.watch misses events on some file systems, and a runner that
 * died writes nothing.
 */
export async function waitForBatch(
  registry: Registry,
  batch: string,
  onChange: (run: RunRecord) => void = () => undefined,
  opts: { signal?: AbortSignal; pollMs?: number } = {},
): Promise<RunRecord[]> {
  const seen = new Map<string, string>();
  let changed: boolean;
  let wake: (() => void) | undefined;
  const stamp = path.basename(registry.changeStamp);
  const watcher = watchQuietly(path.dirname(registry.changeStamp), (file) => {
    if (file !== null && file !== stamp) return;
    changed = true;
    wake?.();
  });
  try {
    for (;;) {
      changed = false;
      const runs = await registry.listRuns({ batch });
      for (const r of runs) {
        if (seen.get(r.id) !== r.status) {
          seen.set(r.id, r.status);
          onChange(r);
        }
      }
      if (runs.every((r) => r.status !== 'queued' && r.status !== 'running')) return runs;
      if (opts.signal?.aborted) throw new CancelledError();
      // A stamp while we read: look again at once, it may be the end.
      if (changed) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, opts.pollMs ?? 250);
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
      });
    }
  } finally {
    watcher?.close();
  }
}

/** fs.watch on a folder, or undefined where it cannot be watched (the caller polls anyway). */
function watchQuietly(dir: string, onEvent: (file: string | null) => void): FSWatcher | undefined {
  try {
    const w = watch(dir, { persistent: false }, (_event, file) => onEvent(file === null ? null : String(file)));
    w.on('error', () => w.close());
    return w;
  } catch {
    return undefined;
  }
}
