import { Command, Option } from 'commander';
import { existsSync, promises as fsp } from 'fs';
import * as path from 'path';
import {
  findRepository,
  Registry,
  readableRunOutput,
  RECIPE_FILE,
  rerunVersion,
  retryRun,
  RunProgress,
  runLogFile,
  runProgress,
  RunRecord,
  stopRun,
  train,
  waitForBatch,
} from '../core';
import { formatMetric } from '../shared/format';

type WithRegistry = <T>(fn: (r: Registry) => Promise<T>) => Promise<T>;

/** The folder whose modelreg.json holds the recipes: the current folder, else its repository's root. */
async function recipeRoot(): Promise<string> {
  const here = process.cwd();
  if (existsSync(path.join(here, RECIPE_FILE))) return here;
  const repo = await findRepository(here);
  return repo && existsSync(path.join(repo.workTree, RECIPE_FILE)) ? repo.workTree : here;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function elapsed(run: RunRecord): string {
  if (!run.startedAt) return '-';
  const ms = (run.finishedAt ? Date.parse(run.finishedAt) : Date.now()) - Date.parse(run.startedAt);
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

function overrides(run: RunRecord): string {
  return run.overridden.map((k) => `${k}=${String(run.params[k])}`).join(' ');
}

function progressText(p: RunProgress | null): string {
  if (!p) return '';
  const parts = [];
  if (p.epoch !== null) parts.push(`epoch ${formatMetric(p.epoch)}`);
  else if (p.step !== null) parts.push(`step ${p.step}`);
  if (p.metric) parts.push(`${p.metric.key} ${formatMetric(p.metric.value)}`);
  return parts.join('  ');
}

/** One line for a run's new status, as `train` prints it while it waits. */
function statusLine(run: RunRecord): string {
  const params = overrides(run);
  const what = `${run.id}${params ? ` (${params})` : ''}`;
  switch (run.status) {
    case 'queued':
      return `queued     ${what}`;
    case 'running':
      return `running    ${what}${run.devices !== null ? ` on device ${run.devices}` : ''}`;
    case 'succeeded':
      return `succeeded  ${what} → ${run.versionRef} in ${elapsed(run)}`;
    case 'stopped':
      return `stopped    ${what} after ${elapsed(run)}`;
    case 'failed':
      return `failed     ${what}: ${run.error ?? `exit ${run.exitCode}`}; its log: modelreg runs log ${run.id}`;
  }
}

/**
 * A run as `--json` gives it: the record, and while it runs, its progress. Progress is read only from
 * an output inside the current folder (readableRunOutput): the row may come from a cloned repository.
 */
async function runJson(run: RunRecord): Promise<RunRecord & { progress: RunProgress | null }> {
  const output = run.status === 'running' ? readableRunOutput(run, [process.cwd()]) : undefined;
  const progress = output ? await runProgress(output, run.metric).catch(() => null) : null;
  return { ...run, progress };
}

export function registerTrainCommands(program: Command, withRegistry: WithRegistry, print: (v: unknown) => void): void {
  program
    .command('train')
    .description(
      `train a new version with a recipe from ${RECIPE_FILE} (REF: the base version; without it, from scratch); exit 0 when every run succeeded, 1 when one did not`,
    )
    .argument('[ref]', 'base version, e.g. sentiment@production')
    .requiredOption('--recipe <name>', `recipe under "train" in ${RECIPE_FILE}`)
    .option('-p, --param <key=value>', 'override a parameter (repeatable)', collect, [])
    .option('--sweep <key=a,b,c>', 'run every value (repeatable: the grid of all)', collect, [])
    .option('--jobs <n>', 'runs at once; the rest wait in the queue', (v) => Number(v), 1)
    .addOption(
      new Option('--devices <ids>', 'GPU ids handed out one per running job as CUDA_VISIBLE_DEVICES, e.g. 0,1').env(
        'MODELREG_TRAIN_DEVICES',
      ),
    )
    .option('--queue', 'start only once the runs of other batches now running have ended (one GPU)')
    .option('--no-wait', 'queue the runs and return; follow them with modelreg runs')
    .option('--json', 'machine-readable output: the batch and its runs when they ended')
    .action(
      async (
        ref: string | undefined,
        o: {
          recipe: string;
          param: string[];
          sweep: string[];
          jobs: number;
          devices?: string;
          queue?: boolean;
          wait: boolean;
          json?: boolean;
        },
      ) =>
        withRegistry(async (r) => {
          const devices = o.devices
            ?.split(',')
            .map((d) => d.trim())
            .filter(Boolean);
          const { batch, runs } = await train(r, {
            root: await recipeRoot(),
            recipe: o.recipe,
            base: ref,
            overrides: o.param,
            sweeps: o.sweep,
            jobs: o.jobs,
            devices,
            queue: o.queue,
          });
          const log = o.json ? () => undefined : (s: string) => console.log(s);
          log(
            `Queued ${runs.length} run${runs.length === 1 ? '' : 's'} of ${o.recipe}${ref ? ` from ${runs[0].base?.ref}` : ' from scratch'} (${batch}${runs.length > 1 ? `, ${Math.min(o.jobs, runs.length)} at a time` : ''})`,
          );
          if (!o.wait) {
            if (o.json) print({ batch, runs });
            else log('They run in the background: modelreg runs shows them, modelreg runs stop ID stops one');
            return;
          }
          // Ctrl-C stops the waiting, never the runs: they belong to the runner.
          process.once('SIGINT', () => {
            console.error(`modelreg: stopped waiting; the runs go on (modelreg runs; modelreg runs stop ID)`);
            process.exit(130);
          });
          const ended = await waitForBatch(r, batch, (run) => log(statusLine(run)));
          if (o.json) print({ batch, runs: ended });
          if (ended.some((run) => run.status !== 'succeeded')) process.exitCode = 1;
        }),
    );

  program
    .command('rerun')
    .description(
      'train a version again as it was trained: its recipe and parameters, on a worktree at its commit with its stored diff, from its base',
    )
    .argument('<ref>', 'a version trained with a recipe')
    .option('--json', 'machine-readable output: the run when it ended')
    .action(async (ref: string, o: { json?: boolean }) =>
      withRegistry(async (r) => {
        const { batch, runs } = await rerunVersion(r, ref);
        if (!o.json)
          console.log(`Re-running ${ref} as ${runs[0].id} at commit ${runs[0].git?.commit.slice(0, 8) ?? '?'}`);
        const ended = await waitForBatch(r, batch, (run) => !o.json && console.log(statusLine(run)));
        if (o.json) print(ended[0]);
        if (ended[0].status !== 'succeeded') process.exitCode = 1;
      }),
    );

  const runs = program
    .command('runs')
    .description('training runs: queued, running, succeeded, failed, stopped, and the version each produced')
    .option('--status <list>', 'only these statuses, e.g. running,queued')
    .option('--json', 'machine-readable output')
    .action(async (o: { status?: string; json?: boolean }) =>
      withRegistry(async (r) => {
        const status = o.status?.split(',').map((s) => s.trim()) as RunRecord['status'][] | undefined;
        const list = await Promise.all((await r.listRuns({ status })).map(runJson));
        if (o.json) return print(list);
        if (!list.length)
          return console.log(`No training runs in ${r.location}. Start one with: modelreg train --recipe NAME`);
        for (const run of list)
          console.log(
            [
              run.id,
              run.status,
              elapsed(run),
              run.versionRef ?? '-',
              overrides(run) || '-',
              progressText(run.progress) || run.error || '',
            ].join('\t'),
          );
      }),
    );

  runs
    .command('stop')
    .description('stop a run: SIGINT to its process group, SIGKILL after the grace period')
    .argument('<id>')
    .option('--grace <seconds>', 'seconds between SIGINT and SIGKILL', (v) => Number(v), 10)
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: { grace: number; json?: boolean }) =>
      withRegistry(async (r) => {
        const run = await stopRun(r, id, { graceMs: o.grace * 1000 });
        if (o.json) return print(run);
        console.log(
          run.status === 'stopped'
            ? `Stopped ${run.id} after ${elapsed(run)}${run.error ? ` (${run.error})` : ''}`
            : `${run.id} had already ended: ${run.status}`,
        );
      }),
    );

  runs
    .command('retry')
    .description('run an ended run again: same recipe, parameters and command')
    .argument('<id>')
    .option('--json', 'machine-readable output')
    .action(async (id: string, o: { json?: boolean }) =>
      withRegistry(async (r) => {
        const run = await retryRun(r, id);
        if (o.json) return print(run);
        console.log(`Queued ${run.id} (a retry of ${id}); follow it with: modelreg runs log ${run.id} --follow`);
      }),
    );

  runs
    .command('log')
    .description("print a run's log (stdout and stderr of its command)")
    .argument('<id>')
    .option('--follow', 'keep printing while the run writes, until it ends')
    .action(async (id: string, o: { follow?: boolean }) =>
      withRegistry(async (r) => {
        const run = await r.requireRun(id);
        // The live log is where the runner writes it (from the id), never the row's `log` path; then the stored copy.
        const live = runLogFile(r, run.id);
        const file = existsSync(live) ? live : run.logObject ? r.store.objectPath(run.logObject) : undefined;
        let offset = 0;
        const drain = async () => {
          if (!file) return;
          const fh = await fsp.open(file, 'r').catch(() => undefined);
          if (!fh) return;
          try {
            const { size } = await fh.stat();
            if (size <= offset) return;
            const buf = Buffer.alloc(size - offset);
            await fh.read(buf, 0, buf.length, offset);
            offset = size;
            process.stdout.write(buf);
          } finally {
            await fh.close();
          }
        };
        await drain();
        if (!o.follow) {
          if (!file) console.error(`modelreg: ${id} has no log yet (${run.status})`);
          return;
        }
        for (;;) {
          const now = await r.requireRun(id);
          await drain();
          if (now.status !== 'queued' && now.status !== 'running') break;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        await drain();
      }),
    );
}
