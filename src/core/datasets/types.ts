/**
 * Datasets for evaluation. The records and manifests live with their table in the registry
 * (registry/datasetTypes.ts); what only evaluation needs is here.
 */
export type {
  BoxXYWH,
  DatasetFile,
  DatasetKind,
  DatasetManifest,
  DatasetRecord,
  DatasetSample,
  DetectionBox,
} from '../registry/datasetTypes';

/** How to turn an image into the model's input; from the version's config.json ("preprocessing") or defaults. */
export interface ImagePreprocess {
  /** [height, width] the model takes; images are resized (bilinear) to it. */
  size: [number, number];
  /** Multiplier applied first (1/255 turns bytes into 0..1). */
  scale: number;
  mean: [number, number, number];
  std: [number, number, number];
  channelOrder: 'RGB' | 'BGR';
  layout: 'NCHW' | 'NHWC';
  /** Resize keeping the aspect ratio and pad the rest (Ultralytics' letterbox) instead of stretching to size. */
  letterbox?: boolean;
}
