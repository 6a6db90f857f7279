import type { EvaluationRecord, FileEntry, FinalMetric, ModelSummary, VersionRecord } from '../../core';

/** The registry tree's node kinds; `contextValue`s in package.json menus match `kind`. */
export type TreeNode =
  | { kind: 'model'; model: ModelSummary }
  | { kind: 'version'; version: VersionRecord }
  | { kind: 'group'; group: 'files' | 'metrics' | 'source' | 'lineage' | 'evaluations'; version: VersionRecord }
  | { kind: 'evaluation'; evaluation: EvaluationRecord; version: VersionRecord }
  | { kind: 'related'; role: 'parent' | 'child'; relation: string; version: VersionRecord; other: VersionRecord }
  /** "Show more…" at the end of a page; `of` is the model whose versions continue, or undefined for models. */
  | { kind: 'more'; of?: string }
  | { kind: 'file'; file: FileEntry; version: VersionRecord }
  | { kind: 'metric'; metric: FinalMetric; version: VersionRecord }
  | { kind: 'config'; version: VersionRecord }
  | { kind: 'fact'; label: string; value: string; version: VersionRecord; command?: string }
  | { kind: 'message'; text: string };

export function nodeId(n: TreeNode): string {
  switch (n.kind) {
    case 'model':
      return `model/${n.model.name}`;
    case 'version':
      return `version/${n.version.id}`;
    case 'group':
      return `version/${n.version.id}/${n.group}`;
    case 'file':
      return `version/${n.version.id}/files/${n.file.path}`;
    case 'metric':
      return `version/${n.version.id}/metrics/${n.metric.key}`;
    case 'fact':
      return `version/${n.version.id}/source/${n.label}`;
    case 'config':
      return `version/${n.version.id}/config`;
    case 'related':
      return `version/${n.version.id}/lineage/${n.other.id}`;
    case 'evaluation':
      return `version/${n.version.id}/evaluations/${n.evaluation.id}`;
    case 'more':
      return `more/${n.of ?? ''}`;
    case 'message':
      return `message/${n.text}`;
  }
}
