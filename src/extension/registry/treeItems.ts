// What each row of the registry and datasets trees shows, without 'vscode', so it is unit-tested:
// label, description, tooltip, icon (a theme icon id), context value (package.json menus match it)
// and the command a click runs. registryTree.ts turns this into a vscode.TreeItem.
import {
  BUILTIN_PROFILES,
  conversionOf,
  DatasetRecord,
  describeCheckpoint,
  ToolProfile,
  trainingOf,
  VersionRecord,
  versionCapabilities,
  versionDtype,
} from '../../core';
import { formatBytes, formatLocalTime, formatMetric, formatRelativeTime, formatTime } from '../../shared/format';
import { COMMANDS, CommandId } from '../commands/commandIds';
import { modelTooltip, versionTooltip } from './tooltips';
import { checkSummary, paramFiles } from './treeChildren';
import { nodeId, TreeNode } from './treeNodes';

export interface TreeItemView {
  id: string;
  label: string;
  /** Starts collapsed (has children to expand), or has none. */
  collapsible: boolean;
  contextValue?: string;
  description?: string;
  /** Markdown we wrote around escaped text (shown untrusted, without HTML), or plain text. */
  tooltip?: { markdown: string } | string;
  /** A theme icon id (codicon), e.g. 'package', 'sync~spin'; `color` a theme colour id. */
  icon?: { id: string; color?: string };
  /** What a click runs: one of our commands, or opening the version's stored config.json. */
  command?: { id: CommandId; title: string; arguments: unknown[] } | { openStoredConfig: VersionRecord; title: string };
}

/** What the settings add to what a version row offers: tool profiles for Convert…, external evaluators for Evaluate…. */
export interface RowSettings {
  profiles: ToolProfile[];
  /** External evaluators are configured: any ready version can be evaluated. */
  evaluators: boolean;
}

const DEFAULT_SETTINGS: RowSettings = { profiles: BUILTIN_PROFILES, evaluators: false };

/**
 * A registry tree row. Team rows open nothing locally: Pull brings a version into the workspace first.
 * `now` (ms since the epoch) is what "3 hours ago" counts from.
 */
