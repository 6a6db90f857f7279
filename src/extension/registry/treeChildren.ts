// The rows under a version and under its groups, without 'vscode', so they are unit-tested on real
// registries: registryTree.ts pages the models and versions and asks this for everything below.
import {
  conversionOf,
  describeTraining,
  ObjectStore,
  Registry,
  trainingOf,
  VersionRecord,
  versionWarnings,
} from '../../core';
import { formatBytes, formatMetric } from '../../shared/format';
import { fileRows } from './checkpointRows';
import { NodeData } from './treeNodes';

type VersionNode = Extract<NodeData, { kind: 'version' }>;
type GroupNode = Extract<NodeData, { kind: 'group' }>;

/**
 * A ready version's rows: its description, its config, Conversion (when it was converted), then Files, Metrics,
 * Parameters (when it has any), Evaluations, Source, Lineage.
 */
export async function versionChildren(registry: Registry<ObjectStore>, node: VersionNode): Promise<NodeData[]> {
  const v = node.version;
  if (v.status !== 'ready') return [];
  const parent = v.parentId !== null ? await registry.getVersionById(v.parentId) : undefined;
  const related = parent !== undefined || (await registry.childrenOf(v.id, 1)).length > 0;
  const evaluated = await registry.hasEvaluations(v.id);
  const groups = [
    ...(conversionOf(v.details) ? ['conversion' as const] : []),
    'files',
    'metrics',
    ...(paramRows(v.params).length ? ['parameters' as const] : []),
    ...(evaluated ? ['evaluations' as const] : []),
    'source',
    ...(related ? ['lineage' as const] : []),
  ] as const;
  return [
    ...(ownDescription(v) ? [{ kind: 'description', version: v } as const] : []),
    ...(v.config ? [{ kind: 'config', version: v } as const] : []),
    ...groups.map(
      (group) => ({ kind: 'group', group, version: v, ...(group === 'lineage' ? { parent } : {}) }) as const,
    ),
  ];
}

/** A description someone wrote: not the one Convert gives ("ONNX to float16 of resnet@v1"), which Conversion says. */
function ownDescription(v: VersionRecord): boolean {
  const c = conversionOf(v.details);
  const text = v.description.trim();
  return text !== '' && !(c && text === `${c.title} of ${c.from}`);
}

/** What a group of a version lists. */
export async function groupChildren(registry: Registry<ObjectStore>, parent: GroupNode): Promise<NodeData[]> {
  const v = parent.version;
  switch (parent.group) {
    case 'lineage': {
      const from = v.parentId !== null ? await registry.getVersionById(v.parentId) : undefined;
      const nodes: NodeData[] = from
        ? [{ kind: 'related', role: 'parent', relation: v.parentKind ?? 'derived', version: v, other: from }]
        : [];
      for (const child of await registry.childrenOf(v.id))
        nodes.push({
          kind: 'related',
          role: 'child',
          relation: child.parentKind ?? 'derived',
          version: v,
          other: child,
        });
      return nodes;
    }
    case 'evaluations':
      return (await registry.evaluationsOf(v.id)).map((evaluation) => ({ kind: 'evaluation', evaluation, version: v }));
    case 'files':
      return fileRows(v, await registry.files(v.id));
    case 'metrics': {
      const metrics = await registry.finalMetrics(v.id);
      if (metrics.length) return metrics.map((metric) => ({ kind: 'metric', metric, version: v }));
      // A conversion measured nothing itself: its parent's training metrics, said to be the parent's.
      const from = v.parentKind === 'conversion' && v.parentId !== null && (await registry.getVersionById(v.parentId));
      const inherited = from ? await registry.finalMetrics(from.id) : [];
      if (from && inherited.length)
        return [
          { kind: 'message', text: `Metrics of the parent ${from.ref} (conversion)` },
          ...inherited.map((metric) => ({ kind: 'metric', metric, version: v }) as const),
        ];
      return [{ kind: 'message', text: 'No metric logs found in this output' }];
    }
    case 'parameters': {
      const rows = paramRows(v.params);
      const shown: NodeData[] = rows.slice(0, PARAM_ROWS).map((p) => ({ kind: 'param', ...p, version: v }));
      if (rows.length > PARAM_ROWS)
        shown.push({
          kind: 'message',
          text: `${rows.length - PARAM_ROWS} more (see ${paramFiles(v.params).join(', ')})`,
        });
      return shown;
    }
    case 'source':
      return sourceFacts(v);
    case 'conversion':
      return conversionRows(v);
  }
}

