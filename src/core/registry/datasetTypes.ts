/**
 * Datasets for evaluation. A dataset is registered from a folder or file; its manifest (every sample,
 * its label and split, and every file's SHA-256) is stored as a content-addressed object, so an
 * evaluation names exactly what it ran on.
 */

/** image-folder: class_name/*.jpg|png (optionally under train/val/test); table: CSV or JSONL; arrays: .npz or a pair of .npy */
export type DatasetKind = 'image-folder' | 'table' | 'arrays';

export interface DatasetSample {
  /** Stable within the dataset: the image's relative path, or "file#row". */
  id: string;
  /** The file holding the sample, relative to the dataset root ('/'-separated). */
  file: string;
  /** Row (table) or first-axis index (arrays); absent for images. */
  row?: number;
  /** Index into manifest.classes. */
  label: number;
  split: string | null;
}

export interface DatasetFile {
  path: string;
  sha256: string;
  size: number;
}

export interface DatasetManifest {
  format: 'modelreg-dataset';
  formatVersion: 1;
  kind: DatasetKind;
  /** Class names; a sample's label is an index into this list. Sorted, except when the source orders them (numeric labels 0..n-1). */
  classes: string[];
  /** Split names present (train, val, test…), empty when the dataset has no splits. */
  splits: string[];
  samples: DatasetSample[];
  /** Every file the samples come from, with its hash. */
  files: DatasetFile[];
  /** table: the columns used; arrays: the array names used. */
  table?: { labelColumn: string; featureColumns: string[]; textColumn?: string; splitColumn?: string };
  arrays?: { inputs: string; labels: string; shape: number[]; dtype: string };
}

export interface DatasetRecord {
  id: number;
  name: string;
  kind: DatasetKind;
  /** Absolute path it was registered from; samples are read from here. */
  root: string;
  manifestSha256: string;
  sampleCount: number;
  classes: string[];
  splits: string[];
  createdAt: string;
  details: Record<string, unknown>;
}
