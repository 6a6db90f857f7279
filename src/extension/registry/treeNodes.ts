import type {
  CheckpointFolder,
  EvaluationRecord,
  FileEntry,
  FinalMetric,
  ModelSummary,
  VersionRecord,
} from '../../core';

/** Which registry a node shows: the workspace's own, or the team's. Commands act on the node's registry. */
export type RegistryKey = 'local' | 'team';

/** A row of the registry tree without its registry; the tree adds that when it hands the row out. */
export type NodeData =
  | { kind: 'model'; model: ModelSummary }
  | { kind: 'version'; version: VersionRecord }
  | {
      kind: 'group';
      group: 'conversion' | 'files' | 'metrics' | 'parameters' | 'source' | 'lineage' | 'evaluations';
      version: VersionRecord;
      /** The Lineage group: the version it was made from, when it was. */
      parent?: VersionRecord;
    }
  | { kind: 'evaluation'; evaluation: EvaluationRecord; version: VersionRecord }
  | { kind: 'related'; role: 'parent' | 'child'; relation: string; version: VersionRecord; other: VersionRecord }
  /** "Show more…" at the end of a page; `of` is the model whose versions continue, or undefined for models. */
  | { kind: 'more'; of?: string }
  /** `under`: the checkpoint folder row it is listed under (its label drops that folder). */
  | { kind: 'file'; file: FileEntry; version: VersionRecord; under?: string }
  /** A checkpoint-N folder the import found: its files in the version, the version's files, or left out. */
  | { kind: 'checkpoint'; checkpoint: CheckpointFolder; state: CheckpointState; version: VersionRecord }
  | { kind: 'metric'; metric: FinalMetric; version: VersionRecord }
  /** A hyperparameter: `key` dotted inside `file` (hparams.yaml, training_args.json…), `value` as text. */
  | { kind: 'param'; key: string; value: string; file: string; version: VersionRecord }
  | { kind: 'config'; version: VersionRecord }
  /** The version's description, as the first row under it. */
  | { kind: 'description'; version: VersionRecord }
  /**
   * A row of the Conversion group: `label` and `value`, `tooltip` when there is more to say, `at` an
   * ISO time shown as "3 hours ago", `reveal` a version a click reveals.
   */
  | {
      kind: 'detail';
      label: string;
      value: string;
      tooltip?: string;
      at?: string;
      reveal?: string;
      version: VersionRecord;
    }
  /** `at`: an ISO time the row shows as "3 hours ago", exact on hover. */
  | { kind: 'fact'; label: string; value: string; at?: string; version: VersionRecord; command?: string }
  | { kind: 'message'; text: string };

export type CheckpointState = 'included' | 'chosen' | 'left out';

/** The registry tree's node kinds; `contextValue`s in package.json menus match `kind` (treeItems.ts). */
export type TreeNode = NodeData & { readonly registry: RegistryKey };

export function nodeId(n: NodeData): string {
  switch (n.kind) {
    case 'model':
      return `model/${n.model.name}`;
    case 'version':
      return `version/${n.version.id}`;
    case 'group':
      return `version/${n.version.id}/${n.group}`;
    case 'file':
      return `version/${n.version.id}/files/${n.file.path}`;
    case 'checkpoint':
      return `version/${n.version.id}/checkpoints/${n.checkpoint.name}`;
    case 'metric':
      return `version/${n.version.id}/metrics/${n.metric.key}`;
    case 'param':
      return `version/${n.version.id}/parameters/${n.file}/${n.key}`;
    case 'fact':
      return `version/${n.version.id}/source/${n.label}`;
    case 'config':
      return `version/${n.version.id}/config`;
    case 'description':
      return `version/${n.version.id}/description`;
    case 'detail':
      return `version/${n.version.id}/conversion/${n.label}`;
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
