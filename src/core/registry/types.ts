import { TensorSpec } from '../inspect/types';
import { GitProvenance } from '../git/provenance';

export type VersionStatus = 'importing' | 'ready' | 'failed';

export interface ModelSummary {
  id: number;
  name: string;
  description: string;
  task: string | null;
  tags: string[];
  versionCount: number;
  latestVersion: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface VersionSource {
  /** training-output | template | container-image | object-storage | clone | conversion */
  kind: string;
  uri: string;
}

export interface Signature {
  inputs?: TensorSpec[];
  outputs?: TensorSpec[];
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
  params: Record<string, unknown>;
  signature: Signature;
  details: Record<string, unknown>;
  /** The config.json the version was imported with (verbatim) and the template it follows. */
  config: ModelConfig | null;
  description: string;
  tags: string[];
}

export interface ModelConfig {
  text: string;
  templateId: string | null;
}

export type FileRole = 'weights' | 'config' | 'metrics' | 'params' | 'other';

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
