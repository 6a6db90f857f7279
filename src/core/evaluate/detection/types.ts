/**
 * Detection evaluation: what goes in (ground truth per image, predictions per image) and what comes
 * out (metrics, per-class rows, confusion with background, PR curves, and every box's outcome).
 * Boxes are [x, y, w, h] in pixels, class labels are indices into the dataset's classes.
 */
import type { BoxXYWH, DetectionBox } from '../../registry/datasetTypes';
import type { ImageOutcomes } from '../../registry/evaluationTypes';

export type { BoxXYWH, DetectionBox };
// Stored with the evaluation, so declared with its table (registry/evaluationTypes.ts).
export type {
  FalsePositiveReason,
  ImageOutcomes,
  PredictedBox,
  PredictionOutcome,
  TruthOutcome,
} from '../../registry/evaluationTypes';

/** One image to evaluate: its ground truth from the manifest. */
export interface DetectionImage {
  imageId: number;
  sampleId: string;
  width: number;
  height: number;
  truths: DetectionBox[];
}

/** Per class, at the chosen confidence and IoU 0.5 for the counts; AP and AP50 as COCO computes them (null without ground truth). */
export interface DetectionClassMetrics {
  class: string;
  /** Ground-truth boxes (crowd excluded). */
  support: number;
  AP: number | null;
  AP50: number | null;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  tp: number;
  fp: number;
  fn: number;
}

/** A PR curve at IoU 0.5 (COCO's interpolated precision at 101 recall points; null where undefined). */
export interface PrCurve {
  class: string;
  recall: number[];
  precision: (number | null)[];
}

export interface DetectionSummary {
  /**
   * COCO's 12 stats (AP AP50 AP75 APs APm APl AR1 AR10 AR100 ARs ARm ARl; null where pycocotools
   * gives −1), VOC07_AP50 (11-point) and VOC_AP50 (all-point), mAP50 and mAP50-95 (Ultralytics),
   * precision, recall, F1 at `confidence` and IoU 0.5, bestF1 and bestF1Confidence.
   */
  metrics: Record<string, number | null>;
  perClass: DetectionClassMetrics[];
  /** (K+1)×(K+1) at IoU 0.5 and `confidence`: confusion[truth][predicted]; index K is background (row: invented objects, column: missed objects). */
  confusion: number[][];
  prCurves: PrCurve[];
  images: ImageOutcomes[];
  /** The confidence and IoU the counts were taken at. */
  confidence: number;
  iou: number;
}
