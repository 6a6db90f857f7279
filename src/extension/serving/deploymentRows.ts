// What a row of the Deployments view says about a server, without 'vscode' (unit-tested): its label,
// the status line with live numbers, the tooltip, and the context value the row menus match.
import type { DeploymentSnapshot, VersionMetrics, ServedModel } from '../../core';
import type { RowView } from '../rowItem';
import { formatElapsed } from '../training/runRows';

/** deployment.<status>: Stop on running ones, Restart on ended ones, Request Panel on ready ones. */
export type DeploymentRow = RowView;

const ICONS: Record<DeploymentSnapshot['status'], { icon: string; color?: string }> = {
  starting: { icon: 'sync~spin', color: 'charts.blue' },
  ready: { icon: 'radio-tower', color: 'testing.iconPassed' },
  failed: { icon: 'error', color: 'testing.iconFailed' },
  crashed: { icon: 'error', color: 'testing.iconFailed' },
  stopping: { icon: 'sync~spin' },
  stopped: { icon: 'debug-stop', color: 'disabledForeground' },
};

const ms = (v: number | undefined) => (v === undefined ? '–' : v < 10 ? `${v.toFixed(1)} ms` : `${Math.round(v)} ms`);

/** Totals over the served versions: requests, errors, and the slowest version's p50/p95 (one is typical). */
export function totals(metrics: VersionMetrics[]): {
  requests: number;
  failures: number;
  p50Ms?: number;
  p95Ms?: number;
} {
  const max = (k: 'p50Ms' | 'p95Ms') => {
    const vs = metrics.map((m) => m[k]).filter((v): v is number => v !== undefined);
    return vs.length ? Math.max(...vs) : undefined;
  };
  return {
    requests: metrics.reduce((n, m) => n + m.requests, 0),
    failures: metrics.reduce((n, m) => n + m.failures, 0),
    p50Ms: max('p50Ms'),
    p95Ms: max('p95Ms'),
  };
}

export function deploymentRow(d: DeploymentSnapshot, now: number): DeploymentRow {
  const where = d.url?.replace(/^https?:\/\//, '') ?? `${d.spec.host ?? '127.0.0.1'}:${d.spec.port || 'any port'}`;
  const t = totals(d.metrics);
  const parts: string[] = [d.status];
  if (d.status === 'ready') {
    parts.push(
      where,
      formatElapsed(now - d.startedAt),
      `${t.requests} req`,
      `p50 ${ms(t.p50Ms)}`,
      `p95 ${ms(t.p95Ms)}`,
    );
    if (t.failures) parts.push(`${t.failures} errors`);
  } else if (d.error) parts.push(d.error);
  const batching =
    d.spec.maxBatch && d.spec.maxBatch > 1
      ? `batches of up to ${d.spec.maxBatch} rows, ${d.spec.batchDelayMs ?? 0} ms`
      : 'no batching';
  const tooltip = [
    `${d.spec.refs.join(' ')} — ${d.status}`,
    d.url ? `URL: ${d.url}` : `Port: ${d.spec.port || 'any free one'}`,
    ...d.models.map((m) => `${m.ref} → ${m.name} version ${m.version}`),
    batching,
    ...(d.status === 'ready'
      ? [`${t.requests} requests, ${t.failures} errors, p50 ${ms(t.p50Ms)}, p95 ${ms(t.p95Ms)}`]
      : []),
    ...(d.error ? [d.error] : []),
  ].join('\n');
  return {
    label: d.spec.refs.join(' '),
    description: parts.join(' · '),
    tooltip,
    ...ICONS[d.status],
    contextValue: `deployment.${d.status}`,
  };
}

/** A served version under its server: what the ref names now, and its numbers. */
export function servedModelRow(
  m: ServedModel,
  metrics: VersionMetrics[],
): { label: string; description: string; tooltip: string } {
  const s = metrics.find((x) => x.model === m.name && x.version === m.version);
  const follows = m.ref !== `${m.name}@v${m.version}`;
  const io = (ts: ServedModel['inputs']) => ts.map((t) => `${t.name} ${t.datatype}[${t.shape.join(', ')}]`).join(', ');
  return {
    label: `${m.name} v${m.version}`,
    description: [follows ? `follows ${m.ref}` : 'pinned', s ? `${s.requests} req · p95 ${ms(s.p95Ms)}` : '']
      .filter(Boolean)
      .join(' · '),
    tooltip: `/v2/models/${m.name}/versions/${m.version}\ninputs: ${io(m.inputs)}\noutputs: ${io(m.outputs)}`,
  };
}