/** The Conversion group: converter, parent, parameters, sizes, then each converted file with its check. */
export function conversionRows(v: VersionRecord): NodeData[] {
  const c = conversionOf(v.details);
  if (!c) return [];
  const rows: Omit<Extract<NodeData, { kind: 'detail' }>, 'kind' | 'version'>[] = [
    { label: 'converter', value: c.title ? `${c.converter} (${c.title})` : c.converter },
  ];
  if (c.from) rows.push({ label: 'from', value: c.from, reveal: c.from });
  // Parameters left empty (inputs=) are the converter's own default: not worth a word.
  const params = Object.entries(c.params)
    .filter(([, val]) => val !== '')
    .map(([k, val]) => `${k}=${val}`);
  if (params.length) rows.push({ label: 'parameters', value: params.join(', ') });
  if (c.sizeBefore !== null && c.sizeAfter !== null)
    rows.push({
      label: 'size',
      value: `${formatBytes(c.sizeBefore)} → ${formatBytes(c.sizeAfter)}`,
      tooltip: `${c.sizeBefore} → ${c.sizeAfter} bytes (${Math.round((100 * c.sizeAfter) / Math.max(1, c.sizeBefore))}%) for the files it rewrote`,
    });
  if (c.tool) rows.push({ label: 'tool', value: c.tool, ...(c.log ? { tooltip: `log: ${c.log}` } : {}) });
  for (const [file, report] of Object.entries(c.files))
    rows.push({ label: file, value: checkSummary(report), tooltip: reportText(file, report) });
  if (c.at) rows.push({ label: 'converted', value: '', at: c.at });
  return rows.map((r) => ({ kind: 'detail', ...r, version: v }));
}

/**
 * What a converter's numbers for one file say, shortest first: the onnxruntime check (max abs and
 * relative error), or not verified; safetensors' values read back and overflows; else the sizes.
 */
export function checkSummary(r: Record<string, unknown>): string {
  const n = (k: string) => (typeof r[k] === 'number' ? (r[k] as number) : undefined);
  if (r.verified === false) return 'not verified (verify=skip)';
  const abs = n('maxAbsError');
  if (abs !== undefined) {
    const tried = n('inputsTried');
    return [
      `max abs error ${formatMetric(abs)}`,
      ...(n('maxRelError') !== undefined ? [`relative ${formatMetric(n('maxRelError'))}`] : []),
      ...(tried !== undefined ? [`${tried} input set${tried === 1 ? '' : 's'}`] : []),
    ].join(' · ');
  }
  const values = n('valuesConverted');
  if (values !== undefined)
    return `${values.toLocaleString('en')} values read back${n('overflowToInf') ? ` · ${n('overflowToInf')} became ±Inf` : ''}`;
  const [a, b] = [n('bytesBefore'), n('bytesAfter')];
  return a !== undefined && b !== undefined ? `${formatBytes(a)} → ${formatBytes(b)}` : 'converted';
}

/** Every number a converter kept for a file, one per line. */
function reportText(file: string, r: Record<string, unknown>): string {
  const value = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : JSON.stringify(v));
  return [file, ...Object.entries(r).map(([k, v]) => `${k}: ${value(v)}`)].join('\n');
}

/** Parameter rows listed under a version at most; an HF config.json with a 1,000-class id2label has more. */
export const PARAM_ROWS = 200;

/** The files a version's parameters came from, as stored ({"hparams.yaml": {...}, "training_args.json": {...}}). */
export function paramFiles(params: Record<string, unknown>): string[] {
  return Object.keys(params);
}

/**
 * A version's parameters as rows, in each file's own order: nested objects become dotted keys
 * (optimizer.lr); arrays and scalars are one value each, strings as they are, the rest as JSON.
 */
export function paramRows(params: Record<string, unknown>): { file: string; key: string; value: string }[] {
  const rows: { file: string; key: string; value: string }[] = [];
  const walk = (file: string, key: string, value: unknown) => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0)
      for (const [k, v] of Object.entries(value)) walk(file, key ? `${key}.${k}` : k, v);
    else if (key)
      rows.push({ file, key, value: typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null') });
  };
  for (const [file, content] of Object.entries(params)) walk(file, '', content);
  return rows;
}

/** The Source group: git provenance, where and when it was imported; warnings first, so they are seen. */
export function sourceFacts(v: VersionRecord): NodeData[] {
  const facts: { label: string; value: string; at?: string }[] = [];
  if (v.git) {
    facts.push({
      label: 'commit',
      value: `${v.git.commit.slice(0, 10)}${v.git.dirty ? ' (dirty)' : ''} ${v.git.subject}`,
    });
    facts.push({ label: 'branch', value: v.git.branch ?? '(detached HEAD)' });
    if (v.git.remote) facts.push({ label: 'remote', value: v.git.remote });
    facts.push({ label: 'author', value: v.git.author, at: v.git.date });
  } else {
    facts.push({ label: 'commit', value: 'not in a git repository' });
  }
  // What the weights' readers found alarming (a pickle naming posix.system).
  for (const w of versionWarnings(v.details)) facts.unshift({ label: 'warning', value: w });
  const training = trainingOf(v);
  if (training) facts.push({ label: 'trained', value: describeTraining(training) });
  facts.push({ label: 'imported from', value: v.source.uri });
  facts.push({ label: 'imported', value: '', at: v.createdAt });
  return facts.map((f) => ({ kind: 'fact', ...f, version: v }));
}
