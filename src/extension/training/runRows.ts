// What a row of the Runs view says about a run, without 'vscode' (unit-tested): its label, the
// status line, the tooltip and the context value the row menus match.
import type { RunProgress, RunRecord } from '../../core';
import { formatMetric } from '../../shared/format';
import type { RowView } from '../rowItem';

/** run.<status>[.version]: the row menus show Stop on active rows, Retry on ended ones… */
export type RunRow = RowView;

const ICONS: Record<RunRecord['status'], { icon: string; color?: string }> = {
  queued: { icon: 'clock' },
  running: { icon: 'sync~spin', color: 'charts.blue' },
  succeeded: { icon: 'pass', color: 'testing.iconPassed' },
  failed: { icon: 'error', color: 'testing.iconFailed' },
  stopped: { icon: 'debug-stop', color: 'disabledForeground' },
};

/** 0:07, 4:05, 1:02:03. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

/** How long the run has run (or ran); undefined before it started. */
export function elapsedMs(run: RunRecord, now: number): number | undefined {
  if (!run.startedAt) return undefined;
  const end = run.finishedAt ? Date.parse(run.finishedAt) : now;
  return end - Date.parse(run.startedAt);
}

/** The parameters a run was given (the overridden ones), as the label shows them: `lr=0.1 epochs=3`. */
export function overridesText(run: RunRecord): string {
  return run.overridden.map((k) => `${k}=${String(run.params[k])}`).join(' ');
}

function progressText(p: RunProgress | undefined): string[] {
  if (!p) return [];
  const parts: string[] = [];
  if (p.epoch !== null) parts.push(`epoch ${formatMetric(p.epoch)}`);
  else if (p.step !== null) parts.push(`step ${formatMetric(p.step)}`);
  if (p.metric) parts.push(`${p.metric.key} ${formatMetric(p.metric.value)}`);
  return parts;
}

export function runRow(run: RunRecord, progress: RunProgress | undefined, now: number): RunRow {
  // The status leads the description and the parameters set come last: in a 300 px side bar what is
  // seen is "classifier  running · 0:42 · epoch 3 · eval_accuracy 0.81 · lr=0.1", cut at the end.
  const overrides = overridesText(run);
  const elapsed = elapsedMs(run, now);
  const time = elapsed === undefined ? [] : [formatElapsed(elapsed)];
  let status: string[];
  switch (run.status) {
    case 'queued':
      status = ['queued'];
      break;
    case 'running':
      status = ['running', ...time, ...progressText(progress)];
      break;
    case 'succeeded':
      status = [run.versionRef ? `→ ${run.versionRef}` : 'succeeded', ...time, ...progressText(progress)];
      break;
    case 'failed':
      status = [run.exitCode !== null ? `failed (exit ${run.exitCode})` : 'failed', ...time];
      break;
    case 'stopped':
      status = ['stopped', ...time];
      break;
  }
  const tooltip = [
    `${run.id}: ${run.status}${run.error ? ` — ${run.error}` : ''}`,
    `model ${run.model}, ${run.base ? `from ${run.base.ref}` : 'from scratch'}`,
    `params ${Object.entries(run.params)
      .map(([k, v]) => `${k}=${String(v)}${run.overridden.includes(k) ? ' (set)' : ''}`)
      .join(', ')}`,
    `$ ${run.argv.join(' ')}`,
    `output ${run.output}`,
    ...(run.devices ? [`CUDA_VISIBLE_DEVICES=${run.devices}`] : []),
    ...(run.git ? [`code ${run.git.commit.slice(0, 12)}${run.git.dirty ? ' with uncommitted changes' : ''}`] : []),
  ].join('\n');
  return {
    label: run.recipe,
    description: [...status, ...(overrides ? [overrides] : [])].join(' · '),
    tooltip,
    ...ICONS[run.status],
    contextValue: `run.${run.status}${run.versionId !== null ? '.version' : ''}`,
  };
}

/** The line a notification says when a run ends. */
export function runEndMessage(run: RunRecord): string {
  const what = `${run.recipe}${overridesText(run) ? ` (${overridesText(run)})` : ''}`;
  switch (run.status) {
    case 'succeeded':
      return `Training ${what} finished: ${run.versionRef ?? 'a new version'}${run.base ? ` from ${run.base.ref}` : ''}.`;
    case 'stopped':
      return `Training ${what} was stopped; no version was made.`;
    default:
      return `Training ${what} failed: ${run.error ?? `exit code ${String(run.exitCode)}`}. No version was made.`;
  }
}
