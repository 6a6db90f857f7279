// The reader's words for a model's signature and a file's role, kept with the readers (which sit below the registry).
import type { FileRole, Signature } from '../inspect/types';
export type { FileRole, Signature } from '../inspect/types';
import { GitProvenance } from '../git/provenance';

export type VersionStatus = 'importing' | 'ready' | 'failed';

export interface ModelSummary {
  id: number;
  name: string;
  description: string;
  task: string | null;
  tags: string[];
  /** Versions that are neither archived nor deleted. */
  versionCount: number;
  archivedCount: number;
  latestVersion: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface VersionSource {
  /** training-output | template | container-image | object-storage | clone | conversion */
  kind: string;
  uri: string;
}

export interface VersionRecord {
  id: number;
  modelId: number;
  model: string;
  number: number;
  /** "name@v3" */
  ref: string;
  status: VersionStatus;
  source: VersionSource;
  format: string | null;
  framework: string | null;
  sizeBytes: number;
  fileCount: number;
  parameterCount: number | null;
  createdAt: string;
  git: GitProvenance | null;
  parentId: number | null;
  /** How the parent led to this version: clone | conversion | fine-tune. */
  parentKind: string | null;
  params: Record<string, unknown>;
  signature: Signature;
  details: Record<string, unknown>;
  /** The config.json the version was imported with (verbatim) and the template it follows. */
  config: ModelConfig | null;
  description: string;
  tags: string[];
  /** Aliases pointing at this version (production, staging…). */
  aliases: string[];
  archivedAt: string | null;
  /** The version's identity across registries once it was pushed or pulled (see registry/team.ts). */
  origin: string | null;
  /** The process importing it (while `importing`). */
  importer: { pid: number; host: string } | null;
  /** Still `importing`, but its process on this machine is gone (killed): only gc or Clean up removes it. */
  interrupted: boolean;
}

export interface ModelConfig {
  text: string;
  templateId: string | null;
}

export interface FileEntry {
  path: string;
  sha256: string;
  size: number;
  role: FileRole;
}

export interface FinalMetric {
  key: string;
  value: number | null;
  step: number | null;
  /** The log named this value as the best one (otherwise it is the last value). */
  isBest: boolean;
  pointCount: number;
  source: string;
}

export interface StoredSeries {
  key: string;
  source: string;
  steps: Float64Array;
  values: Float64Array;
  wallTimes: Float64Array | null;
}

export interface ListOptions {
  offset?: number;
  limit?: number;
  /** A search (see search.ts); only models and versions that match. */
  filter?: string;
  /** Show archived versions too (a filter with archived:yes does the same). */
  includeArchived?: boolean;
}

export interface AliasMove {
  model: string;
  alias: string;
  /** Version numbers; null when the alias was created or removed. */
  from: number | null;
  to: number | null;
  at: string;
  by: string;
}

export interface LineageNode {
  id: number;
  ref: string;
  model: string;
  number: number;
  format: string | null;
  /** What its weights are stored as (fp16, int8…; see registry/dtype.ts). */
  dtype: string | null;
  sizeBytes: number;
  /** The converter that made it from its parent, when it is a conversion. */
  converter: string | null;
  commit: string | null;
  subject: string | null;
  createdAt: string;
  deleted: boolean;
}

export interface Lineage {
  focus: number;
  nodes: LineageNode[];
  /** parent → child, with how the child came from the parent (and the converter, for a conversion). */
  edges: { from: number; to: number; kind: string; converter?: string }[];
  /** The walk stopped at the node limit. */
  truncated: boolean;
}

/**
 * An example of a version: an inference request (Open Inference Protocol JSON) and the answer the
 * version gave, replayed later against another version as a regression check.
 */
export interface VersionExample {
  name: string;
  request: { inputs: unknown[]; outputs?: unknown[]; parameters?: unknown };
  response: { outputs: unknown[]; [key: string]: unknown };
  createdAt: string;
  createdBy: string;
}
