/**
 * Datasets for evaluation. A dataset is registered from a folder or file; its manifest (every sample,
 * its label and split, and every file's SHA-256) is stored as a content-addressed object, so an
 * evaluation names exactly what it ran on.
 */

/**
 * image-folder: class_name/*.jpg|png (optionally under train/val/test); table: CSV or JSONL; arrays: .npz or a pair of .npy;
 * detection: images with boxes, from COCO instances JSON, YOLO data.yaml or Pascal VOC.
 */
export type DatasetKind = 'image-folder' | 'table' | 'arrays' | 'detection';

/** [x, y, w, h] in pixels from the image's top-left corner (COCO's convention, whatever the source format). */
export type BoxXYWH = [number, number, number, number];

/** A ground-truth box of a detection dataset. */
export interface DetectionBox {
  /** The annotation's id: COCO's own; for YOLO and VOC, 1, 2, … in image then file order. Never 0 (pycocotools treats 0 as unmatched). */
  id: number;
  /** Index into manifest.classes. */
  label: number;
  bbox: BoxXYWH;
  /** COCO's `area` (the segment's area, which decides small/medium/large); w·h for YOLO and VOC. */
  area: number;
  /** COCO crowd region: matched by intersection over the detection's area, never a false negative. */
  iscrowd?: true;
  /** Pascal VOC `difficult`: ignored by VOC AP (neither matched nor missed); COCO metrics count it as an ordinary box. */
  difficult?: true;
}

export interface DatasetSample {
  /** Stable within the dataset: the image's relative path, or "file#row". */
  id: string;
  /** The file holding the sample, relative to the dataset root ('/'-separated). */
  file: string;
  /** Row (table) or first-axis index (arrays); absent for images. */
  row?: number;
  /** Index into manifest.classes; -1 for a detection image (its classes are on its boxes). */
  label: number;
  split: string | null;
  /** Detection only: the image's id (COCO's own; 1, 2, … in path order for YOLO and VOC), its size and its boxes. */
  image?: { id: number; width: number; height: number };
  boxes?: DetectionBox[];
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
  /**
   * Detection: where it came from and how predictions name classes. `categoryIds[i]` is the
   * category_id of class i in COCO results (COCO's own ids; the class index for YOLO and VOC).
   * `imagesMissing` when a COCO file registered without its images (metrics need only boxes).
   * A detection sample's `file` is its image relative to the images folder: the record's
   * `details.imagesDir` (absolute; COCO's --images), which for YOLO and VOC is the root. The
   * COCO annotations file is in `files` under its base name; the record's root is that file.
   */
  detection?: { source: 'coco' | 'yolo' | 'voc'; categoryIds: number[]; imagesMissing?: boolean };
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