export function treeItemOf(n: TreeNode, settings: RowSettings = DEFAULT_SETTINGS, now = Date.now()): TreeItemView {
  const item: TreeItemView = {
    id: nodeId(n),
    label: labelOf(n),
    collapsible: collapsible(n),
    contextValue: contextValue(n, settings),
  };
  const local = n.registry === 'local';
  switch (n.kind) {
    case 'model': {
      const m = n.model;
      const counts = `${m.versionCount} version${m.versionCount === 1 ? '' : 's'}${m.archivedCount ? ` (+${m.archivedCount} archived)` : ''}`;
      item.description = [counts, ...m.tags.map((t) => `#${t}`)].join(' · ');
      item.tooltip = { markdown: modelTooltip(m, now) };
      item.icon = { id: 'package' };
      break;
    }
    case 'version': {
      const v = n.version;
      item.description = versionDescription(v);
      item.tooltip = { markdown: versionTooltip(v, now) };
      item.icon = { id: versionIcon(v) };
      break;
    }
    case 'related': {
      const o = n.other;
      const how = relation(n.relation, n.role === 'parent' ? n.version : o);
      item.description = `${n.role === 'parent' ? 'made from it' : 'made from this'} (${how})${o.git ? ` · ${o.git.commit.slice(0, 7)}` : ''}`;
      item.tooltip = `${o.ref}: ${n.role === 'parent' ? `${n.version.ref} was made from it` : `made from ${n.version.ref}`} by ${how}${o.git ? `\ncommit ${o.git.commit.slice(0, 10)} ${o.git.subject}` : ''}`;
      item.icon = { id: n.role === 'parent' ? 'arrow-up' : 'arrow-down' };
      if (local) item.command = { id: COMMANDS.revealVersion, title: 'Reveal Version', arguments: [o.ref] };
      break;
    }
    case 'more':
      item.icon = { id: 'ellipsis' };
      item.command = { id: COMMANDS.showMore, title: 'Show More', arguments: [n] };
      break;
    case 'group':
      item.icon = { id: GROUP_ICONS[n.group] };
      if (n.group === 'files') item.description = `${n.version.fileCount} · ${formatBytes(n.version.sizeBytes)}`;
      if (n.group === 'lineage' && n.parent)
        item.description = `from ${n.parent.ref} (${relation(n.version.parentKind ?? 'derived', n.version)})`;
      if (n.group === 'conversion') {
        const c = conversionOf(n.version.details);
        const first = c && Object.values(c.files)[0];
        item.description = [c?.converter, first && checkSummary(first).replace(/ · \d+ input sets?$/, '')]
          .filter(Boolean)
          .join(' · ');
        item.tooltip = c
          ? `${n.version.ref} was converted from ${c.from ?? 'its parent'} by ${c.converter}`
          : undefined;
      }
      if (n.group === 'parameters') {
        // Where they came from; every row's tooltip names its file too.
        const files = paramFiles(n.version.params);
        item.description = files.length === 1 ? files[0].replace(/^.*\//, '') : `${files.length} files`;
        item.tooltip = `Parameters of ${n.version.ref}, from ${files.join(', ')}`;
      }
      break;
    case 'file':
      item.description = `${formatBytes(n.file.size)} · ${n.file.sha256.slice(0, 12)}`;
      item.tooltip = `${n.file.path}\n${n.file.role}, ${n.file.size} bytes\nsha256 ${n.file.sha256}`;
      item.icon = { id: n.file.role === 'weights' ? 'symbol-array' : n.file.role === 'metrics' ? 'graph' : 'file' };
      break;
    case 'checkpoint': {
      const c = n.checkpoint;
      const what = { included: `${c.fileCount} files`, chosen: "the version's files", 'left out': 'not imported' }[
        n.state
      ];
      item.description = `${describeCheckpoint(c)} · ${what}`;
      item.tooltip = `${c.name}: a Trainer checkpoint at step ${c.step}, ${c.fileCount} files, ${formatBytes(c.bytes)}${
        n.state === 'chosen'
          ? `\n${n.version.ref} holds this checkpoint's files (imported alone)`
          : n.state === 'left out'
            ? `\nleft out of ${n.version.ref}: the import took the final weights only`
            : ''
      }`;
      item.icon = { id: 'history', color: n.state === 'left out' ? 'disabledForeground' : undefined };
      break;
    }
    case 'metric':
      item.description = `${formatMetric(n.metric.value)}${n.metric.isBest ? ' (best)' : ''}`;
      item.tooltip = `${n.metric.key} = ${n.metric.value}${n.metric.step !== null ? ` at step ${n.metric.step}` : ''}\n${n.metric.pointCount} points from ${n.metric.source}`;
      item.icon = { id: 'symbol-number' };
      break;
    case 'detail':
      item.description = n.at ? [n.value, formatRelativeTime(n.at, now)].filter(Boolean).join(' · ') : n.value;
      item.tooltip = n.tooltip ?? `${n.label}: ${[n.value, n.at && formatLocalTime(n.at)].filter(Boolean).join(' · ')}`;
      if (n.reveal && local)
        item.command = { id: COMMANDS.revealVersion, title: 'Reveal Version', arguments: [n.reveal] };
      break;
    case 'param':
      item.description = n.value;
      item.tooltip = `${n.key} = ${n.value.length > 500 ? `${n.value.slice(0, 499)}…` : n.value}\nfrom ${n.file}`;
      item.icon = { id: 'symbol-constant' };
      break;
    case 'fact':
      // A time reads "3 hours ago"; the tooltip has it to the second, in local time.
      item.description = n.at ? [n.value, formatRelativeTime(n.at, now)].filter(Boolean).join(' · ') : n.value;
      item.tooltip = `${n.label}: ${[n.value, n.at && formatLocalTime(n.at)].filter(Boolean).join(' · ')}`;
      if (n.label === 'warning') item.icon = { id: 'warning', color: 'problemsWarningIcon.foreground' };
      if (n.label === 'commit' && n.version.git && local)
        item.command = { id: COMMANDS.openCommit, title: 'Open Commit', arguments: [n] };
      break;
    case 'description':
      // The whole text on hover, as text (people write it; see tooltips.ts).
      item.tooltip = n.version.description;
      item.icon = { id: 'note' };
      break;
    case 'config':
      item.description = n.version.config?.templateId ?? 'no template';
      item.tooltip = `The config.json ${n.version.ref} was imported with${n.version.config?.templateId ? ` (template ${n.version.config.templateId})` : ''}; read-only, checked like any model config.`;
      item.icon = { id: 'settings' };
      if (local) item.command = { openStoredConfig: n.version, title: 'Open config.json' };
      break;
    case 'evaluation': {
      const e = n.evaluation;
      const at = e.finishedAt ?? e.startedAt;
      item.description = `${e.details?.task === 'detection' ? `AP ${formatMetric(e.metrics.AP ?? null)} · AP50 ${formatMetric(e.metrics.AP50 ?? null)} · ${e.sampleCount} images` : `accuracy ${formatMetric(e.metrics.accuracy ?? null)} · ${e.sampleCount} samples`}${e.errorCount ? ` (+${e.errorCount} errors)` : ''} · ${formatRelativeTime(at, now)}`;
      item.tooltip = `${e.ref} on ${e.datasetName}${e.split ? `/${e.split}` : ''} (manifest ${e.datasetSha256.slice(0, 12)}), ${e.evaluator} evaluator${e.git ? `, workspace at ${e.git.commit.slice(0, 8)}${e.git.dirty ? ' (dirty)' : ''}` : ''}\n${e.finishedAt ? 'finished' : 'started'} ${formatTime(at, now)}`;
      item.icon = { id: 'beaker' };
      if (local) item.command = { id: COMMANDS.openEvaluation, title: 'Open Evaluation', arguments: [n] };
      break;
    }
    case 'message':
      item.icon = { id: 'info' };
      break;
  }
  return item;
}

/** A row of the Datasets view: a dataset, or one of its facts under it. */
export type DatasetNode =
  | { kind: 'dataset'; dataset: DatasetRecord }
  | { kind: 'dataset-fact'; dataset: DatasetRecord; label: string; value: string };

export function datasetItemOf(n: DatasetNode, now = Date.now()): TreeItemView {
  const d = n.dataset;
  if (n.kind === 'dataset')
    return {
      id: `dataset/${d.id}`,
      label: d.name,
      collapsible: true,
      description: `${d.kind} · ${d.sampleCount} samples · ${d.classes.length} classes`,
      tooltip: `${d.name}: ${d.root}\nmanifest ${d.manifestSha256}\nregistered ${formatTime(d.createdAt, now)}`,
      icon: { id: 'database' },
      contextValue: 'dataset',
    };
  return {
    id: `dataset/${d.id}/${n.label}`,
    label: n.label,
    collapsible: false,
    description: n.value,
    tooltip: `${n.label}: ${n.label === 'manifest' ? d.manifestSha256 : n.value}`,
  };
}

/** The facts listed under a dataset. */
export function datasetFacts(d: DatasetRecord): DatasetNode[] {
  const facts: [string, string][] = [
    ['kind', d.kind],
    ['samples', String(d.sampleCount)],
    ['classes', `${d.classes.length}: ${d.classes.slice(0, 12).join(', ')}${d.classes.length > 12 ? ', …' : ''}`],
    ...(d.splits.length ? [['splits', d.splits.join(', ')] as [string, string]] : []),
    ['manifest', d.manifestSha256.slice(0, 16)],
    ['root', d.root],
  ];
  return facts.map(([label, value]) => ({ kind: 'dataset-fact', dataset: d, label, value }));
}

const GROUP_ICONS = {
  conversion: 'arrow-swap',
  files: 'files',
  metrics: 'graph-line',
  parameters: 'symbol-parameter',
  lineage: 'type-hierarchy',
  evaluations: 'checklist',
  source: 'git-commit',
} as const;

const GROUP_LABELS = {
  conversion: 'Conversion',
  files: 'Files',
  metrics: 'Metrics',
  parameters: 'Parameters',
  source: 'Source',
  lineage: 'Lineage',
  evaluations: 'Evaluations',
} as const;

/**
 * Menus in package.json match these: commit, model…, and for versions
 * version.<status>[.aliased][.archived][.onnx][.evaluable][.convertible][.trained]: Evaluate… shows only on
 * evaluable rows (an ONNX file, or external evaluators configured), Convert… only where something applies.
 */
function contextValue(n: TreeNode, settings: RowSettings): string {
  if (n.kind === 'version') {
    const v = n.version;
    const facts = [v.interrupted ? 'interrupted' : v.status];
    if (v.aliases.length) facts.push('aliased');
    if (v.archivedAt) facts.push('archived');
    if (v.status === 'ready' && !v.interrupted) {
      const can = versionCapabilities(v, settings.profiles);
      if (can.onnx) facts.push('onnx');
      if (can.onnx || settings.evaluators) facts.push('evaluable');
      if (can.convertible) facts.push('convertible');
      if (trainingOf(v)) facts.push('trained'); // Re-run Training
    }
    return `version.${facts.join('.')}`;
  }
  if (n.kind === 'fact' && n.label === 'commit' && n.version.git) return 'commit';
  if (n.kind === 'group') return `group.${n.group}`;
  return n.kind;
}

function labelOf(n: TreeNode): string {
  switch (n.kind) {
    case 'model':
      return n.model.name;
    case 'version':
      return `v${n.version.number}`;
    case 'group':
      return GROUP_LABELS[n.group];
    case 'evaluation':
      return `${n.evaluation.datasetName}${n.evaluation.split ? `/${n.evaluation.split}` : ''}`;
    case 'related':
      return n.other.ref;
    case 'more':
      return 'Show more…';
    case 'file':
      return n.under ? n.file.path.slice(n.under.length + 1) : n.file.path;
    case 'checkpoint':
      return n.checkpoint.name;
    case 'metric':
      return n.metric.key;
    case 'param':
      return n.key;
    case 'detail':
      return n.label;
    case 'fact':
      return n.label;
    case 'config':
      return 'config.json';
    case 'description': {
      const first = n.version.description.trim().split('\n')[0];
      return first.length > 120 ? `${first.slice(0, 119)}…` : first;
    }
    case 'message':
      return n.text;
  }
}

function collapsible(n: TreeNode): boolean {
  return (
    n.kind === 'model' ||
    n.kind === 'group' ||
    (n.kind === 'version' && n.version.status === 'ready') ||
    (n.kind === 'checkpoint' && n.state === 'included')
  );
}

function versionIcon(v: VersionRecord): string {
  if (v.interrupted) return 'debug-disconnect';
  if (v.status === 'importing') return 'sync~spin';
  if (v.status === 'failed') return 'error';
  if (v.archivedAt) return 'archive';
  return v.aliases.length ? 'star-full' : 'versions';
}

function versionDescription(v: VersionRecord): string {
  if (v.status !== 'ready')
    return v.interrupted ? 'interrupted: its import was stopped' : v.status === 'importing' ? 'importing…' : 'failed';
  // format · dtype · size · tags: what tells a conversion from its parent (onnx · fp16 · 2.9 KiB).
  const format = v.format ?? 'files';
  const dtype = versionDtype(v.details);
  const parts = [
    ...v.aliases.map((a) => `@${a}`),
    ...(v.archivedAt ? ['archived'] : []),
    format,
    ...(dtype && dtype !== format ? [dtype] : []),
    formatBytes(v.sizeBytes),
    ...v.tags.map((t) => `#${t}`),
  ];
  if (v.git) parts.push(v.git.commit.slice(0, 7) + (v.git.dirty ? '*' : ''));
  return parts.join(' · ');
}

/** How a version came from its parent: "conversion: onnx-fp16" when its conversion names the converter. */
function relation(kind: string, made: VersionRecord): string {
  const c = kind === 'conversion' ? conversionOf(made.details) : undefined;
  return c ? `${kind}: ${c.converter}` : kind;
}
