// The rows under a version and under its groups, without 'vscode', so they are unit-tested on real
// registries: registryTree.ts pages the models and versions and asks this for everything below.
import { ObjectStore, Registry, VersionRecord, versionWarnings } from '../../core';
import { NodeData } from './treeNodes';

type VersionNode = Extract<NodeData, { kind: 'version' }>;
type GroupNode = Extract<NodeData, { kind: 'group' }>;

/** A ready version's rows: its config, then Files, Metrics, Parameters (when it has any), Evaluations, Source, Lineage. */
export async function versionChildren(registry: Registry<ObjectStore>, parent: VersionNode): Promise<NodeData[]> {
  const v = parent.version;
  if (v.status !== 'ready') return [];
  const related = v.parentId !== null || (await registry.childrenOf(v.id, 1)).length > 0;
  const evaluated = await registry.hasEvaluations(v.id);
  const groups = [
    'files',
    'metrics',
    ...(paramRows(v.params).length ? ['parameters' as const] : []),
    ...(evaluated ? ['evaluations' as const] : []),
    'source',
    ...(related ? ['lineage' as const] : []),
  ] as const;
  return [
    ...(v.config ? [{ kind: 'config', version: v } as const] : []),
    ...groups.map((group) => ({ kind: 'group', group, version: v }) as const),
  ];
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
      return (await registry.files(v.id)).map((file) => ({ kind: 'file', file, version: v }));
    case 'metrics': {
      const metrics = await registry.finalMetrics(v.id);
      if (metrics.length === 0) return [{ kind: 'message', text: 'No metric logs found in this output' }];
      return metrics.map((metric) => ({ kind: 'metric', metric, version: v }));
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
  }
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
  facts.push({ label: 'imported from', value: v.source.uri });
  facts.push({ label: 'imported', value: '', at: v.createdAt });
  return facts.map((f) => ({ kind: 'fact', ...f, version: v }));
}
