// A registry folder can come with a cloned repository, so its runs rows are someone else's writing:
// a crafted `log`, `pid`, `output`, `root` or id must not make the CLI or Stop read a file of the
// user's, signal one of their processes, or read progress from outside the workspace. Real SQLite
// (rows inserted as a registry would hold them), real processes, the real CLI.
import { isProcessAlive } from '../../../../src/core/store/localStore';
import * as assert from 'assert/strict';
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import { RegistryError } from '../../../../src/core/errors';
import { Registry } from '../../../../src/core/registry/registry';
import { NewRun } from '../../../../src/core/registry/runTypes';
import {
  groupAlive,
  isRunProcess,
  logFile,
  newRunId,
  readableRunOutput,
  startTraining,
  stopRun,
  waitForBatch,
} from '../../../../src/core/train/runs';
import { eventually } from '../../../helpers/eventually';
import { CLI_JS } from '../../helpers/paths';
import { tempDir } from '../../helpers/tmp';

const PASSWD = readFileSync('/etc/passwd', 'utf8');

const alive = isProcessAlive;

describe('runs rows from a registry that came with a clone (crafted log, pid, output, id)', function () {
  this.timeout(60_000);
  let root: string;
  let registry: Registry;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    root = tempDir('modelreg-hostile-');
    registry = await Registry.open(path.join(root, '.modelreg'));
  });
  afterEach(() => {
    registry.close();
    for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  });

  /** A row as the clone's registry holds it: anything in any column. */
  const row = (id: string, over: Partial<NewRun> = {}): NewRun => ({
    id,
    batch: 'batch-crafted',
    recipe: 'crafted',
    model: 'crafted',
    root,
    base: null,
    params: {},
    overridden: [],
    argv: ['true'],
    env: {},
    output: path.join(root, 'outputs', id),
    log: path.join(root, 'log.txt'),
    metric: null,
    jobs: 1,
    devices: null,
    git: null,
    ...over,
  });

  /** Inserts the row and moves it to running with `pid`, as the runner's writes would. */
  const running = async (r: NewRun, pid?: number) => {
    await registry.insertRuns([r]);
    assert.ok(await registry.claimRun(r.id, null));
    if (pid !== undefined) await registry.setRunPid(r.id, pid);
  };

  const modelreg = (...args: string[]) => {
    const r = spawnSync(process.execPath, [CLI_JS, ...args], { cwd: root, encoding: 'utf8' });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  it("`runs log` does not print the file a row's log column names (/etc/passwd)", async () => {
    await registry.insertRuns([row('crafted-log', { log: '/etc/passwd' })]);
    registry.close();
    const r = modelreg('runs', 'log', 'crafted-log');
    assert.ok(!r.out.includes(PASSWD.split('\n')[0]), `printed /etc/passwd:\n${r.out}`);
    assert.equal(r.out, '');
    assert.match(r.err, /crafted-log has no log yet/);
    registry = await Registry.open(path.join(root, '.modelreg'));
  });

  it('a run id that is not a plain name is refused before it becomes a path (../../x)', async () => {
    // runs/../../x/log.txt is <root>/x/log.txt: a file outside the registry's runs folder.
    const outside = path.join(root, 'x', 'log.txt');
    mkdirSync(path.dirname(outside), { recursive: true });
    writeFileSync(outside, 'a file outside runs/\n');
    await registry.insertRuns([row('../../x', { log: outside })]);
    registry.close();
    const r = modelreg('runs', 'log', '../../x');
    assert.notEqual(r.code, 0);
    assert.ok(!r.out.includes('a file outside runs/'), r.out);
    assert.match(r.err, /'\.\.\/\.\.\/x'/);
    registry = await Registry.open(path.join(root, '.modelreg'));
    assert.throws(
      () => logFile(registry, '../../x'),
      (e: Error) => e instanceof RegistryError && e.message.includes("'../../x'"),
    );
    for (const id of ['..', '.', 'a/b', 'a\\b', ''])
      assert.throws(() => logFile(registry, id), RegistryError, `${JSON.stringify(id)} is refused`);
    assert.equal(logFile(registry, 'ok-1.2_3'), path.join(registry.dir, 'runs', 'ok-1.2_3', 'log.txt'));
  });

  it("Stop does not signal a process that is not the run's command (a crafted pid); it records the run stopped", async () => {
    // Its own process group, as a run's command is: the old Stop would SIGINT the group of this pid.
    const sleeper = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    children.push(sleeper);
    await new Promise((resolve) => sleeper.once('spawn', resolve));
    const pid = sleeper.pid!;
    await running(row('crafted-pid'), pid);
    const stopped = await stopRun(registry, 'crafted-pid', { graceMs: 500 });
    assert.ok(alive(pid), 'the unrelated process still runs');
    assert.ok(groupAlive(pid), 'and its group');
    assert.equal(stopped.status, 'stopped');
    assert.match(stopped.error ?? '', new RegExp(`process ${pid} is not this run's command`));
    assert.equal(await isRunProcess(pid, 'crafted-pid'), false);
  });

  it('pid 0, 1 or a negative pid from a row is never taken as a run (our own group, init, every process)', async () => {
    // Not through stopRun: were the check missing, its signal would reach the test's own processes.
    for (const pid of [0, 1, -1, 2.5]) assert.equal(await isRunProcess(pid, 'crafted'), false, String(pid));
  });

  it('no output is read outside the root, and no root outside the opened folders', () => {
    const elsewhere = tempDir('modelreg-elsewhere-');
    mkdirSync(path.join(root, 'outputs'), { recursive: true });
    symlinkSync(elsewhere, path.join(root, 'outputs', 'link'));
    const run = (over: Partial<NewRun>) => row('r', over);
    assert.equal(readableRunOutput(run({ output: '/etc' }), [root]), undefined);
    assert.equal(readableRunOutput(run({ output: path.join(root, '..') }), [root]), undefined);
    assert.equal(readableRunOutput(run({ output: path.join(root, 'outputs', 'link') }), [root]), undefined);
    assert.equal(
      readableRunOutput(run({ output: path.join(root, 'outputs', 'link', 'not-yet') }), [root]),
      undefined,
      'a folder not written yet under a link out',
    );
    assert.equal(
      readableRunOutput(run({ root: '/', output: '/etc' }), [root]),
      undefined,
      'a root outside the workspace',
    );
    assert.equal(readableRunOutput(run({ output: 'outputs/r' }), [root]), undefined, 'a relative output');
    assert.equal(readableRunOutput(run({}), [elsewhere]), undefined, 'root is not in the opened folders');
    // An ordinary run's output, written or not yet, is read, as its real path.
    assert.equal(readableRunOutput(run({}), [root]), path.join(realpathSync(root), 'outputs', 'r'));
    mkdirSync(path.join(root, 'outputs', 'r'));
    assert.equal(readableRunOutput(run({}), [path.dirname(root)]), path.join(realpathSync(root), 'outputs', 'r'));
  });

  it("`runs --json` gives no progress from an output outside the workspace (a row's output in another folder)", async () => {
    const elsewhere = tempDir('modelreg-elsewhere-');
    writeFileSync(path.join(elsewhere, 'metrics.jsonl'), JSON.stringify({ step: 7, loss: 0.5 }) + '\n');
    await running(row('crafted-output', { output: elsewhere }));
    // The same metrics inside the root are read: the refusal is of the place, not of the run.
    const inside = path.join(root, 'outputs', 'fine');
    mkdirSync(inside, { recursive: true });
    writeFileSync(path.join(inside, 'metrics.jsonl'), JSON.stringify({ step: 7, loss: 0.5 }) + '\n');
    await running(row('fine', { output: inside }));
    registry.close();
    const r = modelreg('runs', '--json');
    assert.equal(r.code, 0, r.err);
    const list = JSON.parse(r.out) as { id: string; progress: { step: number | null } | null }[];
    const byId = Object.fromEntries(list.map((x) => [x.id, x]));
    assert.equal(byId['crafted-output'].progress, null);
    assert.equal(byId.fine.progress?.step, 7);
    registry = await Registry.open(path.join(root, '.modelreg'));
  });

  it('a real run is still its own process: its log is read and Stop ends it', async () => {
    const id = newRunId('real');
    const script = "console.log('hello from the run'); setInterval(() => undefined, 1000);";
    const { batch } = await startTraining(registry, {
      recipe: { name: 'real', model: 'real' },
      root,
      base: null,
      runs: [
        {
          id,
          argv: [process.execPath, '-e', script],
          env: {},
          output: path.join(root, 'outputs', id),
          params: {},
          overridden: [],
        },
      ],
      jobs: 1,
    });
    await eventually(() => assert.match(modelreg('runs', 'log', id).out, /hello from the run/), { timeout: 20_000 });
    const run = await registry.requireRun(id);
    assert.ok(run.pid && groupAlive(run.pid));
    assert.equal(await isRunProcess(run.pid, id), true);
    assert.equal(await isRunProcess(run.pid, 'another-run'), false);
    const stopped = await stopRun(registry, id, { graceMs: 2000 });
    assert.equal(stopped.status, 'stopped');
    assert.equal(stopped.error, null);
    assert.ok(!groupAlive(run.pid), 'its process group is gone');
    const [ended] = await waitForBatch(registry, batch);
    assert.equal(ended.status, 'stopped');
    // Ended, its live log gone: the stored copy is read.
    rmSync(logFile(registry, id));
    assert.match(modelreg('runs', 'log', id).out, /hello from the run/);
  });
});
