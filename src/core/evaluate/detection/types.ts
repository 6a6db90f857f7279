/**
 * Detection evaluation: what goes in (ground truth per image, predictions per image) and what comes
 * out (metrics, per-class rows, confusion with background, PR curves, and every box's outcome).
 * Boxes are [x, y, w, h] in pixels, class labels are indices into the dataset's classes.
 */
import type { BoxXYWH, DetectionBox } from '../../registry/datasetTypes';

export type { BoxXYWH, DetectionBox };

/** One image to evaluate: its ground truth from the manifest. */
export interface DetectionImage {
  imageId: number;
  sampleId: string;
  width: number;
  height: number;
  truths: DetectionBox[];
}

/** One predicted box. `id` is its index among the image's predictions (0, 1, …), as the model or the results file gave them. */
export interface PredictedBox {
  id: number;
  label: number;
  bbox: BoxXYWH;
  score: number;
}

/** Why a false positive is one, at IoU 0.5 (the order in which they are tried). */
export type FalsePositiveReason =
  /** overlaps a ground truth of its class by ≥ 0.5 that a more confident prediction already matched */
  | 'duplicate'
  /** overlaps a ground truth of another class by ≥ 0.5 */
  | 'wrong-class'
  /** overlaps a ground truth of its class by 0.1 ≤ IoU < 0.5 */
  | 'localisation'
  /** overlaps nothing (IoU < 0.1 with every ground truth) */
  | 'background';

/**
 * A prediction's outcome at IoU 0.5, matched per class greedily by score as COCO matches (all
 * predictions, no confidence cut). Because matching is greedy by score, raising the confidence
 * threshold to c never changes the outcome of a prediction scoring ≥ c: the panel's slider
 * re-classifies by dropping predictions below c and turning their matched truths into misses.
 * 'ignored': matched a crowd region or a VOC difficult box.
 */
export interface PredictionOutcome extends PredictedBox {
  outcome: 'tp' | 'fp' | 'ignored';
  reason?: FalsePositiveReason;
  /** The ground truth it matched (tp, ignored) or overlaps most (fp other than background). */
  truthId?: number;
  iou?: number;
}

/** A ground truth's outcome at IoU 0.5; `score` is the matching prediction's, so it is missed at any confidence above that. */
export interface TruthOutcome extends DetectionBox {
  outcome: 'matched' | 'fn' | 'ignored';
  predictionId?: number;
  iou?: number;
  score?: number;
}

export interface ImageOutcomes {
  imageId: number;
  sampleId: string;
  predictions: PredictionOutcome[];
  truths: TruthOutcome[];
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
